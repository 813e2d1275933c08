"""What the CDN and browsers are told: how long to keep each response, never past the
next scheduled change, and never for admin, preview or signed-in responses; 304s."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sitecontent.publishing import previews as preview
from sitecontent.publishing import revisions
from tests.factories import ArticleFactory, PageFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def directives(response) -> dict:
    parts = [part.strip() for part in response["Cache-Control"].split(",")]
    return {k: (int(v) if v.isdigit() else v) for k, _, v in (p.partition("=") for p in parts)}


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/articles/",
        "/articles/a/",
        "/feeds/rss/",
        "/feeds/atom/",
        "/sitemap.xml",
        "/robots.txt",
        "/search/?q=news",
        "/about/",
    ],
)
def test_public_responses_are_cached_by_the_cdn_and_browsers(client, url):
    ArticleFactory(slug="a")
    PageFactory(slug="about")
    response = client.get(url)
    assert response.status_code == 200
    rules = directives(response)
    assert "public" in rules
    assert (rules["s-maxage"], rules["max-age"], rules["stale-while-revalidate"]) == (300, 60, 60)
    assert response["ETag"]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "scheduled",
    [
        lambda at: ArticleFactory(publish_at=at),
        lambda at: ArticleFactory(publish_at=NOW - timedelta(days=1), unpublish_at=at),
        lambda at: PageFactory(publish_at=at),
        lambda at: revisions.Revision.objects.filter(
            pk=revisions.revision_create(item=ArticleFactory(), user=None, applied=False).pk
        ).update(go_live_at=at),
    ],
    ids=["go-live", "expiry", "page-go-live", "scheduled-changes"],
)
def test_no_copy_outlives_the_next_scheduled_change(client, scheduled):
    scheduled(NOW + timedelta(seconds=90))
    for url in ("/", "/articles/", "/no-such-page/"):
        rules = directives(client.get(url))
        assert rules["s-maxage"] + rules["stale-while-revalidate"] <= 90, url
        assert rules["max-age"] <= 90, url


@time_machine.travel(NOW, tick=False)
def test_a_404_for_an_article_about_to_go_live_expires_with_it(client):
    article = ArticleFactory(publish_at=NOW + timedelta(seconds=45))
    response = client.get(article.get_absolute_url())
    assert response.status_code == 404
    rules = directives(response)
    assert rules["s-maxage"] + rules["stale-while-revalidate"] <= 45


def test_admin_preview_and_signed_in_responses_are_never_cached(client):
    article = ArticleFactory(is_published=False, publish_at=None)
    assert "no-store" in client.get("/admin/login/")["Cache-Control"]
    assert client.get(preview.preview_url(article))["Cache-Control"] == "private, no-store"
    client.force_login(UserFactory())
    signed_in = client.get("/articles/")
    assert signed_in["Cache-Control"] == "private, no-store"


def test_posts_and_errors_are_not_shared(client):
    response = client.post("/articles/")
    assert response.status_code == 405
    assert response["Cache-Control"] == "private, no-store"


def test_etag_gives_304_and_keeps_the_cache_headers(client):
    ArticleFactory()
    first = client.get("/articles/")
    again = client.get("/articles/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["Cache-Control"] == first["Cache-Control"]


def test_last_modified_gives_304_for_an_unchanged_article(client):
    article = ArticleFactory()
    first = client.get(article.get_absolute_url())
    assert first["Last-Modified"]
    again = Client().get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        article.title = "Changed"
        article.save()
        changed = Client().get(
            article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
        )
    assert changed.status_code == 200
    assert "Changed" in changed.content.decode()


def test_robots_txt_keeps_crawlers_out_of_every_address_no_shared_cache_keeps(client):
    from sitecontent.caching.middleware import NOT_SHARED_PREFIXES

    lines = client.get("/robots.txt").content.decode().splitlines()
    for prefix in NOT_SHARED_PREFIXES:
        assert f"Disallow: {prefix}" in lines
