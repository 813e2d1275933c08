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
