"""Signed, expiring preview links: they show the draft as it will render, to anyone
holding them, until they expire; anything else is a 404."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sitecontent.publishing import previews as preview
from sitecontent.publishing import revisions
from tests.factories import ArticleFactory, PageFactory, TagFactory, publisher

pytestmark = pytest.mark.django_db


def test_admin_gives_a_link_that_shows_the_draft_without_signing_in(settings):
    pat = publisher()
    article = ArticleFactory(title="Live words", is_published=False, publish_at=None)
    tag = TagFactory(name="Preview tag")
    revisions.revision_create(
        item=article,
        user=pat,
        applied=False,
        data={
            **revisions.snapshot(article),
            "title": "Draft words",
            "body": "<p>Coming soon</p>",
            "tags": [tag.pk],
        },
    )
    admin = Client()
    admin.force_login(pat)
    page = admin.get(f"/admin/sitecontent/article/{article.pk}/preview/")
    link = page.context["link"]
    assert link.startswith("http://testserver/preview/")
    response = Client().get(link)  # a reviewer with no admin access
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Draft words</h1>" in html
    assert "Coming soon" in html
    assert "Preview tag" in html
    assert "Preview: not published yet" in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    article.refresh_from_db()
    assert article.title == "Live words"  # previewing saves nothing


def test_a_scheduled_page_can_be_previewed_before_it_goes_live(client):
    page = PageFactory(slug="soon", title="Launch", publish_at=timezone.now() + timedelta(days=2))
    assert client.get("/soon/").status_code == 404
    assert "<h1>Launch</h1>" in client.get(preview.preview_url(page)).content.decode()


def test_an_expired_link_leaks_nothing(client, settings):
    article = ArticleFactory(title="Secret plans", is_published=False, publish_at=None)
    url = preview.preview_url(article)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.PREVIEW_MAX_AGE + 1)):
        response = client.get(url)
    assert response.status_code == 404
    assert "Secret plans" not in response.content.decode()


@pytest.mark.parametrize("tamper", ["flip", "truncate", "garbage", "other-salt"])
def test_a_bad_signature_is_a_404(client, tamper):
    from django.core import signing

    article = ArticleFactory(title="Secret plans", is_published=False, publish_at=None)
    token = preview.preview_url(article).split("/")[2]
    bad = {
        "flip": token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
        "truncate": token[:-5],
        "garbage": "not-a-token",
        "other-salt": signing.dumps({"m": "sitecontent.article", "i": article.pk, "r": None}),
    }[tamper]
    response = client.get(f"/preview/{bad}/")
    assert response.status_code == 404
    assert "Secret plans" not in response.content.decode()


def test_a_link_cannot_show_another_items_revision(client):
    pat = publisher()
    mine, theirs = ArticleFactory(title="Mine"), ArticleFactory(title="Theirs")
    their_draft = revisions.revision_create(
        item=theirs,
        user=pat,
        applied=False,
        data={**revisions.snapshot(theirs), "title": "Their draft"},
    )
    url = preview.preview_url(mine, their_draft)
    assert client.get(url).status_code == 404


def test_only_staff_who_may_see_the_item_can_make_links(client):
    article = ArticleFactory()
    assert client.get(f"/admin/sitecontent/article/{article.pk}/preview/").status_code == 302
