"""sitemap.xml: live articles and pages with their last change, categories and lists."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from . import selectors
from .models import Article, Category


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return Article.objects.live().only("slug", "updated_at").order_by("-publish_at", "-pk")

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
