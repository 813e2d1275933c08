"""SQL compiled once per process (sitecontent.caching.compiled): every query the public
pages run that way gives what its plain queryset gives, at any time (go-live, expiry),
and whole pages come out byte for byte as they do without it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sitecontent.caching import compiled
from sitecontent.caching.compiled import FixedListing, FixedQuery
from sitecontent.models import Article, ContentVersion
from sitecontent.public import selectors
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def rows(items):
    """What a page can read of each item: its fields (deferred ones stay deferred) and
    the joined rows'."""

    def one(item):
        fields = {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}
        deferred = item.get_deferred_fields()
        fields = {k: v for k, v in fields.items() if k not in deferred}
        related = {
            name: (getattr(item, name).pk if getattr(item, name) else None)
            for name in ("author", "category", "hero_image")
            if hasattr(item, name) and f"{name}_id" not in deferred
        }
        return (type(item), item.pk, sorted(deferred), fields, related)

    return [one(item) for item in items]


@pytest.fixture
def schedule():
    """Articles and pages around NOW: live, going live in an hour, expiring in two,
    featured or not, with and without images and tags."""
    image = ImageFactory()
    tags = TagFactory.create_batch(2)
    category = CategoryFactory()
    for n in range(16):
        ArticleFactory(
            slug=f"a-{n}",
            publish_at=NOW
            - timedelta(hours=n)
            + (timedelta(hours=1) if n % 5 == 0 else timedelta()),
            unpublish_at=NOW + timedelta(hours=2) if n % 4 == 1 else None,
            featured=n % 3 == 0,
            hero_image=image if n % 2 else None,
            category=category if n % 3 else None,
            tags=tags[: n % 3],
        )
    ArticleFactory(slug="draft", is_published=False)
    PageFactory(slug="about", show_in_menus=True)
    PageFactory(slug="soon", show_in_menus=True, publish_at=NOW + timedelta(hours=1))
    PageFactory(slug="ending", show_in_menus=True, unpublish_at=NOW + timedelta(hours=2))
    PageFactory(slug="hidden", show_in_menus=False)


TIMES = [NOW, NOW + timedelta(minutes=90), NOW + timedelta(hours=3), NOW - timedelta(days=30)]


@pytest.mark.parametrize("at", TIMES, ids=["now", "after-go-live", "after-expiry", "before"])
def test_each_fixed_query_gives_what_its_plain_queryset_gives(schedule, at):
    featured, latest = selectors.home_articles(at)
    plain_featured = list(selectors.article_cards(at=at).filter(featured=True)[:3])
    plain_latest = list(
        selectors.article_cards(at=at).exclude(pk__in=[a.pk for a in plain_featured])[:9]
    )
    assert rows(featured) == rows(plain_featured)
    assert rows(latest) == rows(plain_latest)

    assert rows(selectors.navigation(at)) == rows(selectors.navigation_pages(at))

    listing, plain = selectors.article_listing(at), selectors.article_cards(at)
    with_tags = selectors.article_list(at)
    assert listing.count() == plain.count() == with_tags.count()
    for start, stop in [(0, 10), (10, 20), (3, 4), (0, 0), (40, 50)]:
        page, expected = listing[start:stop], list(plain[start:stop])
        assert rows(page) == rows(expected)
        # with_card_tags (one fixed query) gives what prefetching each one's tags gives
        assert [[t.pk for t in a.card_tags] for a in selectors.with_card_tags(page)] == [
            [t.pk for t in a.tags.all()] for a in with_tags[start:stop]
        ]

    for slug in ("a-1", "a-5", "a-9", "draft", "missing"):
        expected = selectors.article_detail_queryset(at).filter(slug=slug).first()
        found = selectors.live_article(slug, at)
        assert rows([found] if found else []) == rows([expected] if expected else [])


def test_the_content_version_read_follows_every_bump():
    ContentVersion.objects.filter(pk=ContentVersion.SINGLETON_ID).update(number=41)
    from sitecontent.caching.version import current_version

    assert current_version(NOW).number == 41
    ContentVersion.objects.filter(pk=ContentVersion.SINGLETON_ID).update(number=42)
    assert current_version(NOW).number == 42


def test_a_query_that_ignores_its_time_is_refused_not_answered_wrongly():
    ignores_time = FixedQuery(lambda at: Article.objects.filter(is_published=True))
    with pytest.raises(ValueError, match="each of its values"):
        ignores_time(NOW)
    ignores_slug = FixedQuery(lambda at, slug: Article.objects.live(at), texts=("slug",))
    with pytest.raises(ValueError, match="each of its values"):
        ignores_slug(NOW, slug="a")
    takes_slug = FixedQuery(
        lambda at, slug: Article.objects.live(at).filter(slug=slug), texts=("slug",)
    )
    with pytest.raises(TypeError):
        takes_slug(NOW, slug=1)


def test_an_id_list_is_bound_as_parameters_whatever_its_length(schedule):
    by_ids = FixedQuery(
        lambda ids: Article.objects.filter(pk__in=ids).order_by("pk"), timed=False, ids=True
    )
    every = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    for ids in ([every[0]], every[:3], every[2:9], every, [every[1], every[1]], [10**9]):
        expected = [a.pk for a in Article.objects.filter(pk__in=ids).order_by("pk")]
        assert [a.pk for a in by_ids(ids=ids)] == expected
    assert by_ids(ids=[]) == []
    assert len(by_ids._compiled) == len({1, 3, 7, len(every), 2})  # once per length
    with pytest.raises(TypeError):
        by_ids(ids=["1 OR 1=1"])
    with pytest.raises(TypeError):
        FixedQuery(lambda at: Article.objects.live(at))(NOW, ids=[1])
    ignores_ids = FixedQuery(lambda ids: Article.objects.all(), timed=False, ids=True)
    with pytest.raises(ValueError, match="each of its values"):
        ignores_ids(ids=[1, 2])


def test_an_empty_slice_or_listing_is_no_rows():
    listing = FixedListing(selectors.article_list).at(NOW)
    assert listing.count() == 0
    assert listing[0:0] == []
    assert listing[0:10] == []


def test_a_slug_is_a_parameter_not_sql(schedule):
    hostile = "a-1' OR '1'='1"
    assert selectors.live_article(hostile, NOW) is None
    assert selectors.live_article("a-1", NOW).slug == "a-1"


def compiles_and_queries(client, url):
    calls = []
    original = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        calls.append(self.query.model)
        return original(self, *args, **kwargs)

    SQLCompiler.as_sql = counted
    try:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
    finally:
        SQLCompiler.as_sql = original
    return len(calls), len(queries)


@pytest.mark.parametrize(
    ("url", "compiled_each_time"),
    [
        ("/", 0),  # every query fixed: the version, featured, newest, navigation
        ("/articles/", 0),  # the page's tags too: compiled once per number of cards
        ("/articles/a-1/", 2),  # the article's tags and downloads
    ],
)
def test_pages_compile_only_the_queries_whose_sql_varies(client, schedule, url, compiled_each_time):
    client.get(url)  # the first request in a process compiles everything
    compiles, queries = compiles_and_queries(client, url)
    assert compiles == compiled_each_time
    assert queries > compiles


@pytest.fixture
def plain(monkeypatch):
    """The site as it is without compiled queries: each FixedQuery builds and
    compiles its queryset on every call."""

    def run(self, at=None, *, using="default", ids=None, **texts):
        args = (at,) if self.timed else ()
        if self.ids:
            texts["ids"] = list(ids)
        return list(self.build(*args, **texts).using(using))

    return lambda: monkeypatch.setattr(compiled.FixedQuery, "__call__", run)


@pytest.mark.parametrize(
    "url", ["/", "/articles/", "/articles/?page=2", "/articles/a-1/", "/articles/a-2/", "/about/"]
)
def test_pages_render_byte_for_byte_as_with_plain_querysets(client, schedule, plain, url):
    fast = client.get(url)
    plain()
    slow = client.get(url)
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert fast["Cache-Control"] == slow["Cache-Control"]
