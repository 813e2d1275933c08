"""Site search: ranking on PostgreSQL full text and on the fallback, what is searchable,
snippets, pagination, and queries of any shape.

The suite runs on SQLite by default and on PostgreSQL in CI: tests marked ``full_text``
need PostgreSQL; the fallback's tests force the fallback, so they run on both."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sitecontent.public import search
from tests.factories import ArticleFactory, PageFactory
from tests.html_safety import problems

pytestmark = pytest.mark.django_db

full_text = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL full-text search (CI runs it)"
)


@pytest.fixture
def fallback(monkeypatch):
    monkeypatch.setattr(search, "uses_full_text", lambda: False)


def titles(response):
    """Article result titles, in order."""
    html = response.content.decode()
    section = html.split('id="article-results"', 1)[1]
    return re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', section)


def results(response):
    """The page after the search form (the form's own inputs are expected there)."""
    return response.content.decode().split("</form>", 1)[1]


def get(client, q, **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200, (q, response.status_code)
    return response


def ranking_fixture():
    ArticleFactory(title="Weekly notes", summary="Odds and ends.", body="<p>Harbour news.</p>")
    ArticleFactory(title="Harbour lights", summary="At dusk.", body="<p>Lamps.</p>")
    ArticleFactory(title="Port of call", summary="The harbour at dawn.", body="<p>Ships.</p>")
    ArticleFactory(title="Unrelated", summary="Mountains.", body="<p>Snow.</p>")


@full_text
class TestFullText:
    def test_title_outranks_summary_outranks_body(self, client):
        ranking_fixture()
        assert titles(get(client, "harbour")) == ["Harbour lights", "Port of call", "Weekly notes"]

    def test_stemming_finds_other_forms_of_a_word(self, client):
        ArticleFactory(title="Sailing lessons", body="<p>We sailed.</p>")
        assert titles(get(client, "sails")) == ["Sailing lessons"]

    def test_web_search_syntax_phrases_exclusion_and_or(self, client):
        ArticleFactory(title="Red boats", body="<p>Small red boats in a row.</p>")
        ArticleFactory(title="Blue boats", body="<p>Boats, red paint peeling.</p>")
        ArticleFactory(title="Green gardens", body="<p>Gardens.</p>")
        assert titles(get(client, '"red boats"')) == ["Red boats"]
        assert titles(get(client, "boats -blue")) == ["Red boats"]
        assert set(titles(get(client, "gardens or blue"))) == {"Blue boats", "Green gardens"}

    def test_vector_follows_edits(self, client):
        article = ArticleFactory(title="Before", body="<p>Nothing.</p>")
        assert titles(get(client, "lighthouse")) == []
        article.title = "Lighthouse keepers"
        article.save()
        assert titles(get(client, "lighthouse")) == ["Lighthouse keepers"]

    def test_uses_the_gin_index(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'sitecontent_article'"
            )
            indexes = [row[0] for row in cursor.fetchall()]
        assert any("USING gin (search_vector)" in index for index in indexes), indexes


class TestFallback:
    def test_every_word_must_match_and_title_hits_rank_first(self, client, fallback):
        ranking_fixture()
        found = titles(get(client, "harbour"))
        assert found[0] == "Harbour lights"
        assert set(found) == {"Harbour lights", "Port of call", "Weekly notes"}
        assert titles(get(client, "harbour dawn")) == ["Port of call"]
        assert titles(get(client, "harbour snow")) == []

    def test_matching_is_case_insensitive_and_ignores_excluded_words(self, client, fallback):
        ArticleFactory(title="Tide Tables", body="<p>High water.</p>")
        assert titles(get(client, "TIDE -tables")) == ["Tide Tables"]


class TestWhatIsSearched:
    def test_only_live_articles_and_pages_are_found(self, client):
        now = timezone.now()
        ArticleFactory(title="Visible quokka")
        ArticleFactory(title="Draft quokka", is_published=False, publish_at=None)
        ArticleFactory(title="Future quokka", publish_at=now + timedelta(days=1))
        ArticleFactory(
            title="Expired quokka",
            publish_at=now - timedelta(days=3),
            unpublish_at=now - timedelta(days=1),
        )
        PageFactory(title="Quokka facts", body="<p>Small marsupials.</p>")
        PageFactory(title="Hidden quokka page", is_published=False, publish_at=None)
        response = get(client, "quokka")
        html = response.content.decode()
        assert titles(response) == ["Visible quokka"]
        assert "Quokka facts" in html.split('id="page-results"', 1)[1]
        for hidden in ("Draft quokka", "Future quokka", "Expired quokka", "Hidden quokka page"):
            assert hidden not in html

    def test_live_pages_under_a_parent_that_is_not_live_are_not_found(self, client):
        now = timezone.now()
        draft = PageFactory(slug="hidden", is_published=False, publish_at=None)
        expired = PageFactory(
            slug="gone", publish_at=now - timedelta(days=3), unpublish_at=now - timedelta(days=1)
        )
        live = PageFactory(slug="open")
        PageFactory(title="Wombat under draft", parent=draft)
        PageFactory(title="Wombat under expired", parent=PageFactory(parent=expired))
        PageFactory(title="Wombat reachable", parent=PageFactory(parent=live))
        html = get(client, "wombat").content.decode().split('id="page-results"', 1)[1]
        assert "Wombat reachable" in html
        assert "Wombat under draft" not in html
        assert "Wombat under expired" not in html

    def test_no_query_lists_nothing_and_the_page_is_not_indexed(self, client):
        ArticleFactory(title="Anything")
        html = get(client, "").content.decode()
        assert 'id="article-results"' not in html
        assert '<meta name="robots" content="noindex, follow">' in html


class TestSnippets:
    def test_snippet_marks_the_words_and_escapes_the_text(self, client):
        ArticleFactory(
            title="Markup",
            summary="A summary.",
            body="<p>Before &amp; after <b>lanterns</b> <script>alert(1)</script> shine, "
            "&lt;script&gt;alert(2)&lt;/script&gt; written out.</p>",
        )
        response = get(client, "lantern")
        found = results(response)
        assert "<mark>lanterns</mark>" in found
        assert "Before &amp; after" in found  # text, escaped; tags dropped
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in found
        assert "<script" not in found
        assert "<b>" not in found

    def test_snippet_is_an_excerpt_around_the_first_match(self):
        text = "<p>" + "filler " * 200 + "the beacon is lit " + "more " * 200 + "</p>"
        excerpt = search.snippet(text, ["beacon"])
        assert "<mark>beacon</mark>" in excerpt
        assert excerpt.startswith("… ")
        assert excerpt.endswith(" …")
        assert len(excerpt) < 300

    def test_snippet_of_hostile_body_is_inert(self, client):
        ArticleFactory(title="Hostile", body='<p><img src=x onerror="alert(1)">pelican</p>')
        response = get(client, "pelican")
        assert titles(response) == ["Hostile"]
        assert problems(results(response)) == []


class TestPagination:
    def test_results_paginate_and_out_of_range_is_404(self, client, settings):
        for n in range(12):
            ArticleFactory(title=f"Gull {n}")
        first, second = get(client, "gull"), get(client, "gull", page=2)
        assert len(titles(first)) == 10
        assert len(titles(second)) == 2
        assert not set(titles(first)) & set(titles(second))
        assert 'rel="next" href="?q=gull&amp;page=2"' in first.content.decode()
        for page in ("3", "0", "last-ish", "99999999999999999999"):
            assert client.get("/search/", {"q": "gull", "page": page}).status_code == 404, page


HOSTILE_QUERIES = [
    "'",
    '"',
    '"unclosed phrase',
    "' OR 1=1 --",
    "'; DROP TABLE sitecontent_article; --",
    "1) UNION SELECT password FROM auth_user --",
    "&|!():*<->",
    "a & b | !c",
    "foo:* bar:A",
    "!!! ??? ***",
    "-",
    "- - -",
    "or",
    "and not or",
    "\\",
    "%",
    "_",
    "%_%",
    "\x00null\x00byte",
    "tab\tand\nnewline",
    "<script>alert(1)</script>",
    "ünïcödé 漢字 العربية",
    "🦜🦜🦜",
    "x" * 5000,
    "word " * 1000,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_any_query_is_results_or_an_empty_page_never_an_error(client, query):
    ArticleFactory(title="Ordinary article", body="<p>Word and more words.</p>")
    response = get(client, query)
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert problems(results(response)) == []


def test_query_is_trimmed_to_its_limit(client):
    response = get(client, "y" * 5000)
    assert 'value="' + "y" * search.MAX_QUERY_LENGTH + '"' in response.content.decode()


@pytest.mark.django_db
def test_generated_queries_and_page_numbers_never_break_search():
    """Whatever text and page a visitor (or a bot) sends, in any combination."""
    from django.test import Client
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    ArticleFactory(title="Ordinary article", body="<p>Word and more words.</p>")
    browser = Client()

    @settings(
        max_examples=60,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        queries=st.lists(st.text(max_size=300), min_size=1, max_size=3),
        page=st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 5).map(str)),
    )
    def check(queries, page):
        params = {"q": queries}
        if page is not None:
            params["page"] = page
        response = browser.get("/search/", params)
        assert response.status_code in {200, 404}, (queries, page)
        if response.status_code == 404:  # only for a page that is not there
            assert page not in (None, "", "1")
        else:
            assert problems(results(response)) == []

    check()
