"""Where an image or document is used (selectors.media_uses): the change form's "Used on
these pages", drafts included, in two queries whatever the number of uses."""

import pytest

from sitecontent.media import selectors
from sitecontent.models import Status
from tests.factories import ArticleFactory, DocumentFactory, ImageFactory, PageFactory, publisher

pytestmark = pytest.mark.django_db

DRAFT = {"is_published": False, "publish_at": None}


def described(uses):
    return {(use.item.title, use.item.status, use.ways) for use in uses}


def test_image_uses_hero_body_and_pasted_rendition(django_assert_num_queries):
    image, other = ImageFactory(), ImageFactory()
    ArticleFactory(
        title="Hero and body",
        hero_image=image,
        body=f'<img src="/media/x.jpg" data-file="{image.pk}">',
    )
    ArticleFactory(title="Draft hero", hero_image=image, **DRAFT)
    ArticleFactory(title="Pasted", body=f'<img src="/media/{image.folder}/renditions/320.webp">')
    PageFactory(title="A page", body=f'<p><img src="/media/x.jpg" data-file="{image.pk}"></p>')
    ArticleFactory(
        title="Another id", body=f'<img src="/media/x.jpg" data-file="{image.pk}0">'
    )  # not a match
    ArticleFactory(title="Other", hero_image=other)
    with django_assert_num_queries(2):  # articles, pages
        uses = selectors.media_uses(image)
        shown = described(uses)
    assert shown == {
        ("Draft hero", Status.DRAFT, ("hero image",)),
        ("Hero and body", Status.PUBLISHED, ("hero image", "body")),
        ("Pasted", Status.PUBLISHED, ("body",)),
        ("A page", Status.PUBLISHED, ("body",)),
    }


def test_queries_do_not_grow_with_the_uses(django_assert_num_queries):
    image = ImageFactory()
    ArticleFactory.create_batch(8, hero_image=image)
    PageFactory.create_batch(4, body=f'<img src="/media/x.jpg" data-file="{image.pk}">')
    with django_assert_num_queries(2):
        assert len(selectors.media_uses(image)) == 12


def test_document_uses_attachments_and_body_links(django_assert_num_queries):
    document = DocumentFactory()
    attached = ArticleFactory(title="Attached")
    attached.attachments.add(document)
    ArticleFactory(title="Linked", body=f'<a href="/documents/{document.pk}/x.pdf">x</a>', **DRAFT)
    page = PageFactory(title="Page", body=f'<a href="/documents/{document.pk}/x.pdf">x</a>')
    page.attachments.add(document, DocumentFactory())
    with django_assert_num_queries(2):
        shown = described(selectors.media_uses(document))
    assert shown == {
        ("Attached", Status.PUBLISHED, ("attachment",)),
        ("Linked", Status.DRAFT, ("body",)),
        ("Page", Status.PUBLISHED, ("body", "attachment")),
    }


def test_unused_media_and_unsaved_media_have_no_uses():
    assert selectors.media_uses(ImageFactory()) == []
    assert selectors.media_uses(DocumentFactory.build()) == []


def test_change_forms_list_the_uses_with_links_and_state(client):
    image = ImageFactory()
    article = ArticleFactory(title="Storm warning", hero_image=image, **DRAFT)
    document = DocumentFactory()
    page = PageFactory(title="Opening hours")
    page.attachments.add(document)
    client.force_login(publisher())
    html = client.get(f"/admin/sitecontent/image/{image.pk}/change/").content.decode()
    assert f'<a href="/admin/sitecontent/article/{article.pk}/change/">Storm warning</a>' in html
    assert "Article, Draft: hero image" in html
    html = client.get(f"/admin/sitecontent/document/{document.pk}/change/").content.decode()
    assert f'<a href="/admin/sitecontent/page/{page.pk}/change/">Opening hours</a>' in html
    assert "Page, Published: attachment" in html
    unused = ImageFactory()
    html = client.get(f"/admin/sitecontent/image/{unused.pk}/change/").content.decode()
    assert "No article or page uses this image." in html
