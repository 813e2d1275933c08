"""Absolute links when the site lives under a path: dev is served at
``https://<api>.execute-api.<region>.amazonaws.com/dev`` (its SITE_URL, which make deploy
sets from zappa status), and Zappa prefixes reversed paths with ``/dev`` on that host."""

import base64
import json

import pytest

from sitecontent.public.templating import absolute_url
from tests import events
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

DEV_URL = f"https://{events.API_HOST}/dev"


@pytest.fixture
def dev_site(settings, lambda_handler):
    settings.SITE_URL = DEV_URL
    return lambda_handler


def body(response) -> str:
    raw = response.get("body") or ""
    return base64.b64decode(raw).decode() if response.get("isBase64Encoded") else raw


def test_links_name_the_stage_once(dev_site):
    article = ArticleFactory(title="Under a stage")
    html = body(dev_site(events.rest_api("GET", article.get_absolute_url())))
    assert f'rel="canonical" href="{DEV_URL}{article.get_absolute_url()}"' in html
    assert "/dev/dev/" not in html


def test_robots_txt_names_the_sitemap_under_the_stage(dev_site):
    assert f"Sitemap: {DEV_URL}/sitemap.xml" in body(
        dev_site(events.rest_api("GET", "/robots.txt"))
    )


def test_api_links_name_the_stage_once(dev_site):
    article = ArticleFactory(title="In the API")
    listing = json.loads(body(dev_site(events.rest_api("GET", "/api/v1/articles/"))))
    assert f"{DEV_URL}{article.get_absolute_url()}" in json.dumps(listing)
    assert "/dev/dev/" not in json.dumps(listing)


def test_outside_a_request_paths_join_the_site_url(settings):
    settings.SITE_URL = DEV_URL
    assert absolute_url("/articles/x/") == f"{DEV_URL}/articles/x/"
    assert absolute_url("https://media.example.com/a.jpg") == "https://media.example.com/a.jpg"
