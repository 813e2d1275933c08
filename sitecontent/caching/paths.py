"""The CDN paths a change touches: which cached addresses show an item, an image or
a document, so a save purges exactly those (and the site-wide lists that include them).
Purged when an item is saved, deleted, goes live or expires. Wildcards ("/articles/*",
"/tags/<slug>/*") also cover what lies under them: paginated lists (?page=2) and an
archive's RSS and Atom feeds.
"""

from django.core.files.storage import default_storage

from sitecontent.media.selectors import document_ids_shown_by
from sitecontent.models import Article, Page
from sitecontent.models.visibility import document_address_prefix

EVERY_PAGE = "/*"


# Lists every live item may appear in besides its own pages.
SITE_WIDE_LISTS = {"/sitemap.xml", "/search/*", "/api/*"}


def article_paths(*, slug: str, category_slug: str | None, tag_slugs=()) -> set[str]:
    paths = {"/", "/articles/*", f"/articles/{slug}/", "/feeds/*", *SITE_WIDE_LISTS}
    if category_slug:
        paths.add(f"/categories/{category_slug}/*")
    paths.update(f"/tags/{tag}/*" for tag in tag_slugs)
    return paths


def page_paths(*, url: str, in_navigation: bool, parent_url: str | None = None) -> set[str]:
    # The navigation is on every page, so a page listed there touches them all. A page
    # below the top is listed on its parent's page ("In this section"): a new title, a
    # new place in the order, or a move in or out of it changes that page too.
    if in_navigation:
        return {EVERY_PAGE}
    return {f"{url}*", *SITE_WIDE_LISTS, *([parent_url] if parent_url else [])}


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
        url = item.get_absolute_url()
        return page_paths(
            url=url,
            in_navigation=item.parent_id is None and item.show_in_menus,
            # The parent's address is this one less its last part: no query for it.
            parent_url=url[: -len(item.slug) - 1] if item.parent_id else None,
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


def media_paths(names) -> set[str]:
    """CDN paths of stored files: their folder, which holds their renditions too."""
    from urllib.parse import urlsplit

    folders = {name.rsplit("/", 1)[0] for name in names if "/" in name}
    return {urlsplit(default_storage.url(f"{folder}/")).path + "*" for folder in folders}
