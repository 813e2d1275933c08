"""Images and documents follow the rules articles and pages do: Editors change their own,
and nothing that live pages show changes without a publisher (media has no drafts, so
such a file is read-only to its Editor). Checked in the admin and again in the service."""

import pytest
from django.core.exceptions import PermissionDenied

from cms import cdn
from sitecontent.media import services
from tests.factories import ArticleFactory, DocumentFactory, ImageFactory, PageFactory

pytestmark = pytest.mark.django_db


def _image_form(**overrides):
    return {"title": "T", "alt_text": "New alt", "caption": "", "credit": "", **overrides}


def _change_image(browser, image, **overrides):
    return browser.post(f"/admin/sitecontent/image/{image.pk}/change/", _image_form(**overrides))


def test_an_editor_changes_their_own_image_while_no_live_page_shows_it(editor_client):
    image = ImageFactory(uploaded_by=editor_client.user)
    ArticleFactory(hero_image=image, is_published=False, publish_at=None)  # a draft uses it
    assert _change_image(editor_client, image).status_code == 302
    image.refresh_from_db()
    assert image.alt_text == "New alt"


@pytest.mark.parametrize("shown_by", ["hero", "article body id", "article body file", "page body"])
def test_an_image_live_pages_show_is_read_only_to_its_editor(editor_client, shown_by):
    image = ImageFactory(uploaded_by=editor_client.user, alt_text="Old alt")
    if shown_by == "hero":
        ArticleFactory(hero_image=image)
    elif shown_by == "article body id":
        ArticleFactory(body=f'<p><img src="/x.jpg" alt="" data-file="{image.pk}"></p>')
    elif shown_by == "article body file":
        ArticleFactory(body=f'<p><img src="{image.file.url}" alt=""></p>')
    else:
        PageFactory(body=f'<p><img src="{image.file.url}" alt=""></p>')
    form = editor_client.get(f"/admin/sitecontent/image/{image.pk}/change/")
    assert form.status_code == 200
    assert "only a publisher may change it" in form.content.decode()
    assert _change_image(editor_client, image).status_code == 403
    image.refresh_from_db()
    assert image.alt_text == "Old alt"


def test_editors_may_not_change_someone_elses_image_or_document(editor_client):
    image, document = ImageFactory(alt_text="Theirs"), DocumentFactory(title="Theirs")
    assert _change_image(editor_client, image).status_code == 403
    response = editor_client.post(
        f"/admin/sitecontent/document/{document.pk}/change/", {"title": "Mine now"}
    )
    assert response.status_code == 403
    image.refresh_from_db(), document.refresh_from_db()
    assert (image.alt_text, document.title) == ("Theirs", "Theirs")


def test_a_document_a_live_article_lists_is_read_only_to_its_editor(editor_client):
    document = DocumentFactory(uploaded_by=editor_client.user, title="Report")
    ArticleFactory().attachments.add(document)
    response = editor_client.post(
        f"/admin/sitecontent/document/{document.pk}/change/", {"title": "Changed"}
    )
    assert response.status_code == 403
    document.refresh_from_db()
    assert document.title == "Report"


def test_a_publisher_changes_a_live_image_and_its_pages_are_purged(
    publisher_client, django_capture_on_commit_callbacks
):
    image = ImageFactory()
    ArticleFactory(hero_image=image, slug="with-image")
    with django_capture_on_commit_callbacks(execute=True):
        assert _change_image(publisher_client, image).status_code == 302
    image.refresh_from_db()
    assert image.alt_text == "New alt"
    assert "/articles/*" in {p for purge in cdn.get_backend().purges for p in purge}


def test_the_service_refuses_an_editor_whatever_called_it(editor_client):
    image = ImageFactory(uploaded_by=editor_client.user)
    ArticleFactory(hero_image=image)
    image.alt_text = "Changed in code"
    with pytest.raises(PermissionDenied):
        services.media_save(item=image, user=editor_client.user)
    image.refresh_from_db()
    assert image.alt_text != "Changed in code"


def test_the_read_only_form_asks_once_whether_live_pages_show_the_image(editor_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    image = ImageFactory(uploaded_by=editor_client.user)
    ArticleFactory(hero_image=image)
    with CaptureQueriesContext(connection) as queries:
        editor_client.get(f"/admin/sitecontent/image/{image.pk}/change/")
    # (The form's list of uses, selectors.media_uses, reads heroes too: not a live check.)
    live_checks = [
        q
        for q in queries.captured_queries
        if '"hero_image_id"' in q["sql"] and "uses_as_" not in q["sql"]
    ]
    assert len(live_checks) == 1


# -- following direct uploads: roles.uploads_visible_to ---------------------------


def _upload(user, name):
    from datetime import timedelta

    from django.utils import timezone

    from sitecontent.models import Upload

    return Upload.objects.create(
        kind=Upload.Kind.IMAGE,
        filename=name,
        content_type="image/png",
        size=10,
        key=f"uploads/{name}",
        expires_at=timezone.now() + timedelta(minutes=5),
        uploaded_by=user,
    )


def test_editors_follow_their_own_uploads_and_a_superuser_everyones(editor_client):
    from sitecontent import roles
    from sitecontent.models import Upload
    from tests.factories import UserFactory, editor

    mine = _upload(editor_client.user, "mine.png")
    theirs = _upload(editor(), "theirs.png")
    visible = roles.uploads_visible_to(editor_client.user, Upload.objects.all())
    assert list(visible) == [mine]
    superuser = UserFactory(is_superuser=True, is_staff=True)
    assert set(roles.uploads_visible_to(superuser, Upload.objects.all())) == {mine, theirs}
    # The admin's list and the status requests ask the same rule.
    assert editor_client.get(f"/admin/sitecontent/upload/{mine.pk}/status/").status_code == 200
    assert editor_client.get(f"/admin/sitecontent/upload/{theirs.pk}/status/").status_code == 404
    listing = editor_client.get("/admin/sitecontent/upload/").content.decode()
    assert "mine.png" in listing
    assert "theirs.png" not in listing
