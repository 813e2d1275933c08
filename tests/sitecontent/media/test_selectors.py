"""Which images and documents the public site shows (sitecontent.media.selectors): one
rule for the edit policy (roles.in_live_use), downloads and the API."""

import pytest

from sitecontent.media import selectors
from sitecontent.models import visibility
from tests.factories import ArticleFactory, DocumentFactory, ImageFactory, PageFactory

pytestmark = pytest.mark.django_db

DRAFT = {"is_published": False, "publish_at": None}


@pytest.fixture
def images():
    shown = {
        "hero": ImageFactory(title="hero"),
        "article body id": ImageFactory(title="article body id"),
        "article body file": ImageFactory(title="article body file"),
        "page body": ImageFactory(title="page body"),
    }
    ArticleFactory(hero_image=shown["hero"])
    ArticleFactory(body=f'<img src="/x.jpg" data-file="{shown["article body id"].pk}">')
    rendition = f"{shown['article body file'].folder}/renditions/320.webp"
    ArticleFactory(body=f'<img src="/media/{rendition}">')
    PageFactory(body=f'<img src="/x.jpg" data-file="{shown["page body"].pk}">')
    hidden = {
        "unused": ImageFactory(title="unused"),
        "draft hero": ImageFactory(title="draft hero"),
        "draft body": ImageFactory(title="draft body"),
        "unreachable page": ImageFactory(title="unreachable page"),
    }
    ArticleFactory(hero_image=hidden["draft hero"], **DRAFT)
    ArticleFactory(body=f'<img data-file="{hidden["draft body"].pk}">', **DRAFT)
    parent = PageFactory(**DRAFT)
    PageFactory(parent=parent, body=f'<img data-file="{hidden["unreachable page"].pk}">')
    return shown, hidden


def test_public_images_are_those_live_pages_show(images, django_assert_num_queries):
    shown, _hidden = images
    with django_assert_num_queries(1):
        public = set(visibility.public_images().values_list("title", flat=True))
    assert public == set(shown)


def test_image_is_public_asks_the_same_rule_of_one_image(images, django_assert_num_queries):
    shown, hidden = images
    for image in shown.values():
        with django_assert_num_queries(1):
            assert visibility.image_is_public(image), image.title
    for image in hidden.values():
        assert not visibility.image_is_public(image), image.title


def test_an_id_is_not_matched_as_the_start_of_another():
    image = ImageFactory()
    ArticleFactory(body=f'<img data-file="{image.pk}0">')
    assert not visibility.image_is_public(image)


def test_documents_are_public_while_a_live_item_lists_or_links_them():
    attached, linked, drafted = DocumentFactory(), DocumentFactory(), DocumentFactory()
    ArticleFactory().attachments.add(attached)
    PageFactory(body=f'<a href="{linked.get_absolute_url()}">x</a>')
    ArticleFactory(**DRAFT).attachments.add(drafted)
    assert visibility.document_is_public(attached)
    assert visibility.document_is_public(linked)
    assert not visibility.document_is_public(drafted)
    assert selectors.document_ids_shown_by(PageFactory(body="<p>none</p>")) == set()
