"""Changing a published item's address leaves a permanent redirect from the old one."""

import pytest
from django.contrib.redirects.models import Redirect
from django.test import Client

from tests.factories import ArticleFactory, PageFactory, editor

pytestmark = pytest.mark.django_db


def test_renaming_a_published_articles_slug_redirects_the_old_address(client):
    article = ArticleFactory(slug="old-name")
    article.slug = "new-name"
    article.save()
    response = client.get("/articles/old-name/")
    assert response.status_code == 301
    assert response["Location"] == "/articles/new-name/"
    assert client.get("/articles/new-name/").status_code == 200


def test_renaming_twice_redirects_the_first_address_straight_to_the_last(client):
    article = ArticleFactory(slug="first")
    for slug in ("second", "third"):
        article.slug = slug
        article.save()
    assert client.get("/articles/first/")["Location"] == "/articles/third/"
    assert client.get("/articles/second/")["Location"] == "/articles/third/"


def test_going_back_to_an_old_name_removes_the_redirect_that_would_hide_it(client):
    article = ArticleFactory(slug="a")
    article.slug = "b"
    article.save()
    article.slug = "a"
    article.save()
    assert client.get("/articles/a/").status_code == 200
    assert client.get("/articles/b/")["Location"] == "/articles/a/"
    assert not Redirect.objects.filter(old_path="/articles/a/").exists()


def test_moving_a_page_redirects_it_and_everything_below_it(client):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    PageFactory(slug="alumni", parent=team)
    about.slug = "who-we-are"
    about.save()
    assert client.get("/about/")["Location"] == "/who-we-are/"
    assert client.get("/about/team/")["Location"] == "/who-we-are/team/"
    assert client.get("/about/team/alumni/")["Location"] == "/who-we-are/team/alumni/"
    assert client.get("/who-we-are/team/alumni/").status_code == 200


def test_drafts_leave_no_redirects(client):
    draft = ArticleFactory(slug="draft-one", is_published=False, publish_at=None)
    draft.slug = "draft-two"
    draft.save()
    assert not Redirect.objects.exists()


def test_editors_manage_redirects_in_the_admin(client):
    client.force_login(editor())
    response = client.post(
        "/admin/redirects/redirect/add/",
        {"site": 1, "old_path": "/old-campaign/", "new_path": "/articles/"},
    )
    assert response.status_code == 302
    assert Client().get("/old-campaign/")["Location"] == "/articles/"


# -- what a redirect may say ---------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "HTTPS://EVIL.EXAMPLE/login",
    "http://www.example.com@evil.example/",
    "https://testserver.evil.example/",
    " https://evil.example/",  # the form trims the space: an off-site address
]
NEVER = [
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "https:evil.example",
    "https:///evil.example",
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://files.example/",
    "mailto:someone@example.com",
    "evil.example/path",
    "/ok\x00",
]


def _add(browser, old_path, new_path):
    return browser.post(
        "/admin/redirects/redirect/add/", {"site": 1, "old_path": old_path, "new_path": new_path}
    )


@pytest.mark.parametrize("target", OFF_SITE + NEVER)
def test_editors_may_not_send_visitors_off_the_site(editor_client, target):
    response = _add(editor_client, "/go/", target)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_path"]
    assert not Redirect.objects.exists()
    assert Client().get("/go/").status_code == 404


@pytest.mark.parametrize("target", ["/articles/", "/search/?q=x", "http://testserver/about/", ""])
def test_editors_may_redirect_within_the_site(editor_client, target):
    assert _add(editor_client, "/go/", target).status_code == 302
    assert Redirect.objects.get().new_path == target


@pytest.mark.parametrize("target", OFF_SITE[:2])
def test_a_publisher_may_redirect_to_another_site(publisher_client, target):
    assert _add(publisher_client, "/partner/", target).status_code == 302
    response = Client().get("/partner/")
    assert (response.status_code, response["Location"]) == (301, target)


@pytest.mark.parametrize("target", NEVER)
def test_nobody_may_store_another_scheme_or_a_disguised_host(publisher_client, target):
    response = _add(publisher_client, "/go/", target)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_path"]
    assert not Redirect.objects.exists()


@pytest.mark.parametrize("old_path", ["go/", "//evil.example/", "/a b/", "https://x.example/"])
def test_the_old_address_is_a_path_on_this_site(editor_client, old_path):
    response = _add(editor_client, old_path, "/articles/")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["old_path"]


def test_an_editor_may_not_turn_a_redirect_into_an_off_site_one(editor_client):
    redirect = Redirect.objects.create(site_id=1, old_path="/go/", new_path="/articles/")
    response = editor_client.post(
        f"/admin/redirects/redirect/{redirect.pk}/change/",
        {"site": 1, "old_path": "/go/", "new_path": "https://evil.example/"},
    )
    assert response.status_code == 200
    redirect.refresh_from_db()
    assert redirect.new_path == "/articles/"


@pytest.mark.parametrize("target", ["javascript:alert(1)", "//evil.example/", "/\\evil.example"])
def test_a_bad_target_stored_some_other_way_is_never_served(client, target):
    Redirect.objects.create(site_id=1, old_path="/go/", new_path=target)
    response = client.get("/go/")
    assert response.status_code == 404
    assert "Location" not in response


def test_saving_or_deleting_a_redirect_purges_its_address(
    editor_client, django_capture_on_commit_callbacks
):
    from cms import cdn

    with django_capture_on_commit_callbacks(execute=True):
        _add(editor_client, "/go/", "/articles/")
    redirect = Redirect.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(f"/admin/redirects/redirect/{redirect.pk}/delete/", {"post": "yes"})
    assert not Redirect.objects.exists()
    assert cdn.get_backend().purges == [["/go/"], ["/go/"]]
