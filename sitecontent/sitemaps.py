"""sitemap.xml: live articles and pages with their last change, categories and lists."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from . import selectors
from .models import Category, Page


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return (
            selectors.article_list().prefetch_related(None).only("slug", "updated_at", "publish_at")
        )

    def lastmod(self, item):
        return item.updated_at


class PageSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6

    def items(self):
        # One query for all of them; addresses are built from the loaded parents.
        pages = list(Page.objects.live().only("slug", "parent_id", "updated_at"))
        by_id = {page.pk: page for page in pages}
        visible = []
        for page in pages:
            node, chain_is_live = page, True
            while node.parent_id is not None:
                parent = by_id.get(node.parent_id)
                if parent is None:  # under a page that is not live: not reachable
                    chain_is_live = False
                    break
                node.parent = parent
                node = parent
            if chain_is_live:
                visible.append(page)
        return visible

    def lastmod(self, item):
        return item.updated_at


class CategorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self):
        return Category.objects.only("slug")


class ListSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["sitecontent:home", "sitecontent:article_list"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "lists": ListSitemap,
    "articles": ArticleSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
}
