"""Hostile markup posted straight to the admin, into every field of an article, comes out
inert on the public page and in the admin's list; the sanitizer is idempotent."""

import pytest
from django.test import Client

from sitecontent.models import Article
from sitecontent.richtext import sanitize_html
from tests.admin_forms import article_form
from tests.factories import publisher
from tests.html_safety import problems
from tests.xss_corpus import PAYLOADS

CASES = list(enumerate(PAYLOADS))


def test_there_are_at_least_two_hundred_payloads_and_the_checker_sees_them():
    assert len(PAYLOADS) >= 200
    # "<scr<script>ipt>" is no script to a browser either: it attacks sanitizers that
    # delete "<script>" and so assemble one. Every other payload is dangerous as sent.
    blind = {payload for payload in PAYLOADS if not problems(payload)}
    assert all("<scr<script>" in payload.lower() for payload in blind)
    assert len(blind) <= 4


@pytest.fixture
def publisher_client():
    user = publisher(username="xss-publisher")
    browser = Client()
    browser.force_login(user)
    browser.user = user
    return browser


def _public_page_allows(tag, attributes):
    """The page's own stylesheet; nothing else."""
    return tag == "link" and (attributes.get("href") or "").startswith("/static/css/")


def _admin_list_allows(tag, attributes):
    return tag == "input" and attributes.get("type") in {"checkbox", "hidden"}


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "payload"), CASES, ids=[f"p{n}" for n, _ in CASES])
def test_payload_in_every_field_is_inert_everywhere(publisher_client, client, number, payload):
    slug = f"xss-{number}"
    response = publisher_client.post(
        "/admin/sitecontent/article/add/",
        article_form(
            title=payload[:200],
            slug=slug,
            summary=payload[:500],
            body=payload,
            seo_title=payload[:70],
            seo_description=payload[:160],
            author=publisher_client.user.pk,
            is_published="on",
        ),
    )
    if response.status_code == 200:  # refused: it must say why, and store nothing
        errors = response.context["adminform"].form.errors
        assert errors
        assert "\x00" in payload  # the only input Django's forms refuse outright
        assert not Article.objects.filter(slug=slug).exists()
        return
    assert response.status_code == 302
    article = Article.objects.get(slug=slug)
    assert sanitize_html(article.body) == article.body

    public = client.get(f"/articles/{slug}/")
    assert public.status_code == 200
    assert problems(public.content.decode(), allow=_public_page_allows) == []

    listing = publisher_client.get("/admin/sitecontent/article/", {"q": slug})
    table = listing.content.decode().split('id="result_list"', 1)[1].split("</table>", 1)[0]
    assert problems(table, allow=_admin_list_allows) == []
