"""The page cache in each warm process: a repeated public request costs one query, and
it is exact: a write through any process, or the time of a scheduled change, is seen by
the very next request, as if there were no cache."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sitecontent.models import Article, ContentVersion
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 600


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Writes whose on-commit work runs, as outside a test's transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def get(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, len(queries)


@pytest.mark.parametrize(
    "url", ["/", "/articles/", "/articles/a/", "/feeds/rss/", "/api/v1/articles/"]
)
def test_a_repeated_public_request_is_answered_from_memory_with_one_query(client, url):
    ArticleFactory(slug="a")
    first, rendering = get(client, url)
    again, cached = get(client, url)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again["Cache-Control"] == first["Cache-Control"]
    assert again["ETag"] == first["ETag"]
    assert cached == 1 < rendering  # the content version, nothing else


def test_an_edit_is_seen_at_the_next_request(client, commits):
    article = ArticleFactory(slug="a", title="Before")
    get(client, "/articles/a/")
    with commits():
        article.title = "After"
        article.save()
    assert b"After" in client.get("/articles/a/").content


def test_a_change_committed_by_another_process_is_seen_too(client):
    """Another Lambda container's write: its rows and its raised version, and nothing in
    this process's memory."""
    article = ArticleFactory(slug="a", title="Before")
    get(client, "/articles/a/")
    Article.objects.filter(pk=article.pk).update(title="After")
    ContentVersion.objects.update(number=F("number") + 1, next_change_known=False)
    assert b"After" in client.get("/articles/a/").content


@time_machine.travel(NOW, tick=False)
def test_a_scheduled_article_appears_at_its_minute(client, commits):
    with commits():
        ArticleFactory(slug="soon", title="Scheduled story", publish_at=NOW + timedelta(minutes=2))
    home, _ = get(client, "/")
    assert b"Scheduled story" not in home.content
    with time_machine.travel(NOW + timedelta(seconds=119), tick=False):
        before, queries = get(client, "/")
        assert queries == 1
        assert b"Scheduled story" not in before.content
        assert "s-maxage=1," in before["Cache-Control"]  # told afresh, not as first cached
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        assert b"Scheduled story" in client.get("/").content


@time_machine.travel(NOW, tick=False)
def test_scheduling_an_unseen_item_still_counts(client, commits):
    """A draft given a go-live time changes no page now, but cached pages must not
    outlive its minute."""
    get(client, "/")
    with commits():
        ArticleFactory(slug="later", title="Later story", publish_at=NOW + timedelta(minutes=5))
    assert "s-maxage=300," in client.get("/")["Cache-Control"]
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        assert b"Later story" in client.get("/").content


def test_signed_in_visitors_admin_and_previews_are_never_served_from_memory(client):
    ArticleFactory(slug="a")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ["/", "/admin/"]:
        get(client, url)
        _, queries = get(client, url)
        assert queries > 1, url


def test_only_successful_gets_are_kept(client):
    ArticleFactory(slug="a")
    for _ in range(2):
        _, queries = get(client, "/articles/missing/")
    assert queries > 1
    client.post("/search/", {"q": "x"})
    _, queries = get(client, "/search/?q=x")
    assert queries > 1  # its first GET


def test_query_strings_are_separate_pages(client):
    for n in range(12):
        ArticleFactory(slug=f"a{n}")
    first = client.get("/articles/")
    second = client.get("/articles/?page=2")
    assert first.content != second.content


def test_cors_headers_follow_the_request_not_the_cached_copy(client):
    ArticleFactory(slug="a")
    get(client, "/api/v1/articles/")
    again, queries = get(client, "/api/v1/articles/", HTTP_ORIGIN="https://app.example.org")
    assert queries == 1
    assert again["Access-Control-Allow-Origin"] == "*"


def test_it_is_off_with_debug_or_zero_seconds(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    ArticleFactory(slug="a")
    get(client, "/")
    _, queries = get(client, "/")
    assert queries > 1
