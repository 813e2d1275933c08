"""The live preview endpoint: who may use it, that it saves nothing, that only its framed
rendering may be framed (by the admin alone), and content checks when publishing."""

import pytest
from django.contrib.sessions.models import Session

from sitecontent.models import Article, AuditEvent, Page, Revision
from sitecontent.publishing import revisions
from tests.admin_forms import article_form, article_form_for, page_form
from tests.factories import (
    ArticleFactory,
    DocumentFactory,
    PageFactory,
    TagFactory,
    UserFactory,
    editor,
    publisher,
)
from tests.html_safety import problems
from tests.xss_corpus import VECTORS

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/sitecontent/article/"
PAGES = "/admin/sitecontent/page/"
GOOD = {
    "title": "Harbour diaries from the quay",
    "summary": "Notes from the quay at first light, when the boats come in with the catch.",
}


def signed_in(client, user):
    client.force_login(user)
    return client


def row_counts():
    return (
        Article.objects.count(),
        Page.objects.count(),
        Revision.objects.count(),
        AuditEvent.objects.count(),
    )


# -- permissions ------------------------------------------------------------------------


def test_an_anonymous_post_gets_a_json_403(client):
    response = client.post(f"{ARTICLES}live-preview/", article_form())
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_a_get_gets_a_json_405(client):
    signed_in(client, editor())
    response = client.get(f"{ARTICLES}live-preview/")
    assert response.status_code == 405
    assert response.json()["error"]


def test_staff_without_add_permission_cannot_preview_a_new_article(client):
    signed_in(client, UserFactory())  # staff, in no group
    response = client.post(f"{ARTICLES}live-preview/", article_form())
    assert response.status_code == 403
    assert response.json()["error"]


def test_an_editor_cannot_preview_changes_to_someone_else_s_article(client):
    theirs = ArticleFactory(is_published=False, publish_at=None)
    signed_in(client, editor())
    response = client.post(f"{ARTICLES}{theirs.pk}/live-preview/", article_form_for(theirs))
    assert response.status_code == 403
    assert client.get(f"{ARTICLES}{theirs.pk}/live-preview/frame/").status_code == 403


def test_a_missing_item_is_a_json_404(client):
    signed_in(client, publisher())
    response = client.post(f"{ARTICLES}999999/live-preview/", article_form())
    assert response.status_code == 404
    assert response.json()["error"]


def test_the_post_needs_the_csrf_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor())
    assert strict.post(f"{ARTICLES}live-preview/", article_form()).status_code == 403


# -- rendering, and nothing saved -------------------------------------------------------


def test_a_new_article_renders_with_the_public_template_and_nothing_is_saved(client):
    user = editor(username="eda")
    signed_in(client, user)
    tag = TagFactory(name="Boats")
    before = row_counts()
    sessions_before = Session.objects.count()

    response = client.post(
        f"{ARTICLES}live-preview/",
        article_form(
            **GOOD, slug="harbour", body="<p>Gulls <a href='/t'>here</a></p>", tags=[tag.pk]
        ),
    )
    assert response.status_code == 200
    data = response.json()
    assert [c["code"] for c in data["checks"]] == ["link-vague"]
    assert data["errors"] == []
    assert row_counts() == before
    assert Session.objects.count() == sessions_before

    framed = client.get(data["frame_url"])
    html = framed.content.decode()
    assert framed.status_code == 200
    assert "<h1>Harbour diaries from the quay</h1>" in html
    assert "Preview: not published yet" in html
    assert ">Boats</a>" in html  # the posted tag
    assert user.public_name in html  # the author a first save would set
    assert row_counts() == before


def test_changes_to_a_stored_article_render_and_leave_it_as_it_was(client):
    item = ArticleFactory(title="Stored title", body="<p>Stored body</p>")
    item.tags.set([TagFactory(name="Old tag")])
    new_tag = TagFactory(name="New tag")
    doc = DocumentFactory(title="Tide tables")
    signed_in(client, publisher())
    before = row_counts()

    posted = article_form_for(
        item, title="Typed title", body="<p>Typed body</p>", tags=[new_tag.pk]
    )
    posted["attachments"] = [doc.pk]
    data = client.post(f"{ARTICLES}{item.pk}/live-preview/", posted).json()
    html = client.get(data["frame_url"]).content.decode()

    assert "Typed title" in html
    assert "Typed body" in html
    assert "New tag" in html
    assert "Old tag" not in html
    assert "Tide tables" in html
    item.refresh_from_db()
    assert (item.title, item.body) == ("Stored title", "<p>Stored body</p>")
    assert list(item.tags.values_list("name", flat=True)) == ["Old tag"]
    assert list(item.attachments.all()) == []
    assert row_counts() == before


def test_a_page_renders_under_its_parent(client):
    parent = PageFactory(title="About us", slug="about")
    signed_in(client, publisher())
    data = client.post(
        f"{PAGES}live-preview/",
        page_form(title="The team here", slug="team", parent=parent.pk, body="<p>We.</p>"),
    ).json()
    html = client.get(data["frame_url"]).content.decode()
    assert "<h1>The team here</h1>" in html
    assert "About us</a>" in html  # the breadcrumb
    assert Page.objects.count() == 1


def test_an_invalid_form_still_renders_the_valid_fields_and_reports_the_errors(client):
    signed_in(client, editor())
    posted = article_form(**{**GOOD, "summary": ""}, slug="no spaces allowed")
    data = client.post(f"{ARTICLES}live-preview/", posted).json()
    fields = {error["field"]: error for error in data["errors"]}
    assert set(fields) == {"summary", "slug"}
    assert fields["summary"]["label"] == "Summary"
    assert fields["summary"]["messages"]
    html = client.get(data["frame_url"]).content.decode()
    assert "Harbour diaries from the quay" in html
    assert Article.objects.count() == 0


def test_rich_text_is_sanitized_as_saving_would(client):
    signed_in(client, editor())
    for vector in VECTORS:
        data = client.post(
            f"{ARTICLES}live-preview/", article_form(**GOOD, body=f"<p>x</p>{vector}")
        ).json()
        html = client.get(data["frame_url"]).content.decode()
        start, end = html.index('<div class="prose">'), html.index("<footer>")
        assert problems(html[start:end]) == [], vector


def test_the_frame_shows_a_placeholder_before_the_first_preview(client):
    signed_in(client, editor())
    response = client.get(f"{ARTICLES}live-preview/frame/")
    assert response.status_code == 200
    assert b"The preview appears here" in response.content


def test_the_latest_rendering_replaces_the_one_before(client):
    signed_in(client, editor())
    client.post(f"{ARTICLES}live-preview/", article_form(**GOOD, body="<p>First</p>"))
    data = client.post(f"{ARTICLES}live-preview/", article_form(**GOOD, body="<p>Second</p>"))
    html = client.get(data.json()["frame_url"]).content.decode()
    assert "Second" in html
    assert "First" not in html


def test_the_preview_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    item = ArticleFactory()
    signed_in(client, publisher())
    posted = article_form_for(item, body="<p>Typed</p>")
    with django_assert_max_num_queries(30):
        client.post(f"{ARTICLES}{item.pk}/live-preview/", posted)


# -- headers ----------------------------------------------------------------------------


def test_only_the_framed_rendering_may_be_framed_and_only_by_the_site_itself(client):
    item = ArticleFactory()
    signed_in(client, publisher())
    endpoint = client.post(f"{ARTICLES}{item.pk}/live-preview/", article_form_for(item))
    framed = client.get(endpoint.json()["frame_url"])
    change_form = client.get(f"{ARTICLES}{item.pk}/change/")

    assert framed["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in framed["Content-Security-Policy"]
    assert "script-src 'self'" in framed["Content-Security-Policy"]
    assert "no-store" in framed["Cache-Control"]
    for other in (endpoint, change_form):
        assert other["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in other["Content-Security-Policy"]


def test_the_change_form_carries_the_panel(client):
    item = ArticleFactory()
    signed_in(client, publisher())
    html = client.get(f"{ARTICLES}{item.pk}/change/").content.decode()
    assert f'data-endpoint="{ARTICLES}{item.pk}/live-preview/"' in html
    assert "js/live_preview.js" in html
    add = client.get(f"{ARTICLES}add/").content.decode()
    assert f'data-endpoint="{ARTICLES}live-preview/"' in add


# -- checks when publishing -------------------------------------------------------------


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_save_and_publish_warns_about_the_checks_without_stopping(client):
    item = ArticleFactory(**GOOD)
    signed_in(client, publisher())
    posted = article_form_for(item, body="<p><a href='/x'>click here</a></p>")
    response = client.post(f"{ARTICLES}{item.pk}/change/", posted, follow=True)
    item.refresh_from_db()
    assert "click here" in item.body
    warned = [m for m in messages_of(response) if "content check" in m]
    assert len(warned) == 1
    assert "click here" in warned[0]


def test_saving_a_draft_does_not_warn(client):
    item = ArticleFactory(is_published=False, publish_at=None, **GOOD)
    signed_in(client, publisher())
    posted = article_form_for(item, body="<p><a href='/x'>here</a></p>")
    response = client.post(f"{ARTICLES}{item.pk}/change/", posted, follow=True)
    assert not [m for m in messages_of(response) if "content check" in m]


def test_the_publish_action_warns_per_item_with_findings(client):
    tidy = ArticleFactory(is_published=False, publish_at=None, **GOOD)
    untidy = ArticleFactory(is_published=False, publish_at=None, title="Short")
    signed_in(client, publisher())
    response = client.post(
        ARTICLES,
        {"action": "publish_now", "_selected_action": [tidy.pk, untidy.pk]},
        follow=True,
    )
    warned = [m for m in messages_of(response) if "content check" in m]
    assert len(warned) == 1
    assert "“Short”" in warned[0]
    assert Article.objects.live().count() == 2


def test_the_schedule_confirmation_lists_the_checks(client):
    untidy = ArticleFactory(is_published=False, publish_at=None, title="Short")
    signed_in(client, publisher())
    response = client.post(ARTICLES, {"action": "schedule", "_selected_action": [untidy.pk]})
    html = response.content.decode()
    assert "Content checks" in html
    assert "The title search results show is 5 characters" in html


def test_publishing_messages_escape_what_the_editor_wrote(client):
    signed_in(client, publisher())
    for vector in VECTORS:
        item = ArticleFactory(is_published=False, publish_at=None, title=vector[:200])
        # Past the sanitizer, as rows from elsewhere may be: the checks quote them.
        # (Without NUL: PostgreSQL cannot store it in text at all.)
        raw = vector.replace("\x00", "")
        Article.objects.filter(pk=item.pk).update(
            body=f"<p><a href='/x'>here</a></p><h4>{raw}</h4>"
        )
        response = client.post(
            ARTICLES, {"action": "publish_now", "_selected_action": [item.pk]}, follow=True
        )
        warned = [m for m in response.context["messages"] if "content check" in str(m)]
        assert len(warned) == 1, vector
        assert problems(str(warned[0])) == [], vector


def test_publishing_a_draft_warns_about_the_draft_s_checks(client):
    item = ArticleFactory(**GOOD)
    user = publisher()
    data = {**revisions.snapshot(item), "body": "<p><a href='/x'>read more</a></p>"}
    draft = revisions.revision_create(item=item, user=user, data=data, applied=False)
    signed_in(client, user)
    response = client.post(f"{ARTICLES}{item.pk}/revisions/{draft.pk}/publish/", follow=True)
    warned = [m for m in messages_of(response) if "content check" in m]
    assert len(warned) == 1
    assert "read more" in warned[0]
    item.refresh_from_db()
    assert "read more" in item.body


def test_a_read_only_change_form_has_no_panel(client):
    theirs = ArticleFactory()
    signed_in(client, editor())
    response = client.get(f"{ARTICLES}{theirs.pk}/change/")
    assert response.status_code == 200
    assert b'id="live-preview"' not in response.content


def test_an_invalid_tag_choice_shows_the_valid_ones(client):
    tag = TagFactory(name="Boats")
    signed_in(client, editor())
    data = client.post(
        f"{ARTICLES}live-preview/", article_form(**GOOD, tags=[tag.pk, 999999])
    ).json()
    assert [error["field"] for error in data["errors"]] == ["tags"]
    html = client.get(data["frame_url"]).content.decode()
    assert ">Boats</a>" in html


def test_adding_a_published_page_warns_about_its_checks(client):
    signed_in(client, publisher())
    posted = page_form(title="Contact", slug="contact", body="<h3>Phones</h3>", is_published="on")
    response = client.post(f"{PAGES}add/", posted, follow=True)
    assert Page.objects.live().count() == 1
    warned = [m for m in messages_of(response) if "content check" in m]
    assert len(warned) == 1
    assert "“Contact” is published" in warned[0]
    assert "heading 3" in warned[0]
