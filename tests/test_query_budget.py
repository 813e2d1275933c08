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


# The admin dashboard (/admin/: awaiting review, your submissions, the next 7 days'
# schedule, recent actions): the session, the user with their permissions (one query,
# cms.auth), one query for both review lists, one for the schedule, one for recent
# actions. The same at any number of items.
DASHBOARD_BUDGET = {"superuser": 5, "publisher": 5, "editor": 5}


def build_dashboard(count, author):
    from datetime import timedelta

    from django.utils import timezone

    from sitecontent.models import Revision
    from sitecontent.publishing import review, revisions

    soon = timezone.now() + timedelta(days=2)
    for n in range(count):
        draft = ArticleFactory(
            title=f"Draft {n}", author=author, is_published=False, publish_at=None
        )
        revisions.revision_create(item=draft, user=author)
        review.review_submit(item=draft, user=author, message=f"Ready {n}")
        ArticleFactory(title=f"Soon {n}", is_published=True, publish_at=soon)
        ArticleFactory(title=f"Ending {n}", unpublish_at=soon)
        PageFactory(title=f"Page soon {n}", is_published=True, publish_at=soon)
        live = ArticleFactory(title=f"Changing {n}")
        draft_revision = revisions.revision_create(item=live, user=author, applied=False)
        Revision.objects.filter(pk=draft_revision.pk).update(go_live_at=soon)


def dashboard_queries(count, role):
    from tests.conftest import _signed_in
    from tests.factories import editor, publisher

    user = {
        "superuser": lambda: UserFactory(is_superuser=True, is_staff=True),
        "publisher": publisher,
        "editor": editor,
    }[role]()
    with transaction.atomic():
        build_dashboard(count, editor())
        if role == "editor":
            build_dashboard(2, user)  # their own submissions
        browser = _signed_in(user)
        assert browser.get("/admin/").status_code == 200  # warm: content types cached
        with CaptureQueriesContext(connection) as queries:
            response = browser.get("/admin/")
        html = response.content.decode()
        transaction.set_rollback(True)
    assert response.status_code == 200
    return len(queries), html


@pytest.mark.django_db
@pytest.mark.parametrize("role", DASHBOARD_BUDGET)
def test_the_admin_dashboard_stays_within_budget_at_any_size(role):
    small, html = dashboard_queries(2, role)
    large, _ = dashboard_queries(15, role)
    assert small == large
    assert large <= DASHBOARD_BUDGET[role]
    # What the queries are for is on the page.
    assert "Page soon 1" in html
    assert "Changing 1" in html  # a scheduled change, titled from its item
    assert "Ending 0" in html
    if role != "editor":
        assert "Draft 1" in html  # awaiting their review
    else:
        assert 'id="your-submissions"' in html
