"""Feeds, sitemap, robots.txt and the metadata search engines and link previews read.
Every document is parsed as its consumers parse it (XML, JSON), not grepped."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import parse_http_date

from sitecontent.public import selectors
from tests.factories import ArticleFactory, CategoryFactory, PageFactory, TagFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def articles():
    """Two live articles in two categories, and one of each hidden state."""
    now = timezone.now()
    news, travel = CategoryFactory(name="News", slug="news"), CategoryFactory(slug="travel")
    older = ArticleFactory(
        title="Older news", slug="older-news", category=news, publish_at=now - timedelta(days=2)
    )
    newer = ArticleFactory(
        title="Newer travel",
        slug="newer-travel",
        category=travel,
        summary="Trains & boats",
        publish_at=now - timedelta(hours=1),
    )
    newer.tags.add(TagFactory(name="Rail", slug="rail"))
    ArticleFactory(title="Draft", slug="draft", is_published=False, publish_at=None)
    ArticleFactory(title="Scheduled", slug="scheduled", publish_at=now + timedelta(hours=3))
    ArticleFactory(
        title="Expired",
        slug="expired",
        publish_at=now - timedelta(days=5),
        unpublish_at=now - timedelta(days=1),
    )
    return older, newer


def parse_xml(response, content_type):
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    return ET.fromstring(response.content)  # noqa: S314 - our own response, not untrusted


class TestRss:
    def test_site_feed_lists_live_articles_newest_first(self, client, articles, settings):
        _older, newer = articles
        channel = parse_xml(client.get("/feeds/rss/"), "application/rss+xml").find("channel")
        assert channel.findtext("title") == settings.SITE_NAME
        items = channel.findall("item")
        assert [item.findtext("title") for item in items] == ["Newer travel", "Older news"]
        first = items[0]
        assert first.findtext("link").endswith("/articles/newer-travel/")
        assert first.findtext("link").startswith(("http://", "https://"))
        # HTML, as readers render it: the plain-text summary is escaped for HTML first.
        assert first.findtext("description") == "Trains &amp; boats"
        assert [c.text for c in first.findall("category")] == ["Rail"]
        published = parsedate_to_datetime(first.findtext("pubDate"))
        assert abs(published - newer.publish_at) < timedelta(seconds=1)

    def test_category_feed_lists_that_category_only(self, client, articles):
        channel = parse_xml(client.get("/categories/news/rss/"), "application/rss+xml").find(
            "channel"
        )
        assert channel.findtext("title").endswith(": News")
        assert [item.findtext("title") for item in channel.findall("item")] == ["Older news"]

    def test_unknown_category_feed_is_404(self, client):
        assert client.get("/categories/nope/rss/").status_code == 404
        assert client.get("/categories/nope/atom/").status_code == 404

    def test_feed_is_capped(self, client):
        for n in range(25):
            ArticleFactory(title=f"Item {n}")
        channel = parse_xml(client.get("/feeds/rss/"), "application/rss+xml").find("channel")
        assert len(channel.findall("item")) == 20


class TestTagFeeds:
    def test_tag_feeds_list_the_articles_with_that_tag_only(self, client, articles):
        channel = parse_xml(client.get("/tags/rail/rss/"), "application/rss+xml").find("channel")
        assert channel.findtext("title").endswith(": Rail")
        assert [item.findtext("title") for item in channel.findall("item")] == ["Newer travel"]
        feed = parse_xml(client.get("/tags/rail/atom/"), "application/atom+xml")
        assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == [
            "Newer travel"
        ]

    def test_unknown_tag_feed_is_404(self, client):
        assert client.get("/tags/nope/rss/").status_code == 404
        assert client.get("/tags/nope/atom/").status_code == 404

    def test_the_tag_archive_links_its_feed(self, client, articles):
        html = client.get("/tags/rail/").content.decode()
        assert '<a href="/tags/rail/rss/">RSS feed for Rail</a>' in html


class TestAtom:
    def test_site_feed_entries_have_ids_dates_and_authors(self, client, articles):
        _older, newer = articles
        feed = parse_xml(client.get("/feeds/atom/"), "application/atom+xml")
        entries = feed.findall(f"{ATOM}entry")
        assert [e.findtext(f"{ATOM}title") for e in entries] == ["Newer travel", "Older news"]
        entry = entries[0]
        assert entry.find(f"{ATOM}link").get("href").endswith("/articles/newer-travel/")
        assert entry.findtext(f"{ATOM}id")
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == newer.author.public_name
        published = parse_datetime(entry.findtext(f"{ATOM}published"))
        assert abs(published - newer.publish_at) < timedelta(seconds=1)
        assert parse_datetime(entry.findtext(f"{ATOM}updated"))
        assert parse_datetime(feed.findtext(f"{ATOM}updated"))

    def test_category_atom_feed(self, client, articles):
        feed = parse_xml(client.get("/categories/travel/atom/"), "application/atom+xml")
        assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == [
            "Newer travel"
        ]


class TestSitemap:
    def test_lists_live_content_with_lastmod(self, client, articles):
        _older, newer = articles
        about = PageFactory(title="About", slug="about")
        PageFactory(title="Hidden page", slug="hidden", is_published=False, publish_at=None)
        urlset = parse_xml(client.get("/sitemap.xml"), "application/xml")
        entries = {
            url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
            for url in urlset.findall(f"{SITEMAP}url")
        }
        paths = {re.sub(r"^https?://[^/]+", "", loc) for loc in entries}
        assert {
            "/",
            "/articles/",
            "/articles/older-news/",
            "/articles/newer-travel/",
            "/about/",
            "/categories/news/",
            "/categories/travel/",
        } <= paths
        for hidden in ("/articles/draft/", "/articles/scheduled/", "/articles/expired/"):
            assert hidden not in paths
        assert "/hidden/" not in paths

        # Django writes dates (W3C Datetime allows them), in the site's time zone.
        def lastmod(suffix):
            return next(v for k, v in entries.items() if k.endswith(suffix))

        assert lastmod("/newer-travel/") == timezone.localdate(newer.updated_at).isoformat()
        assert lastmod("/about/") == timezone.localdate(about.updated_at).isoformat()
        assert all(entries.values()), "every entry has a lastmod"

    def test_empty_categories_are_left_out(self, client, articles):
        CategoryFactory(slug="empty")
        ArticleFactory(category=CategoryFactory(slug="only-drafts"), is_published=False)
        locs = [
            u.findtext(f"{SITEMAP}loc")
            for u in parse_xml(client.get("/sitemap.xml"), "application/xml").findall(
                f"{SITEMAP}url"
            )
        ]
        assert not [loc for loc in locs if "/empty/" in loc or "/only-drafts/" in loc]

    def test_last_modified_header_is_the_newest_change(self, client, articles):
        # Django sends it only when every section has entries (no pages: no header;
        # the ETag still answers conditional requests then).
        older, newer = articles
        page = PageFactory()
        response = client.get("/sitemap.xml")
        newest = max(newer.updated_at, newer.publish_at, older.updated_at, page.updated_at)
        assert parse_http_date(response["Last-Modified"]) == int(newest.timestamp())


def test_robots_txt_keeps_crawlers_out_of_private_parts_and_names_the_sitemap(client, settings):
    settings.SITE_URL = "https://www.example.com"
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Disallow: /admin/", "Disallow: /preview/", "Disallow: /search/"} <= set(lines)
    assert "Sitemap: https://www.example.com/sitemap.xml" in lines


class _Head(HTMLParser):
    """The <meta>, <link rel=canonical> and JSON-LD of a page, as crawlers read them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta, self.canonical, self.json_ld, self._in_ld = {}, None, [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content")
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs["href"]
        self._in_ld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld.append(json.loads(data))

    def handle_endtag(self, tag):
        self._in_ld = False


def head(response):
    assert response.status_code == 200
    parser = _Head()
    parser.feed(response.content.decode())
    return parser


class TestArticleMetadata:
    def test_open_graph_twitter_and_canonical_use_the_seo_fields(self, client, settings):
        settings.SITE_URL = "https://www.example.com"
        ArticleFactory(
            title="Long headline",
            slug="long",
            seo_title="Short SEO title",
            seo_description="What search engines show.",
        )
        page = head(client.get("/articles/long/", {"utm_source": "x"}))
        assert page.canonical == "https://www.example.com/articles/long/"
        assert page.meta["og:url"] == page.canonical
        assert page.meta["og:type"] == "article"
        assert page.meta["og:title"] == "Short SEO title"
        assert page.meta["og:description"] == "What search engines show."
        assert page.meta["description"] == "What search engines show."
        assert page.meta["og:image"].startswith("https://www.example.com/")
        assert page.meta["twitter:card"] == "summary_large_image"

    def test_without_seo_fields_the_title_and_summary_serve(self, client):
        ArticleFactory(title="Plain title", slug="plain", summary="Plain summary.")
        page = head(client.get("/articles/plain/"))
        assert page.meta["og:title"] == "Plain title"
        assert page.meta["og:description"] == "Plain summary."

    def test_json_ld_describes_the_article(self, client, settings):
        settings.SITE_URL = "https://www.example.com"
        article = ArticleFactory(title="Structured", slug="structured", seo_title="")
        (data,) = head(client.get("/articles/structured/")).json_ld
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "Article"
        assert data["headline"] == "Structured"
        assert data["mainEntityOfPage"] == "https://www.example.com/articles/structured/"
        assert data["author"] == {"@type": "Person", "name": article.author.public_name}
        published = parse_datetime(data["datePublished"])
        assert abs(published - article.publish_at) < timedelta(milliseconds=1)
        assert data["publisher"]["name"] == settings.SITE_NAME

    def test_json_ld_cannot_be_broken_out_of(self, client):
        ArticleFactory(slug="escape", title="</script><script>alert(1)</script>")
        response = client.get("/articles/escape/")
        (data,) = head(response).json_ld
        assert data["headline"] == "</script><script>alert(1)</script>"
        assert "<script>alert(1)" not in response.content.decode()

    def test_list_pages_are_websites_with_their_own_canonical(self, client, articles, settings):
        settings.SITE_URL = "https://www.example.com"
        page = head(client.get("/categories/news/"))
        assert page.meta["og:type"] == "website"
        assert page.canonical == "https://www.example.com/categories/news/"
        assert page.json_ld == []

    def test_pages_link_their_feeds(self, client):
        html = client.get("/").content.decode()
        assert '<link rel="alternate" type="application/rss+xml"' in html
        assert '<link rel="alternate" type="application/atom+xml"' in html


def test_search_the_sitemap_and_the_api_reach_the_same_pages(client):
    """One reachability rule (``Page.objects.reachable``) behind every public list."""
    now = timezone.now()
    tree = {"live": PageFactory(slug="a", body="<p>needle</p>")}
    tree["draft"] = PageFactory(slug="b", is_published=False, publish_at=None, body="<p>needle</p>")
    tree["soon"] = PageFactory(slug="c", publish_at=now + timedelta(days=1), body="<p>needle</p>")
    for name, parent in list(tree.items()):
        child = PageFactory(parent=parent, slug=f"{name}-child", body="<p>needle</p>")
        PageFactory(parent=child, slug=f"{name}-grandchild", body="<p>needle</p>")
    expected = {"a", "live-child", "live-grandchild"}

    searched = {page.slug for page in selectors.search_pages().filter(body__contains="needle")}
    listed = {page["slug"] for page in client.get("/api/v1/pages/").json()["results"]}
    sitemap = parse_xml(client.get("/sitemap.xml"), "application/xml")
    mapped = {
        loc.text.rstrip("/").rsplit("/", 1)[-1]
        for loc in sitemap.iter(f"{SITEMAP}loc")
        if "/articles/" not in loc.text and "/categories/" not in loc.text
    } - {"", "articles", "testserver", "127.0.0.1:8000"}
    assert searched == listed == expected
    assert mapped == expected
    for slug in ("live-child/live-grandchild",):
        assert client.get(f"/a/{slug}/").status_code == 200
    assert client.get("/b/draft-child/").status_code == 404
