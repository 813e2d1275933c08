"""Every public page and API list costs at most six SQL queries, however many articles
there are (the same count at 3 articles and at 200)."""

import pytest
from django.contrib.sites.models import Site
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
    UserFactory,
)

BUDGET = 6


def build_site(count):
    tags = TagFactory.create_batch(3)
    images = ImageFactory.create_batch(2)
    authors = UserFactory.create_batch(3)
    categories = [CategoryFactory(slug="news"), CategoryFactory()]
    for n in range(count):
        ArticleFactory(
            slug=f"story-{n}",
            title=f"Harbour story {n}",
            author=authors[n % 3],
            category=categories[n % 2],
            hero_image=images[n % 2],
            featured=n % 4 == 0,
            tags=tags[: n % 4],
        )
    about = PageFactory(slug="about", show_in_menus=True, body="<p>About the harbour</p>")
    PageFactory(slug="team", parent=about)
    PageFactory(slug="contact", show_in_menus=True)
    return tags[0]


def urls(tag):
    return [
        "/",
        "/articles/",
        "/articles/?page=last",  # page 1 at 3 articles, page 20 at 200
        "/articles/story-1/",
        "/categories/news/",
        f"/tags/{tag.slug}/",
        "/about/",
        "/about/team/",
        "/search/?q=harbour",
        "/feeds/rss/",
        "/feeds/atom/",
        "/categories/news/rss/",
        "/sitemap.xml",
        "/api/v1/articles/",
        "/api/v1/articles/story-1/",
        "/api/v1/pages/",
        "/api/v1/categories/",
        "/api/v1/tags/",
        "/api/v1/images/",
    ]


def measure(count):
    """Build a site of `count` articles, count each URL's queries, then roll it back so
    the next size starts from an empty database."""
    Site.objects.clear_cache()  # each size starts cold, as a fresh Lambda container does
    counts = {}
    with transaction.atomic():
        tag = build_site(count)
        for url in urls(tag):
            with CaptureQueriesContext(connection) as queries:
                response = Client().get(url)
            assert response.status_code == 200, url
            counts[url.replace(tag.slug, "<tag>")] = len(queries)
        transaction.set_rollback(True)
    return counts


@pytest.mark.django_db
def test_every_public_page_and_api_list_stays_within_budget_at_any_size():
    small = measure(3)
    large = measure(200)
    assert small == large
    over = {url: n for url, n in large.items() if n > BUDGET}
    assert over == {}


@pytest.mark.django_db
def test_listings_leave_out_the_bodies_that_only_an_article_page_shows():
    def columns_read(url):
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(url).status_code == 200, url
        articles = [q["sql"] for q in queries if 'FROM "sitecontent_article"' in q["sql"]]
        assert articles, url
        return " ".join(articles)

    build_site(5)
    for listing in ("/", "/articles/", "/categories/news/", "/feeds/rss/", "/api/v1/articles/"):
        selected = columns_read(listing)
        assert '"sitecontent_article"."body"' not in selected, listing
        assert '"sitecontent_article"."search_vector"' not in selected, listing
    for with_body in ("/articles/story-1/", "/api/v1/articles/story-1/", "/search/?q=harbour"):
        selected = columns_read(with_body)
        assert '"sitecontent_article"."body"' in selected, with_body
        assert '"sitecontent_article"."search_vector"' not in selected.split(" FROM ")[0]
