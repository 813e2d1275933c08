"""Content checks: each finding from a body or fields that has it, none from one that
does not, and messages that never carry the editor's HTML."""

import pytest
from django.core.files.base import ContentFile
from django.template.loader import render_to_string

from sitecontent.models import Article, Page
from sitecontent.publishing.checks import (
    WARNING,
    content_checks,
    readability,
    syllables,
    warnings,
)
from tests.factories import ArticleFactory, ImageFactory, png_bytes
from tests.html_safety import problems
from tests.xss_corpus import VECTORS

GOOD_TITLE = "Harbour diaries from the quay"
GOOD_SUMMARY = "Notes from the quay at first light, when the boats come in with the catch."


def article(**fields) -> Article:
    """An unsaved article as the live preview builds one: good fields unless told."""
    values = {"title": GOOD_TITLE, "slug": "x", "summary": GOOD_SUMMARY, "body": "<p>Hi.</p>"}
    return Article(**{**values, **fields})


def codes(item) -> list[str]:
    return [check.code for check in content_checks(item)]


def test_a_tidy_article_has_no_findings():
    assert content_checks(article()) == []


# -- images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ['<img src="/a.jpg">', '<img src="/a.jpg" alt="">', '<img src="/a.jpg" alt="   ">'],
    ids=["no alt", "empty alt", "blank alt"],
)
def test_a_body_image_without_alt_text_is_flagged(body):
    found = content_checks(article(body=f"<p>Text</p>{body}"))
    assert [(c.code, c.where) for c in found] == [("alt-missing", "body")]
    assert "Image 1 in the body" in found[0].message


@pytest.mark.django_db
def test_the_hero_image_is_checked_by_its_library_alt_text():
    hero = ImageFactory(alt_text="", file=ContentFile(png_bytes(), name="quay.png"))
    found = content_checks(article(hero_image=hero))
    assert [(c.code, c.where) for c in found] == [("alt-missing", "hero_image")]

    hero.alt_text = "Boats at the quay"
    assert content_checks(article(hero_image=hero)) == []


@pytest.mark.django_db
def test_the_same_alt_text_twice_is_flagged_once_for_the_second_image():
    hero = ImageFactory(alt_text="Boats at the quay")
    body = '<img src="/b.jpg" alt="boats at the quay"><img src="/c.jpg" alt="Gulls">'
    found = content_checks(article(hero_image=hero, body=body))
    assert [(c.code, c.where) for c in found] == [("alt-duplicate", "body")]
    assert "the hero image" in found[0].message


@pytest.mark.parametrize(
    ("src", "alt"),
    [
        ("/media/images/IMG_2041.jpg", "IMG_2041"),
        ("/media/images/harbour-at-dawn.webp", "harbour at dawn"),
        ("/x.png", "photo.jpeg"),
    ],
)
def test_alt_text_that_is_the_file_name_is_flagged(src, alt):
    assert codes(article(body=f'<img src="{src}" alt="{alt}">')) == ["alt-file-name"]


def test_alt_text_that_describes_the_image_is_fine():
    body = '<img src="/media/harbour.jpg" alt="The harbour at dawn, boats moored two deep">'
    assert codes(article(body=body)) == []


@pytest.mark.django_db
def test_the_hero_image_alt_text_repeating_its_file_name_is_flagged():
    hero = ImageFactory(alt_text="quay-01", file=ContentFile(png_bytes(), name="quay-01.png"))
    assert codes(article(hero_image=hero)) == ["alt-file-name"]


# -- headings ---------------------------------------------------------------------------


def test_a_skipped_heading_level_is_flagged_with_the_level_to_use():
    body = "<h2>Morning</h2><p>a</p><h4>Gulls</h4><h3>Boats</h3><h4>Nets</h4>"
    found = content_checks(article(body=body))
    assert [c.code for c in found] == ["heading-skipped"]
    assert "“Gulls” (heading 4) follows a heading 2: use heading 3" in found[0].message


def test_a_body_starting_at_heading_3_skips_the_title_s_level_2():
    assert codes(article(body="<h3>Straight in</h3>")) == ["heading-skipped"]


def test_a_heading_1_in_the_body_is_flagged_as_the_title_already_is_one():
    found = content_checks(article(body="<h1>Another title</h1><h2>Part</h2>"))
    assert [c.code for c in found] == ["heading-h1"]


def test_headings_going_back_up_any_number_of_levels_are_fine():
    assert codes(article(body="<h2>a</h2><h3>b</h3><h4>c</h4><h2>d</h2><h3>e</h3>")) == []


def test_an_empty_heading_is_flagged():
    assert codes(article(body="<h2> </h2>")) == ["heading-empty"]


# -- links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["click here", "Click here!", "here", "Read more…", "more", "link", "this"]
)
def test_vague_link_text_is_flagged(text):
    found = content_checks(article(body=f'<p>For the tide table <a href="/t">{text}</a>.</p>'))
    assert [c.code for c in found] == ["link-vague"]
    assert text.strip("!…") in found[0].message


def test_link_text_that_names_its_target_is_fine():
    assert codes(article(body='<p><a href="/t">Read the tide table</a></p>')) == []


def test_a_link_with_no_text_is_flagged_with_its_address():
    found = content_checks(article(body='<p><a href="https://example.org/x"> </a></p>'))
    assert [c.code for c in found] == ["link-empty"]
    assert "https://example.org/x" in found[0].message


def test_an_image_link_is_named_by_its_alt_text():
    body = '<p><a href="/gallery"><img src="/a.jpg" alt="The gallery of boats"></a></p>'
    assert codes(article(body=body)) == []
    assert codes(article(body='<p><a href="/gallery"><img src="/a.jpg" alt=""></a></p>')) == [
        "alt-missing",
        "link-empty",
    ]


# -- search engines ---------------------------------------------------------------------


def test_a_long_title_is_flagged_and_a_short_seo_title_fixes_it():
    long_title = "A very long title that goes on about the harbour and the boats for ever"
    found = content_checks(article(title=long_title))
    assert [(c.code, c.where) for c in found] == [("title-long", "title")]
    assert content_checks(article(title=long_title, seo_title="Harbour diaries")) == []


def test_a_short_title_is_flagged():
    assert [(c.code, c.where) for c in content_checks(article(title="Boats"))] == [
        ("title-short", "title")
    ]
    assert codes(article(seo_title="Boats")) == ["title-short"]


@pytest.mark.parametrize(
    ("summary", "code"),
    [("Too short.", "description-short"), ("Long. " * 30, "description-long")],
)
def test_a_description_outside_50_to_160_characters_is_flagged(summary, code):
    found = content_checks(article(summary=summary))
    assert [(c.code, c.where) for c in found] == [(code, "summary")]
    fixed = article(summary=summary, seo_description=GOOD_SUMMARY)
    assert content_checks(fixed) == []


def test_a_page_s_description_comes_from_its_body():
    page = Page(title=GOOD_TITLE, slug="p", body="<p>Short.</p>")
    assert [(c.code, c.where) for c in content_checks(page)] == [("description-short", "body")]
    assert content_checks(Page(title=GOOD_TITLE, slug="p", body=f"<p>{GOOD_SUMMARY}</p>")) == []


# -- reading level ----------------------------------------------------------------------

PLAIN = "The boats come in at dawn. We buy fish on the quay. The gulls wait for scraps. " * 8
DENSE = (
    "Notwithstanding considerable institutional reorganisation, the municipality's "
    "infrastructural modernisation programme necessitated comprehensive environmental "
    "assessments, extraordinarily complicated procurement negotiations, and "
    "interdepartmental administrative coordination throughout the administrative "
    "jurisdiction. "
) * 5


def test_plain_text_gets_its_reading_level_as_a_note():
    found = content_checks(article(body=f"<p>{PLAIN}</p>"))
    assert [(c.code, c.severity) for c in found] == [("reading-level", "info")]
    assert found[0].message.startswith("Reading level: grade ")
    assert "Easy to read" in found[0].message


def test_dense_text_gets_a_reading_level_warning():
    found = content_checks(article(body=f"<p>{DENSE}</p>"))
    assert [(c.code, c.severity) for c in found] == [("reading-level", WARNING)]
    assert "Difficult" in found[0].message


@pytest.mark.parametrize(
    ("word", "count"),
    [("cat", 1), ("made", 1), ("table", 2), ("happy", 2), ("harbour", 2), ("reading", 2),
     ("institutional", 5), ("readability", 5)],
)  # fmt: skip
def test_syllables_are_counted_as_english_speakers_say_them(word, count):
    assert syllables(word) == count


def test_flesch_scores_follow_the_published_formulas():
    # 6 words, 1 sentence, 6 syllables: 206.835 - 1.015 * 6 - 84.6 * 1; 0.39 * 6 + 11.8 - 15.59.
    ease, grade, words = readability("The cat sat on the mat.")
    assert (round(ease, 3), round(grade, 2), words) == (116.145, -1.45, 6)


def test_short_texts_get_no_reading_level():
    assert "reading-level" not in codes(article(body="<p>Just a few words here.</p>"))


def test_warnings_leave_out_notes_and_come_first():
    body = f'<p>{PLAIN}</p><p><a href="/x">here</a></p>'
    found = content_checks(article(body=body))
    assert [c.code for c in found] == ["link-vague", "reading-level"]
    assert [c.code for c in warnings(article(body=body))] == ["link-vague"]


@pytest.mark.django_db
def test_checks_read_nothing_from_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        content_checks(article(body='<h2>a</h2><img src="/a.jpg"><a href="/">here</a>'))


# -- never echoing HTML -----------------------------------------------------------------


class TestXssCorpus:
    """Messages quote the editor's words as plain text; wherever they are shown they
    are escaped, and the HTML that lists them holds nothing a browser would run."""

    @staticmethod
    def shown(item, found):
        return render_to_string(
            "admin/sitecontent/includes/content_checks.html",
            {"content_checks": [(item, found)]},
        )

    @pytest.mark.parametrize("vector", VECTORS)
    def test_findings_about_hostile_html_list_as_inert_html(self, vector):
        body = (
            f"<h4>{vector}</h4><p><a href='/x'>{vector}</a> <a href='/y'>here</a></p>"
            f"<img src=\"/x.jpg\" alt='{vector}'><img src=\"/y.jpg\" alt='{vector}'>"
        )
        item = article(body=body, title=vector, summary=vector)
        found = content_checks(item)
        assert found  # the link "here" at least
        assert problems(self.shown(item, found)) == [], vector

    @pytest.mark.parametrize("vector", VECTORS)
    @pytest.mark.django_db
    def test_a_hero_image_alt_text_lists_as_inert_html(self, vector):
        hero = ImageFactory()
        hero.alt_text = vector  # as a form would hold it, unsaved
        item = article(hero_image=hero, body=f"<img src='/y.jpg' alt='{vector}'>")
        found = content_checks(item)
        assert problems(self.shown(item, found)) == [], vector


@pytest.mark.django_db
def test_a_stored_article_is_checked_as_it_is():
    stored = ArticleFactory(title=GOOD_TITLE, summary=GOOD_SUMMARY, body="<h4>Deep</h4>")
    assert codes(Article.objects.get(pk=stored.pk)) == ["heading-skipped"]
