"""Plain text editors write holds no control characters, whichever way it is stored,
and feeds carry it as text: escaped once more where the feed format says HTML."""

import xml.etree.ElementTree as ET

import pytest
from django.apps import apps
from django.db import models

from sitecontent.models import Article, Category
from sitecontent.models.fields import PlainCharField, PlainTextField, strip_control_characters
from sitecontent.richtext import RichTextField
from tests.admin_forms import article_form
from tests.factories import ArticleFactory, CategoryFactory, ImageFactory, UserFactory
from tests.html_safety import problems

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
CONTROL = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
HOSTILE_TEXT = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'

# Text fields that are not editors' prose: codes, keys and paths the code writes, slugs
# (their own validator), choices.
NOT_PROSE = {
    ("sitecontent", "user", "username"),  # its validator allows letters, digits, @.+-_
    ("sitecontent", "user", "password"),
    ("sitecontent", "document", "content_type"),
    ("sitecontent", "upload", "content_type"),
    ("sitecontent", "upload", "key"),
    ("sitecontent", "upload", "reason"),
}


def test_every_text_field_editors_fill_in_is_plain_or_rich_text():
    unguarded = []
    for model in apps.get_app_config("sitecontent").get_models():
        for field in model._meta.concrete_fields:
            key = (model._meta.app_label, model._meta.model_name, field.name)
            if (
                not isinstance(field, models.CharField | models.TextField)
                or isinstance(field, models.SlugField | models.EmailField)
                or field.choices
                or key in NOT_PROSE
            ):
                continue
            if not isinstance(field, PlainCharField | PlainTextField | RichTextField):
                unguarded.append(".".join(key))
    assert unguarded == []


def test_control_characters_are_dropped_and_one_line_fields_stay_on_one_line():
    assert strip_control_characters(f"a{CONTROL}b\tc\nd") == "ab\tc\nd"
    assert strip_control_characters("a\tb\r\nc", single_line=True) == "a b c"


def test_the_admin_form_stores_text_without_control_characters(publisher_client):
    response = publisher_client.post(
        "/admin/sitecontent/article/add/",
        article_form(
            title="Form\x0cfeed\ttitle",
            slug="control",
            summary="Line one\x0b\nline two\x1b",
            seo_title="Seo\x07",
            seo_description="Desc\x0c",
            author=publisher_client.user.pk,
        ),
    )
    assert response.status_code == 302
    article = Article.objects.get(slug="control")
    assert article.title == "Formfeed title"
    assert article.summary == "Line one\nline two"
    assert (article.seo_title, article.seo_description) == ("Seo", "Desc")


def test_saving_in_code_strips_them_too():
    author = UserFactory(display_name="Ann\x0c", first_name="A\x1b", bio="Bio\x0c\nmore")
    image = ImageFactory(alt_text="A\x0cpicture", caption="Cap\x00tion")
    category = CategoryFactory(description="About\x0c")
    author.refresh_from_db(), image.refresh_from_db(), category.refresh_from_db()
    assert (author.display_name, author.first_name, author.bio) == ("Ann", "A", "Bio\nmore")
    assert (image.alt_text, image.caption) == ("Apicture", "Caption")
    assert category.description == "About"


def _feed(client, address):
    response = client.get(address)
    assert response.status_code == 200
    return ET.fromstring(response.content)  # noqa: S314 - our own response


def test_feeds_carry_plain_text_escaped_for_readers_that_render_html(client):
    news = CategoryFactory(slug="news", description=HOSTILE_TEXT)
    ArticleFactory(title="Fish & chips <b>", summary=HOSTILE_TEXT, category=news)
    for address in ("/feeds/rss/", "/categories/news/rss/"):
        channel = _feed(client, address).find("channel")
        item = channel.find("item")
        assert item.findtext("title") == "Fish & chips <b>"  # RSS titles are text
        # What the reader renders as HTML, after undoing the XML escaping: inert text.
        shown = item.findtext("description")
        assert shown.startswith("&lt;img")
        assert problems(shown) == []
    assert (
        problems(_feed(client, "/categories/news/rss/").find("channel").findtext("description"))
        == []
    )
    for address in ("/feeds/atom/", "/categories/news/atom/"):
        feed = _feed(client, address)
        summary = feed.find(f"{ATOM}entry/{ATOM}summary")
        assert summary.get("type") == "html"
        assert summary.text.startswith("&lt;img")
        assert problems(summary.text) == []
    subtitle = _feed(client, "/categories/news/atom/").findtext(f"{ATOM}subtitle")
    assert subtitle == HOSTILE_TEXT  # Atom's subtitle is text: readers do not render it


def test_control_characters_stored_before_the_rule_do_not_break_the_feeds(client):
    news = CategoryFactory(slug="news")
    article = ArticleFactory(category=news, author=UserFactory(display_name="Ed"))
    tag = article.tags.create(name="t", slug="t")
    Article.objects.filter(pk=article.pk).update(title="T\x0c", summary="S\x0c\x1b")
    Category.objects.filter(pk=news.pk).update(description="D\x0b")
    type(tag).objects.filter(pk=tag.pk).update(name="t\x0c")
    type(article.author).objects.filter(pk=article.author_id).update(display_name="E\x0cd")
    for address in (
        "/feeds/rss/",
        "/feeds/atom/",
        "/categories/news/rss/",
        "/categories/news/atom/",
    ):
        _feed(client, address)
