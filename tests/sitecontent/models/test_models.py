from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from sitecontent.models import Article, Page, Status, image_upload_to
from tests.factories import ArticleFactory, PageFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def states():
    """One article in each publication state, seen from NOON."""
    return {
        Status.DRAFT: ArticleFactory(is_published=False, publish_at=None),
        Status.SCHEDULED: ArticleFactory(publish_at=NOON + timedelta(hours=1)),
        Status.PUBLISHED: ArticleFactory(publish_at=NOON - timedelta(days=1)),
        Status.EXPIRED: ArticleFactory(
            publish_at=NOON - timedelta(days=2), unpublish_at=NOON - timedelta(minutes=1)
        ),
    }


def test_each_item_reports_its_state(states):
    for status, article in states.items():
        assert article.status_at(NOON) == status


def test_queryset_filters_agree_with_each_items_state(states):
    for status, article in states.items():
        assert list(Article.objects.with_status(status, at=NOON)) == [article]


def test_only_the_published_item_is_live(states):
    assert list(Article.objects.live(at=NOON)) == [states[Status.PUBLISHED]]


def test_scheduled_article_is_hidden_until_publish_at_then_live_that_minute():
    go_live = NOON + timedelta(minutes=30)
    article = ArticleFactory(publish_at=go_live)
    with time_machine.travel(go_live - timedelta(seconds=1), tick=False):
        assert not Article.objects.live().filter(pk=article.pk).exists()
    with time_machine.travel(go_live, tick=False):
        assert Article.objects.live().filter(pk=article.pk).exists()


def test_article_disappears_at_unpublish_at():
    expiry = NOON + timedelta(hours=2)
    article = ArticleFactory(publish_at=NOON - timedelta(days=1), unpublish_at=expiry)
    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        assert article.is_live()
        assert Article.objects.live().filter(pk=article.pk).exists()
    with time_machine.travel(expiry, tick=False):
        assert article.status == Status.EXPIRED
        assert not Article.objects.live().filter(pk=article.pk).exists()


def test_draft_is_never_live_even_with_past_publish_at():
    article = ArticleFactory(is_published=False, publish_at=NOON - timedelta(days=3))
    assert article.status_at(NOON) == Status.DRAFT
    assert not Article.objects.live(at=NOON).exists()


@time_machine.travel(NOON, tick=False)
def test_publishing_without_a_time_means_now():
    article = ArticleFactory(is_published=True, publish_at=None)
    assert article.publish_at == NOON
    assert article.status == Status.PUBLISHED


def test_expiry_before_go_live_is_a_field_error():
    article = ArticleFactory.build(
        author=UserFactory(), category=None, publish_at=NOON, unpublish_at=NOON
    )
    with pytest.raises(ValidationError) as caught:
        article.full_clean()
    assert "unpublish_at" in caught.value.message_dict
    assert "after the go-live time" in caught.value.message_dict["unpublish_at"][0]


def test_database_refuses_expiry_before_go_live_even_without_validation():
    article = ArticleFactory(publish_at=NOON)
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(unpublish_at=NOON - timedelta(days=1))


def test_database_refuses_a_published_row_without_go_live_time():
    article = ArticleFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(publish_at=None)


def test_upload_keys_are_unique_and_tidy():
    first = image_upload_to(None, "My Holiday PHOTO.JPG")
    second = image_upload_to(None, "My Holiday PHOTO.JPG")
    assert first != second
    assert first.startswith("images/")
    assert first.endswith("/my-holiday-photo.jpg")


def test_public_name_never_reveals_the_username():
    user = UserFactory(username="secret-login", display_name="", first_name="", last_name="")
    assert user.public_name == "Staff writer"
    user.first_name, user.last_name = "Ada", "Lovelace"
    assert user.public_name == "Ada Lovelace"
    user.display_name = "A. L."
    assert user.public_name == "A. L."


class TestPageTree:
    def test_url_follows_the_slug_path(self):
        about = PageFactory(slug="about")
        team = PageFactory(slug="team", parent=about)
        assert team.get_absolute_url() == "/about/team/"

    def test_two_root_pages_cannot_share_a_slug(self):
        PageFactory(slug="about")
        with pytest.raises(ValidationError) as caught:
            PageFactory.build(slug="about").full_clean()
        assert "slug" in caught.value.message_dict

    def test_siblings_cannot_share_a_slug_but_cousins_can(self):
        about, contact = PageFactory(slug="about"), PageFactory(slug="contact")
        PageFactory(slug="team", parent=about)
        PageFactory.build(slug="team", parent=contact).full_clean()
        with pytest.raises(ValidationError, match="same parent"):
            PageFactory.build(slug="team", parent=about).full_clean()

    @pytest.mark.parametrize("slug", ["articles", "admin", "categories", "tags", "static"])
    def test_root_slug_may_not_shadow_another_address(self, slug):
        with pytest.raises(ValidationError) as caught:
            PageFactory.build(slug=slug).full_clean()
        assert "used by another part of the site" in caught.value.message_dict["slug"][0]

    def test_reserved_word_is_fine_below_the_root(self):
        PageFactory.build(slug="articles", parent=PageFactory(slug="about")).full_clean()

    def test_page_cannot_sit_under_its_own_descendant(self):
        top = PageFactory(slug="top")
        child = PageFactory(slug="child", parent=top)
        top.parent = child
        with pytest.raises(ValidationError) as caught:
            top.full_clean()
        assert "parent" in caught.value.message_dict

    def test_pages_nest_at_most_max_depth(self):
        parent = None
        for depth in range(Page.MAX_DEPTH):
            parent = PageFactory(slug=f"level-{depth}", parent=parent)
        with pytest.raises(ValidationError, match="at most"):
            PageFactory.build(slug="too-deep", parent=parent).full_clean()


class TestMetaText:
    """The title and description search engines show, with the fallbacks every reader
    (templates, JSON-LD, the API) takes from the model."""

    def test_the_seo_fields_win_when_filled(self):
        article = Article(title="T", summary="S", seo_title="SEO T", seo_description="SEO D")
        assert (article.meta_title, article.meta_description) == ("SEO T", "SEO D")
        page = Page(title="T", body="<p>B</p>", seo_title="SEO T", seo_description="SEO D")
        assert (page.meta_title, page.meta_description) == ("SEO T", "SEO D")

    def test_an_article_falls_back_to_its_title_and_summary(self):
        article = Article(title="Title", summary="Summary & more")
        assert (article.meta_title, article.meta_description) == ("Title", "Summary & more")

    def test_a_page_falls_back_to_the_start_of_its_body_as_plain_text(self):
        page = Page(title="Title", body=f"<h2>Hello</h2><p>Fish &amp; chips {'x' * 300}</p>")
        assert page.meta_title == "Title"
        description = page.meta_description
        assert description.startswith("HelloFish & chips x")
        assert len(description) == Page.DESCRIPTION_LENGTH
        assert description.endswith("…")
        assert Page(title="Empty", body="").meta_description == ""


def test_pages_and_the_api_show_the_same_meta_text(client):
    page = PageFactory(slug="about", seo_title="", body="<p>Fish &amp; chips</p>")
    html = client.get(page.get_absolute_url()).content.decode()
    assert '<meta name="description" content="Fish &amp; chips">' in html
    [item] = client.get("/api/v1/pages/").json()["results"]
    assert (item["meta_title"], item["meta_description"]) == (page.title, "Fish & chips")
    article = ArticleFactory(slug="a", seo_description="For search.")
    detail = client.get("/api/v1/articles/a/").json()
    assert (detail["meta_title"], detail["meta_description"]) == (article.title, "For search.")
