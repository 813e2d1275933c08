"""Saving or deleting content purges what showed it, once per transaction, after commit."""

import json

import pytest
from django.contrib.auth.models import update_last_login
from django.core import serializers
from django.core.management import call_command
from django.db import transaction

from cms import cdn
from sitecontent.models import Document, Page
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    PageFactory,
    TagFactory,
    UserFactory,
)

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


# -- things shown on content pages but edited elsewhere ------------------------------


def test_renaming_an_author_purges_the_pages_showing_their_bylines(purges):
    author = UserFactory(display_name="Ada")
    ArticleFactory(author=author, slug="by-ada", category=CategoryFactory(slug="news"))
    ArticleFactory(author=author, is_published=False, publish_at=None)  # a draft

    def rename():
        author.display_name = "Ada Lovelace"
        author.save()

    [paths] = purges(rename)
    # Cards (home, lists, the category), the article itself (under /articles/*), feeds.
    assert {"/", "/articles/*", "/categories/news/*", "/feeds/*", "/api/*"} <= set(paths)


def test_an_author_with_nothing_live_or_a_sign_in_purges_nothing(purges, django_assert_num_queries):
    drafter = UserFactory()
    ArticleFactory(author=drafter, is_published=False, publish_at=None)
    writer = UserFactory()
    ArticleFactory(author=writer)

    def edit():
        drafter.bio = "Writes drafts."
        drafter.save()
        with django_assert_num_queries(1):  # the UPDATE: no look at bylines
            update_last_login(None, writer)
        writer.email = "new@example.com"  # not shown on any page
        writer.save()

    assert purges(edit) == []


def test_retitling_a_document_purges_its_download_and_what_lists_it(purges):
    document = DocumentFactory(title="Price list")
    ArticleFactory(slug="prices").attachments.add(document)
    PageFactory(slug="downloads").attachments.add(document)

    def retitle():
        document.title = "Price list 2027"
        document.save()

    [paths] = purges(retitle)
    assert f"/documents/{document.pk}/*" in paths
    assert {"/articles/*", "/downloads/*"} <= set(paths)


def test_deleting_a_document_purges_what_listed_it(purges):
    document = DocumentFactory()
    ArticleFactory(slug="with-download").attachments.add(document)
    pk = document.pk

    [paths] = purges(document.delete)
    assert {f"/documents/{pk}/*", "/articles/*"} <= set(paths)


def test_attaching_in_code_purges_the_pages_showing_it(purges):
    article = ArticleFactory(slug="gets-a-download")
    page = PageFactory(slug="forms")
    document = DocumentFactory()

    [from_article] = purges(lambda: article.attachments.add(document))
    assert "/articles/*" in from_article
    purges(lambda: document.pages.add(page))
    assert "/forms/*" in cdn.get_backend().purges[-1]
    draft = ArticleFactory(is_published=False, publish_at=None)
    draft.attachments.add(document)  # nobody sees a draft: nothing more to purge
    assert len(purges(lambda: draft.attachments.remove(document))) == 2


def test_tagging_from_the_tags_side_purges_the_tag_and_the_articles(purges):
    tag = TagFactory(slug="serverless")
    article = ArticleFactory(slug="tagged-later")

    [paths] = purges(lambda: tag.articles.add(article))
    assert {"/tags/serverless/*", "/articles/*", "/"} <= set(paths)


def test_adding_links_that_already_exist_purges_nothing(purges):
    tag, document = TagFactory(slug="known"), DocumentFactory()
    article = ArticleFactory(slug="linked", tags=[tag])
    article.attachments.add(document)
    ArticleFactory(slug="other", tags=[tag], category=CategoryFactory(slug="elsewhere"))

    def add_again():
        tag.articles.add(article)  # Django sends post_add with an empty pk_set
        document.articles.add(article)
        article.tags.add(tag)

    assert purges(add_again) == []


def test_clearing_from_either_side_purges_what_was_linked(purges):
    tag, document = TagFactory(slug="cleared"), DocumentFactory()
    ArticleFactory(slug="was-tagged", tags=[tag], category=CategoryFactory(slug="c1"))
    PageFactory(slug="forms").attachments.add(document)

    [paths] = purges(lambda: (tag.articles.clear(), document.pages.clear()))
    assert {"/tags/cleared/*", "/categories/c1/*", "/forms/*"} <= set(paths)


def test_saving_a_document_unchanged_purges_nothing(purges):
    document = DocumentFactory()
    ArticleFactory(slug="lists-it").attachments.add(document)
    assert purges(document.save) == []


def test_a_document_row_without_its_file_can_still_be_deleted(purges):
    document = DocumentFactory()
    ArticleFactory(slug="had-it").attachments.add(document)
    Document.objects.filter(pk=document.pk).update(file="")
    orphan = Document.objects.get(pk=document.pk)

    [paths] = purges(orphan.delete)
    assert {f"/documents/{document.pk}/*", "/articles/*"} <= set(paths)


def test_loading_a_fixture_with_a_child_page_before_its_parent(tmp_path):
    # dumpdata orders rows by primary key: a page moved under a newer page comes first.
    document = DocumentFactory()
    parent = PageFactory(slug="parent")
    child = PageFactory(slug="child", parent=parent)
    child.attachments.add(document)
    rows = json.loads(serializers.serialize("json", [child, parent]))
    rows[0]["pk"], rows[0]["fields"]["parent"], rows[1]["pk"] = 1000, 1001, 1001
    child.delete()
    parent.delete()
    fixture = tmp_path / "pages.json"
    fixture.write_text(json.dumps(rows))

    call_command("loaddata", str(fixture), verbosity=0)
    loaded = Page.objects.get(pk=1000)
    assert loaded.parent_id == 1001
    assert list(loaded.attachments.all()) == [document]
