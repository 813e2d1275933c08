"""Editor HTML is sanitized wherever it is stored (drafts, revisions, snapshots) and on
its one way out (the ``richtext`` filter and the API): a draft an Editor saves of their
own live article is as inert in its anonymous preview link as the live page is."""

from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from sitecontent.models import Article, Page, Revision
from sitecontent.publishing import previews as preview
from sitecontent.publishing import revisions
from tests.admin_forms import article_form_for, page_form
from tests.factories import ArticleFactory, PageFactory, publisher
from tests.html_safety import problems
from tests.xss_corpus import VECTORS

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "<script>alert(document.cookie)</script>"
ONERROR = '<img src="x" onerror="alert(1)">'


def _page_allows(tag, attributes):
    return tag == "link" and (attributes.get("href") or "").startswith("/static/css/")


def _draft_of(item) -> Revision:
    draft = revisions.pending_draft(item)
    assert draft is not None, "the save should have kept a draft"
    return draft


@pytest.mark.parametrize("payload", [SCRIPT, ONERROR, *VECTORS[::4]])
def test_an_editors_draft_of_their_live_article_is_stored_and_previewed_inert(
    editor_client, payload
):
    article = ArticleFactory(author=editor_client.user, body="<p>Live body</p>")
    response = editor_client.post(
        f"/admin/sitecontent/article/{article.pk}/change/",
        article_form_for(article, body=f"<p>Draft</p>{payload}", summary=f"S {payload}"),
    )
    assert response.status_code == 302
    draft = _draft_of(article)
    assert problems(draft.data["body"]) == []

    link = editor_client.get(f"/admin/sitecontent/article/{article.pk}/preview/").context["link"]
    shown = Client().get(link)  # anyone holding the link, signed in or not
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Draft" in html
    assert problems(html, allow=_page_allows) == []
    article.refresh_from_db()
    assert article.body == "<p>Live body</p>"  # the live item is untouched


def test_an_editors_draft_of_their_live_page_is_stored_and_previewed_inert(editor_client):
    page = PageFactory(owner=editor_client.user, slug="own-page", body="<p>Live</p>")
    response = editor_client.post(
        f"/admin/sitecontent/page/{page.pk}/change/",
        page_form(title=page.title, slug=page.slug, body=f"<p>Draft</p>{ONERROR}{SCRIPT}"),
    )
    assert response.status_code == 302
    draft = _draft_of(page)
    assert "onerror" not in draft.data["body"]
    assert "<script" not in draft.data["body"]
    html = Client().get(preview.preview_url(page, draft)).content.decode()
    assert "Draft" in html
    assert problems(html, allow=_page_allows) == []


def _raw_draft(item, body):
    """A draft whose body reached the database without the sanitizer (a row from before
    the rule, a restored backup, an UPDATE in SQL)."""
    draft = revisions.revision_create(item=item, user=None, applied=False)
    Revision.objects.filter(pk=draft.pk).update(data={**draft.data, "body": body})
    draft.refresh_from_db()
    assert draft.data["body"] == body
    return draft


def test_a_preview_of_an_unsanitized_stored_draft_still_renders_inert(client):
    article = ArticleFactory()
    draft = _raw_draft(article, f"<p>Old draft</p>{SCRIPT}{ONERROR}")
    html = client.get(preview.preview_url(article, draft)).content.decode()
    assert "Old draft" in html
    assert problems(html, allow=_page_allows) == []


def test_restoring_an_unsanitized_revision_stores_sanitized_html(publisher_client):
    article = ArticleFactory(body="<p>Now</p>")
    old = _raw_draft(article, f"<p>Then</p>{SCRIPT}")
    response = publisher_client.post(
        f"/admin/sitecontent/article/{article.pk}/revisions/{old.pk}/restore/"
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.body == "<p>Then</p>"
    assert SCRIPT not in revisions.latest(article).data["body"]


def test_a_scheduled_unsanitized_draft_goes_live_sanitized():
    article = ArticleFactory(body="<p>Now</p>")
    draft = _raw_draft(article, f"<p>Later</p>{ONERROR}")
    draft.go_live_at, draft.approved_by = timezone.now(), publisher()
    draft.save(update_fields=["go_live_at", "approved_by"])
    assert revisions.revisions_apply_due(now=timezone.now()) == 1
    article.refresh_from_db()
    assert "onerror" not in article.body
    assert "Later" in article.body


def test_comparing_with_an_unsanitized_revision_shows_its_text_escaped(publisher_client):
    article = ArticleFactory(body="<p>Now</p>")
    first = revisions.revision_create(item=article, user=None)
    raw = _raw_draft(article, f"<p>Then</p>{SCRIPT}")
    response = publisher_client.get(
        f"/admin/sitecontent/article/{article.pk}/revisions/compare/",
        {"a": first.pk, "b": raw.pk},
    )
    assert response.status_code == 200
    table = response.content.decode().split('id="content-main"', 1)[-1]
    assert "<script>alert" not in table


def test_a_body_written_around_the_model_is_sanitized_on_the_page_and_in_the_api(client):
    article = ArticleFactory(slug="bypass", body="<p>ok</p>")
    page = PageFactory(slug="bypass-page", body="<p>ok</p>")
    Article.objects.filter(pk=article.pk).update(body=f"<p>Raw</p>{SCRIPT}{ONERROR}")
    Page.objects.filter(pk=page.pk).update(body=f"<p>Raw</p>{SCRIPT}{ONERROR}")
    for address in ("/articles/bypass/", "/bypass-page/"):
        html = client.get(address).content.decode()
        assert "Raw" in html
        assert problems(html, allow=_page_allows) == []
    for address in ("/api/v1/articles/bypass/", f"/api/v1/pages/{page.pk}/"):
        body = client.get(address).json()["body"]
        assert body == '<p>Raw</p><img src="x">'


def test_no_template_marks_a_value_safe_itself():
    """Rich text reaches a page only through the ``richtext`` filter, which sanitizes;
    ``|safe`` or ``autoescape off`` in a template would print whatever it is given."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if "|safe" in path.read_text().replace(" ", "") or "autoescape off" in path.read_text()
    ]
    assert offenders == []
