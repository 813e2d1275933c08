"""sitemap.xml: live articles and pages with their last change, categories and lists."""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.urls import reverse
from django.utils.functional import cached_property

from sitecontent.public import selectors


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return selectors.sitemap_articles()

    def lastmod(self, item):
        return item.updated_at


class PageSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6

    def items(self):
        return selectors.reachable_pages()

    def lastmod(self, item):
        return item.updated_at


class CategorySitemap(Sitemap):
    """Categories with something live in them (an empty archive is not worth a crawl),
    last modified when their newest article changed or went live."""

    changefreq = "daily"
    priority = 0.5

    def items(self):
        return selectors.categories_with_live_articles()

    def lastmod(self, item):
        return item.lastmod


class ListSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["sitecontent:home", "sitecontent:article_list"]

    def location(self, item):
        return reverse(item)

    @cached_property
    def newest_change(self):
        return selectors.newest_listing_change()

    def lastmod(self, item):
        return self.newest_change


SITEMAPS = {
    "lists": ListSitemap,
    "articles": ArticleSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
}


def sitemap(request):
    """/sitemap.xml (routed by sitecontent.public.urls)."""
    return sitemap_view(request, sitemaps=SITEMAPS)
