"""Every internal address the public site links to answers: a crawl of a seeded site
from each kind of public page, following every href and src (and the links feeds and
the sitemap give), finds no 404. A template that builds an address by hand, or a link
to a route that does not exist, fails here."""

import xml.etree.ElementTree as ET
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings as django_settings
from django.templatetags.static import static

from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

# Crawled beyond the start pages up to this many addresses (a seeded site has fewer).
MAX_ADDRESSES = 300


class _Links(HTMLParser):
    """href and src of every element, and the addresses link previews read."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("href", "src"):
            if attributes.get(name):
                self.found.append(attributes[name])
        if attributes.get("srcset"):
            self.found += [part.split()[0] for part in attributes["srcset"].split(",")]
        if tag == "meta" and attributes.get("property") in {"og:url", "og:image"}:
            self.found.append(attributes.get("content") or "")


def links_in(response) -> list[str]:
    content_type = response["Content-Type"]
    if content_type.startswith("text/html"):
        parser = _Links()
        parser.feed(response.content.decode())
        return parser.found
    if "xml" in content_type:
        root = ET.fromstring(response.content)  # noqa: S314 - our own response
        found = []
        for element in root.iter():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "link":
                found.append(element.get("href") or element.text or "")
            elif tag in {"loc", "guid"} and element.get("isPermaLink", "true") == "true":
                found.append(element.text or "")
        return found
    return []


def internal_path(address: str, base: str) -> str | None:
    """The path (and query) of an address on this site, or None for another site's."""
    url = urlsplit(urljoin(base, address.strip()))
    if url.scheme not in {"http", "https"}:
        return None  # mailto:, data: …
    if url.netloc not in {"testserver", urlsplit(django_settings.SITE_URL).netloc}:
        return None
    return url.path + (f"?{url.query}" if url.query else "")


@pytest.fixture
def site():
    """A small site using every public feature: categories, tags, a hero image,
    a download, an image and a link in a body, pages with a child, menus."""
    news = CategoryFactory(name="News", slug="news")
    rail, boats = TagFactory(name="Rail", slug="rail"), TagFactory(name="Boats", slug="boats")
    hero = ImageFactory(title="Hero")
    inline = ImageFactory(title="Inline")
    report = DocumentFactory(title="Annual report")
    about = PageFactory(title="About", slug="about", show_in_menus=True)
    team = PageFactory(title="Team", slug="team", parent=about)
    article = ArticleFactory(
        title="Garden news",
        slug="garden-news",
        summary="What grows in the garden.",
        category=news,
        hero_image=hero,
        featured=True,
        body=(
            f'<p>See <a href="{team.get_absolute_url()}">the team</a>.</p>'
            f'<figure><img src="{inline.file.url}" data-file="{inline.pk}" alt="x"></figure>'
            f'<p><a href="{report.get_absolute_url()}">The report</a></p>'
        ),
        tags=[rail, boats],
    )
    article.attachments.add(report)
    about.attachments.add(report)
    for n in range(3):
        ArticleFactory(title=f"Garden item {n}", category=news, tags=[rail])
    return {"article": article, "category": news, "tag": rail, "page": about, "child": team}


class TestEveryInternalLinkAnswers:
    START = (
        "/",
        "/articles/",
        "/search/?q=garden",
        "/feeds/rss/",
        "/feeds/atom/",
        "/sitemap.xml",
    )

    def crawl(self, client, start):
        queue, seen, broken = deque(start), set(start), []
        while queue:
            path = queue.popleft()
            response = client.get(path)
            if response.status_code == 404:
                broken.append(path)
                continue
            assert response.status_code in {200, 301, 302}, (path, response.status_code)
            if len(seen) >= MAX_ADDRESSES or path.startswith(django_settings.MEDIA_URL):
                continue
            if response.status_code != 200 or response.streaming:
                continue
            for address in links_in(response):
                linked = internal_path(address, f"http://testserver{path}")
                if linked and linked not in seen:
                    seen.add(linked)
                    queue.append(linked)
        return seen, broken

    def test_no_internal_link_from_any_public_page_is_a_404(self, client, site, settings):
        settings.SERVE_MEDIA_FILES = True  # media from MEDIA_ROOT, as on a laptop
        start = [
            *self.START,
            site["article"].get_absolute_url(),
            site["category"].get_absolute_url(),
            site["tag"].get_absolute_url(),
            site["page"].get_absolute_url(),
            site["child"].get_absolute_url(),
        ]
        seen, broken = self.crawl(client, start)
        assert broken == []
        # The crawl did reach what the pages link: feeds of archives, downloads, media.
        for expected in ("/tags/rail/rss/", "/categories/news/rss/", "/about/team/"):
            assert expected in seen
        assert any(path.startswith("/documents/") for path in seen)
        assert any(path.startswith(settings.MEDIA_URL) for path in seen)
        assert any(path.startswith(static("")) for path in seen)
