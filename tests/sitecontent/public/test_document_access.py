"""Downloads follow what the public site shows: /documents/<id>/<name> answers only for a
document a live article or reachable page lists or links; ids are sequential, so any
other is a 404 like one that does not exist. Previews and the admin have their own
ways in."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cms import cdn
from sitecontent.publishing import previews as preview
from sitecontent.publishing import revisions, services
from tests.factories import ArticleFactory, DocumentFactory, PageFactory, publisher

pytestmark = pytest.mark.django_db


def _status(client, document):
    return client.get(document.get_absolute_url()).status_code


def test_a_document_only_drafts_list_is_not_downloadable(client):
    document = DocumentFactory()
    ArticleFactory(is_published=False, publish_at=None).attachments.add(document)
    ArticleFactory(publish_at=timezone.now() + timedelta(days=1)).attachments.add(document)
    PageFactory(is_published=False, publish_at=None).attachments.add(document)
    assert _status(client, document) == 404
    assert _status(client, DocumentFactory()) == 404  # attached to nothing at all


def test_documents_live_content_lists_or_links_are_downloadable(client):
    listed, linked, on_page = DocumentFactory(), DocumentFactory(), DocumentFactory()
    ArticleFactory().attachments.add(listed)
    ArticleFactory(body=f'<p><a href="{linked.get_absolute_url()}">the report</a></p>')
    PageFactory().attachments.add(on_page)
    assert [_status(client, d) for d in (listed, linked, on_page)] == [200, 200, 200]


def test_a_live_page_under_a_draft_parent_does_not_publish_its_documents(client):
    document = DocumentFactory()
    hidden = PageFactory(is_published=False, publish_at=None)
    PageFactory(parent=hidden).attachments.add(document)
    assert _status(client, document) == 404


def test_unpublishing_the_article_withdraws_the_download_and_purges_it(
    client, django_capture_on_commit_callbacks
):
    document = DocumentFactory()
    article = ArticleFactory()
    article.attachments.add(document)
    assert _status(client, document) == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.content_unpublish(item=article, user=publisher())
    assert _status(client, document) == 404
    purged = {path for purge in cdn.get_backend().purges for path in purge}
    assert f"/documents/{document.pk}/*" in purged


def test_a_preview_link_downloads_what_the_previewed_draft_lists_and_nothing_else():
    listed, other = DocumentFactory(title="Draft appendix"), DocumentFactory()
    article = ArticleFactory(is_published=False, publish_at=None)
    draft = revisions.revision_create(
        item=article,
        user=None,
        applied=False,
        data={**revisions.snapshot(article), "attachments": [listed.pk]},
    )
    visitor = Client()
    link = preview.preview_url(article, draft)
    html = visitor.get(link).content.decode()
    download = f"{link}documents/{listed.pk}/{listed.filename}"
    assert f'href="{download}"' in html
    response = visitor.get(download)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert visitor.get(f"{link}documents/{other.pk}/{other.filename}").status_code == 404
    assert _status(visitor, listed) == 404  # the public address still refuses it
    assert visitor.get(f"/preview/bad-token/documents/{listed.pk}/x").status_code == 404


def test_staff_download_any_document_from_the_admin_never_cached(editor_client, client):
    document = DocumentFactory()
    address = f"/admin/sitecontent/document/{document.pk}/download/"
    change = editor_client.get(f"/admin/sitecontent/document/{document.pk}/change/")
    assert f'href="{address}"' in change.content.decode()
    response = editor_client.get(address)
    assert response.status_code == 200
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert client.get(address).status_code == 302  # anonymous: the sign-in page
