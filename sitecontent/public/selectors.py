"""Reads for the public site. Every function returns only live content.

Each listing loads its related rows up front, so a page costs the same number of
queries whether it shows three articles or fifty.
"""

from django.db.models import F, OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.db.models.functions import Greatest
from django.utils import timezone

from sitecontent.caching.compiled import FixedListing, FixedQuery
from sitecontent.models import Article, Category, Page, Tag


def _article_cards(*, body: bool = False, at=None):
    """Live articles, newest first, with the rows a card shows joined in. Not the
    search vector, which no page reads back (search filters on it in SQL), nor, unless
    asked, the body, which cards do not show: on PostgreSQL the two are most of a
    row's bytes."""
    return (
        Article.objects.live(at)
        .select_related("author", "category", "hero_image")
        .defer(*(("search_vector",) if body else ("search_vector", "body")))
        .order_by("-publish_at", "-pk")
    )


def _with_tags(articles):
    return articles.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))


def article_list(at=None):
    """Live articles for listings that show tags (one extra query for all of them)."""
    return _with_tags(_article_cards(at=at))


# What a card shows (templates/sitecontent/includes/cards.jinja) and nothing else: the
# fewer columns, the less Django converts and sets per row (a listing page is forty
# instances). Authors' password hashes and e-mail addresses never reach a public page.
_CARD_FIELDS = (
    "title",
    "slug",
    "summary",
    "publish_at",
    "featured",
    "author__display_name",
    "author__first_name",
    "author__last_name",
    "category__name",
    "category__slug",
    "hero_image__file",
    "hero_image__alt_text",
    "hero_image__width",
    "hero_image__height",
    "hero_image__renditions",
    "hero_image__crops",
)


def article_cards(at=None):
    """Live articles as cards show them, without their tags: a page of them gets its
    tags from ``with_card_tags``."""
    return _article_cards(at=at).only(*_CARD_FIELDS)


def with_card_tags(articles) -> list[Article]:
    """``articles`` (a page of cards) with ``card_tags``: each one's tags by name, all
    of them read in one query.

    What ``prefetch_related("tags")`` gives, without the related manager and queryset
    Django's prefetch builds for each article: on the article list those were a fifth
    of the page's time. The tags are for showing (name, slug and address), not saving.
    """
    articles = list(articles)
    by_id = {article.pk: article for article in articles}
    for article in articles:
        article.card_tags = []
    if not by_id:
        return articles
    for tag in _card_tags(ids=list(by_id)):
        by_id[tag.card_of].card_tags.append(tag)
    return articles


# Its SQL compiled once per number of cards: compiling it took longer than running it.
_card_tags = FixedQuery(
    lambda ids: (
        Tag.objects.filter(articles__in=ids)
        .annotate(card_of=F("articles"))
        .only("name", "slug")
        .order_by("name", "pk")
    ),
    timed=False,
    ids=True,
)


_article_listing = FixedListing(article_cards)


def article_listing(at=None):
    """``article_cards()`` as the article list's paginator reads it (a count, a page),
    from SQL compiled once per process (sitecontent.caching.compiled)."""
    return _article_listing.at(at or timezone.now())


def featured_articles(*, limit: int = 3):
    return _article_cards().filter(featured=True)[:limit]


def latest_articles(*, limit: int = 10, exclude_ids=()):
    return _article_cards().exclude(pk__in=list(exclude_ids))[:limit]


_FEATURED = 3
_LATEST = 9
_featured_cards = FixedQuery(lambda at: article_cards(at=at).filter(featured=True)[:_FEATURED])
# The newest _FEATURED + _LATEST hold the _LATEST newest that are not among the featured
# few, whichever those are: one fixed query instead of an exclude() of varying ids.
_newest_cards = FixedQuery(lambda at: article_cards(at=at)[: _FEATURED + _LATEST])


def home_articles(at=None) -> tuple[list[Article], list[Article]]:
    """The home page's featured articles and the latest of the rest: what
    ``featured_articles(limit=3)`` and ``latest_articles(limit=9, exclude_ids=…)`` give,
    from two queries compiled once per process (sitecontent.caching.compiled)."""
    at = at or timezone.now()
    featured = _featured_cards(at)
    shown = {article.pk for article in featured}
    latest = [article for article in _newest_cards(at) if article.pk not in shown][:_LATEST]
    return featured, latest


def article_detail_queryset(at=None):
    """One article's page (or API item): the body, its tags and its downloads."""
    return _with_tags(_article_cards(body=True, at=at)).prefetch_related("attachments")


_live_article = FixedQuery(
    lambda at, slug: article_detail_queryset(at).filter(slug=slug)[:1], texts=("slug",)
)


def live_article(slug: str, at=None) -> Article | None:
    """The live article at ``slug`` for its page, or None: ``article_detail_queryset()``
    filtered by the slug (unique), from SQL compiled once per process."""
    found = _live_article(at or timezone.now(), slug=slug)
    return found[0] if found else None


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


def navigation_pages(at=None):
    """Top-level live pages chosen for the navigation, in the editors' order."""
    return (
        Page.objects.live(at)
        .filter(parent__isnull=True, show_in_menus=True)
        .only("title", "slug", "parent_id")
    )


_navigation = FixedQuery(navigation_pages)


def navigation(at=None) -> list[Page]:
    """``navigation_pages()`` as a list, from SQL compiled once per process."""
    return _navigation(at or timezone.now())


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


def page_children(page: Page) -> list[Page]:
    children = list(Page.objects.live().filter(parent=page).only("title", "slug", "parent_id"))
    for child in children:
        child.parent = page  # their URLs build on the parent's path without a query each
    return children
