"""The content API: what it serves, how it refuses bad input, and that it keeps to its
own OpenAPI document (schemathesis generates the requests)."""

from datetime import timedelta

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, settings

from sitecontent.api import schema as api_schema
from tests.factories import ArticleFactory, CategoryFactory, ImageFactory, PageFactory, TagFactory
from tests.lambda_fixtures import keep_test_connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def content():
    news, aws = CategoryFactory(slug="news", name="News"), TagFactory(slug="aws", name="AWS")
    image = ImageFactory()
    old = ArticleFactory(
        slug="old",
        category=news,
        tags=[aws],
        hero_image=image,
        publish_at=timezone.now() - timedelta(days=10),
    )
    new = ArticleFactory(slug="new", publish_at=timezone.now() - timedelta(hours=1))
    ArticleFactory(slug="draft", is_published=False, publish_at=None)
    ArticleFactory(slug="future", publish_at=timezone.now() + timedelta(days=1))
    about = PageFactory(slug="about")
    PageFactory(slug="team", parent=about)
    hidden = PageFactory(slug="hidden", is_published=False, publish_at=None)
    PageFactory(slug="under-hidden", parent=hidden)
    return {"old": old, "new": new, "image": image}


def test_articles_are_the_live_ones_newest_first_with_their_parts(client, content):
    body = client.get("/api/v1/articles/").json()
    assert [a["slug"] for a in body["results"]] == ["new", "old"]
    old = body["results"][1]
    assert old["category"]["slug"] == "news"
    assert [t["slug"] for t in old["tags"]] == ["aws"]
    assert old["html_url"].endswith("/articles/old/")
    widths = {r["width"] for r in old["hero_image"]["renditions"]}
    assert widths == {64}
    detail = client.get("/api/v1/articles/old/").json()
    assert detail["body"] == "<p>Body text.</p>"


@pytest.mark.parametrize(
    ("query", "slugs"),
    [
        ({"category": "news"}, ["old"]),
        ({"tag": "aws"}, ["old"]),
        ({"published_after": (timezone.now() - timedelta(days=2)).isoformat()}, ["new"]),
        ({"published_before": (timezone.now() - timedelta(days=2)).isoformat()}, ["old"]),
    ],
)
def test_articles_filter_by_category_tag_and_date(client, content, query, slugs):
    assert [a["slug"] for a in client.get("/api/v1/articles/", query).json()["results"]] == slugs


def test_drafts_future_and_unreachable_items_are_not_served(client, content):
    assert client.get("/api/v1/articles/draft/").status_code == 404
    assert client.get("/api/v1/articles/future/").status_code == 404
    paths = [p["path"] for p in client.get("/api/v1/pages/").json()["results"]]
    assert paths == ["about", "about/team"]
    assert client.get("/api/v1/pages/", {"path": "hidden/under-hidden"}).json()["results"] == []
    images = client.get("/api/v1/images/").json()["results"]
    assert [i["id"] for i in images] == [content["image"].pk]


def test_images_are_those_the_public_site_shows_heroes_and_body_images(client):
    hero, in_page, in_draft = ImageFactory(), ImageFactory(), ImageFactory()
    ArticleFactory(hero_image=hero)
    PageFactory(body=f'<figure><img src="/x.jpg" data-file="{in_page.pk}" alt=""></figure>')
    ArticleFactory(hero_image=in_draft, is_published=False, publish_at=None)
    ImageFactory()  # in the library, on no page
    images = client.get("/api/v1/images/").json()["results"]
    assert {i["id"] for i in images} == {hero.pk, in_page.pk}
    assert client.get(f"/api/v1/images/{in_draft.pk}/").status_code == 404


def test_cursor_pagination_walks_every_article_once(client):
    for n in range(7):
        ArticleFactory(slug=f"a{n}", publish_at=timezone.now() - timedelta(hours=n + 1))
    seen, url = [], "/api/v1/articles/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [a["slug"] for a in body["results"]]
        url = body["next"]
    assert seen == [f"a{n}" for n in range(7)]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/articles/?published_after=yesterday", 400),
        ("/api/v1/articles/?published_before=2026-13-45", 400),
        ("/api/v1/articles/?cursor=not-a-cursor", 404),
        ("/api/v1/categories/?page=999", 404),
        ("/api/v1/categories/?page=abc", 404),
        ("/api/v1/nothing-here/", 404),
        ("/api/v2/articles/", 404),
        ("/api/v1/pages/abc/", 404),
        ("/api/v1/articles/?published_after=0001-01-01T00:00:00%2B17:36", 400),
        ("/api/v1/articles/?page_size=500", 400),
        ("/api/v1/tags/?page_size=ten", 400),
        ("/api/v1/images/?page_size=0", 400),
        ("/api/v1/articles/?tag=no%20such%20slug", 400),
        ("/api/v1/articles/?category=%00", 400),
        ("/api/v1/articles/a%0Ab/", 404),
    ],
)
def test_bad_requests_get_json_errors_with_the_right_status(client, content, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_invalid_parameters_are_named_in_the_error(client, content):
    body = client.get("/api/v1/articles/?published_after=yesterday&page_size=3").json()
    assert body["detail"] == "Invalid request."
    assert list(body["errors"]) == ["published_after"]
    body = client.get("/api/v1/articles/?page_size=101").json()
    assert body["errors"] == {"page_size": ["Must be a whole number from 1 to 100."]}


def test_times_in_any_offset_are_compared_in_utc(client, content):
    # PostgreSQL refuses offsets beyond ±15:59; Python (and so the filter) takes them.
    body = client.get("/api/v1/articles/", {"published_before": "2999-01-01T00:00:00+17:36"})
    assert [a["slug"] for a in body.json()["results"]] == ["new", "old"]


def test_empty_filters_are_ignored_like_an_html_form_sends_them(client, content):
    body = client.get("/api/v1/articles/?category=&published_after=").json()
    assert [a["slug"] for a in body["results"]] == ["new", "old"]


def test_lists_carry_etags_cache_headers_and_cors(client, content):
    response = client.get("/api/v1/articles/", HTTP_ORIGIN="https://app.example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "s-maxage" in response["Cache-Control"]
    again = client.get("/api/v1/articles/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_writes_are_refused(client, content):
    assert client.post("/api/v1/articles/", {}, content_type="application/json").status_code == 405
    assert client.delete("/api/v1/articles/old/").status_code == 405


# The document /api/v1/openapi.json serves, taken without a request: collection runs
# before any test database exists, and the cache middleware would need one.
schema = schemathesis.openapi.from_dict(api_schema.document())


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same requests on every run: CI must not turn red by chance
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_openapi_document(case, content):
    with keep_test_connections():  # a real WSGI call, inside the test's transaction
        case.call_and_validate(app=get_wsgi_application())


def test_the_served_openapi_document_is_the_one_tested(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json() == schema.raw_schema
