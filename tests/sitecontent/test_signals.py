"""Saving or deleting content purges what showed it, once per transaction, after commit."""

import pytest
from django.db import transaction

from cms import cdn
from tests.factories import ArticleFactory, CategoryFactory, PageFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def purges(django_capture_on_commit_callbacks):
    """Run a block as its own committed transaction; return the purges it caused."""

    class Recorder:
        def __call__(self, block):
            with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
                block()
            return cdn.get_backend().purges

    return Recorder()


def test_editing_a_draft_purges_nothing(purges):
    draft = ArticleFactory(is_published=False, publish_at=None)
    draft.title = "Still private"
    assert purges(draft.save) == []


def test_editing_a_live_article_purges_its_pages_once(purges):
    tag = TagFactory(slug="aws")
    article = ArticleFactory(slug="live-one", tags=[tag])

    def edit():
        article.title = "Changed"
        article.save()
        article.tags.add(TagFactory(slug="django"))

    [paths] = purges(edit)
    assert {"/", "/articles/*", "/tags/aws/*", "/tags/django/*"} <= set(paths)
    assert f"{article.category.get_absolute_url()}*" in paths


def test_moving_a_live_article_purges_old_and_new_category(purges):
    article = ArticleFactory()
    old_category = article.category.get_absolute_url()
    new_category = CategoryFactory()

    def move():
        article.category = new_category
        article.save()

    [paths] = purges(move)
    assert f"{old_category}*" in paths
    assert f"{new_category.get_absolute_url()}*" in paths


def test_deleting_a_live_page_purges_its_address(purges):
    page = PageFactory(slug="about")
    assert purges(page.delete) == [["/about/*", "/api/*", "/search/*", "/sitemap.xml"]]


def test_changing_a_category_purges_everything(purges):
    category = CategoryFactory()
    category.name = "Renamed"
    assert purges(category.save) == [["/*"]]


def test_unpublishing_purges_what_showed_the_article(purges):
    article = ArticleFactory(slug="going")

    def unpublish():
        article.is_published = False
        article.save()

    [paths] = purges(unpublish)
    assert "/articles/*" in paths
