"""Reads for the public site. Every function returns only live content.

Each listing loads its related rows up front, so a page costs the same number of
queries whether it shows three articles or fifty.
"""

import re

from django.db.models import OuterRef, Prefetch, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Greatest

from .models import Article, Category, Page, Tag


def _article_cards(*, body: bool = False):
    """Live articles, newest first, with the rows a card shows joined in. Not the
    search vector, which no page reads back (search filters on it in SQL), nor, unless
    asked, the body, which cards do not show: on PostgreSQL the two are most of a
    row's bytes."""
    return (
        Article.objects.live()
        .select_related("author", "category", "hero_image")
        .defer(*(("search_vector",) if body else ("search_vector", "body")))
        .order_by("-publish_at", "-pk")
    )


def _with_tags(articles):
    return articles.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


def article_list():
    """Live articles for listings that show tags (one extra query for all of them)."""
    return _with_tags(_article_cards())


def featured_articles(*, limit: int = 3):
    return _article_cards().filter(featured=True)[:limit]


def latest_articles(*, limit: int = 10, exclude_ids=()):
    return _article_cards().exclude(pk__in=list(exclude_ids))[:limit]


def article_detail_queryset():
    """One article's page (or API item): the body, its tags and its downloads."""
    return _with_tags(_article_cards(body=True)).prefetch_related("attachments")


def search_articles():
    """Live articles as search results need them: the body, for the snippet; no tags
    (results do not show them)."""
    return _article_cards(body=True)


def search_pages():
    """Pages a visitor can reach (the sitemap's and the API's rule), for search."""
    return (
        Page.objects.reachable()
        .select_related("parent")
        .only(
            "title", "slug", "body", "parent_id", "parent__slug", "parent__parent_id", "publish_at"
        )
    )


def navigation_pages():
    """Top-level live pages chosen for the navigation, in the editors' order."""
    return (
        Page.objects.live()
        .filter(parent__isnull=True, show_in_menus=True)
        .only("title", "slug", "parent_id")
    )


def page_by_path(path: str) -> Page | None:
    """The live page at ``about/team``-style ``path``, or None.

    One query: fetch every live page whose slug appears in the path, then walk the
    chain from the top. A page under a non-live parent is not reachable.
    """
    slugs = [part for part in path.strip("/").split("/") if part]
    if not slugs or len(slugs) > Page.MAX_DEPTH:
        return None
    candidates = {
        (page.parent_id, page.slug): page
        for page in Page.objects.live().filter(slug__in=set(slugs))
    }
    # Only the page shown lists its downloads; fetch them for it alone.
    page = None
    for slug in slugs:
        child = candidates.get((page.pk if page else None, slug))
        if child is None:
            return None
        child.parent = page  # cache the walk so get_absolute_url costs no queries
        page = child
    prefetch_related_objects([page], "attachments")
    return page


# -- the sitemap -------------------------------------------------------------------


def sitemap_articles():
    """Live articles with only what a sitemap entry needs, newest first."""
    return Article.objects.live().only("slug", "updated_at").order_by("-publish_at", "-pk")


def _listing_changes():
    """Live articles by when a listing of them last changed: an edit, or a go-live."""
    return (
        Article.objects.live()
        .annotate(changed=Greatest("updated_at", "publish_at"))
        .order_by("-changed")
        .values("changed")
    )


def newest_listing_change():
    """When any article listing last changed (None with nothing live)."""
    return _listing_changes().values_list("changed", flat=True).first()


def categories_with_live_articles() -> list[Category]:
    """Categories with something live in them, each with ``lastmod``: when its newest
    article changed or went live. One query (a list, so a paginator counts it for free)."""
    newest = _listing_changes().filter(category=OuterRef("pk"))[:1]
    return list(
        Category.objects.annotate(lastmod=Subquery(newest))
        .filter(lastmod__isnull=False)
        .only("slug")
        .order_by("name")
    )


def reachable_pages() -> list[Page]:
    """Live pages whose parents are all live (``Page.objects.reachable()``), each with
    its parent attached so that its address costs no further query (one query)."""
    pages = list(
        Page.objects.reachable().order_by("menu_order", "title", "pk").defer("search_vector")
    )
    by_id = {page.pk: page for page in pages}
    for page in pages:
        if page.parent_id is not None:
            page.parent = by_id[page.parent_id]  # reachable, so in the list too
    return pages


# -- documents ------------------------------------------------------------------

# Where a body links a download: /documents/<pk>/<name> (any host in front of it), the
# shape document_address_prefix gives.
_DOCUMENT_LINK = re.compile(r"/documents/(\d+)/")


def image_is_public(image) -> bool:
    """Whether the public site shows ``image``: the hero of a live article, or in the body
    of a live article or reachable page (by its media-library id or its files' folder)."""
    in_body = Q(body__contains=f'data-file="{image.pk}"')
    if image.file:
        in_body |= Q(body__contains=f"{image.folder}/")
    return (
        Article.objects.live().filter(Q(hero_image=image) | in_body).exists()
        or Page.objects.reachable().filter(in_body).exists()
    )


def document_address_prefix(pk) -> str:
    """``/documents/<pk>/``: what every download address of a document starts with, on
    the site (from the URLconf, without a stage's script prefix; not get_absolute_url(),
    which needs the row and its file name)."""
    from django.urls import get_script_prefix, reverse

    address = reverse("sitecontent:document_download", kwargs={"pk": pk, "filename": "-"})
    return "/" + address[len(get_script_prefix()) : -len("-")]


def document_is_public(document) -> bool:
    """Whether the public site shows ``document``: attached to a live article or a
    reachable page, or linked from one's body. Downloads follow this (a document
    attached only to drafts is not published by having a sequential id)."""
    shown = Q(attachments=document) | Q(body__contains=document_address_prefix(document.pk))
    return (
        Article.objects.live().filter(shown).exists()
        or Page.objects.reachable().filter(shown).exists()
    )


def document_ids_shown_by(item) -> set[int]:
    """Documents an article or page shows: its attachments and those its body links."""
    ids = {int(pk) for pk in _DOCUMENT_LINK.findall(item.body or "")}
    if item.pk:
        ids.update(document.pk for document in item.attachments.all())  # prefetched or not
    return ids


def page_children(page: Page) -> list[Page]:
    children = list(Page.objects.live().filter(parent=page).only("title", "slug", "parent_id"))
    for child in children:
        child.parent = page  # their URLs build on the parent's path without a query each
    return children


# -- what a change touches -------------------------------------------------------
# The CDN paths showing an item: purged when it is saved, deleted, goes live or expires.
# Wildcards ("/articles/*") also cover paginated lists (?page=2) under them.

EVERY_PAGE = "/*"
# Lists every live item may appear in besides its own pages.
SITE_WIDE_LISTS = {"/sitemap.xml", "/search/*", "/api/*"}


def article_paths(*, slug: str, category_slug: str | None, tag_slugs=()) -> set[str]:
    paths = {"/", "/articles/*", f"/articles/{slug}/", "/feeds/*", *SITE_WIDE_LISTS}
    if category_slug:
        paths.add(f"/categories/{category_slug}/*")
    paths.update(f"/tags/{tag}/*" for tag in tag_slugs)
    return paths


def page_paths(*, url: str, in_navigation: bool) -> set[str]:
    # The navigation is on every page, so a page listed there touches them all.
    return {EVERY_PAGE} if in_navigation else {f"{url}*", *SITE_WIDE_LISTS}


def document_paths(ids) -> set[str]:
    """Download addresses of documents (each answers 404 once nothing live shows it)."""
    return {f"{document_address_prefix(pk)}*" for pk in ids}


def paths_for_item(item) -> set[str]:
    """Paths showing ``item`` (an Article, Page, Category or Tag) as it is now."""
    if isinstance(item, Article):
        return article_paths(
            slug=item.slug,
            category_slug=item.category.slug if item.category_id else None,
            tag_slugs=[t.slug for t in item.tags.all()] if item.pk else (),
        ) | document_paths(document_ids_shown_by(item))
    if isinstance(item, Page):
        return page_paths(
            url=item.get_absolute_url(),
            in_navigation=item.parent_id is None and item.show_in_menus,
        ) | document_paths(document_ids_shown_by(item))
    # Category and tag names appear on every article card and page that lists them.
    return {EVERY_PAGE}


def paths_showing(*, articles=None, pages=None) -> set[str]:
    """Paths showing any live item of ``articles`` / ``pages`` (querysets): what to
    purge when something they display (a byline, a hero image, a download) changes.
    Three queries for articles (tags and downloads prefetched), two for pages."""
    paths = set()
    if articles is not None:
        live = articles.live().select_related("category").prefetch_related("tags", "attachments")
        for article in live:
            paths |= paths_for_item(article)
    if pages is not None:
        for page in pages.live().select_related("parent").prefetch_related("attachments"):
            paths |= paths_for_item(page)
    return paths


def paths_showing_image(image) -> set[str]:
    """The live articles it is the hero image of (cards and article pages)."""
    return paths_showing(articles=Article.objects.filter(hero_image=image))


def paths_showing_document(document) -> set[str]:
    """Its download address and the live articles and pages listing it."""
    return {
        *document_paths([document.pk]),
        *paths_showing(
            articles=Article.objects.filter(attachments=document),
            pages=Page.objects.filter(attachments=document),
        ),
    }


def upcoming_changes(*, days: int = 7, now=None, limit: int = 25) -> list[dict]:
    """What goes live, expires or has scheduled changes in the next ``days`` (admin)."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import Revision

    now = now or timezone.now()
    until = now + timedelta(days=days)
    events = []
    for model in (Article, Page):
        published = model.objects.filter(is_published=True)
        for item in published.filter(publish_at__gt=now, publish_at__lte=until):
            events.append({"at": item.publish_at, "what": "goes live", "item": item})
        for item in published.filter(unpublish_at__gt=now, unpublish_at__lte=until):
            events.append({"at": item.unpublish_at, "what": "expires", "item": item})
    for revision in Revision.objects.drafts().filter(go_live_at__gt=now, go_live_at__lte=until):
        events.append({"at": revision.go_live_at, "what": "changes go live", "item": revision.item})
    events.sort(key=lambda event: event["at"])
    return events[:limit]


def next_scheduled_change(*, now=None):
    """The soonest future moment when any public page's content changes by itself: a
    go-live, an expiry or scheduled changes. One query; None when nothing is scheduled."""
    from django.db.models import F
    from django.utils import timezone

    from .models import Revision

    now = now or timezone.now()

    def times(queryset, field):
        return (
            queryset.filter(**{f"{field}__gt": now})
            .order_by()
            .annotate(moment=F(field))
            .values_list("moment", flat=True)
        )

    parts = [
        times(model.objects.filter(is_published=True), field)
        for model in (Article, Page)
        for field in ("publish_at", "unpublish_at")
    ]
    parts.append(times(Revision.objects.drafts(), "go_live_at"))
    return parts[0].union(*parts[1:], all=True).order_by("moment").first()
