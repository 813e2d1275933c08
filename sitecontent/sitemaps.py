"""sitemap.xml: live articles and pages with their last change, categories and lists."""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils.functional import cached_property

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


def _listing_changes():
    """Live articles by when a listing of them last changed: an edit, or a go-live."""
    return (
        Article.objects.live()
        .annotate(changed=Greatest("updated_at", "publish_at"))
        .order_by("-changed")
        .values("changed")
    )


class CategorySitemap(Sitemap):
    """Categories with something live in them (an empty archive is not worth a crawl),
    last modified when their newest article changed or went live."""

    changefreq = "daily"
    priority = 0.5

    def items(self):
        newest = _listing_changes().filter(category=OuterRef("pk"))[:1]
        # A list, not a queryset: the paginator then counts it without a second query.
        return list(
            Category.objects.annotate(lastmod=Subquery(newest))
            .filter(lastmod__isnull=False)
            .only("slug")
            .order_by("name")
        )

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
        return _listing_changes().values_list("changed", flat=True).first()

    def lastmod(self, item):
        return self.newest_change


SITEMAPS = {
    "lists": ListSitemap,
    "articles": ArticleSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
}


def sitemap(request):
    """/sitemap.xml (routed by sitecontent.urls)."""
    return sitemap_view(request, sitemaps=SITEMAPS)
