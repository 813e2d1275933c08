import pytest

from sitecontent.richtext import sanitize_html
from tests.factories import ArticleFactory, PageFactory

HOSTILE = [
    "<script>alert(1)</script><p>ok</p>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<math><mtext><img src=x onerror=alert(1)></mtext></math>",
    '<form action="https://evil.example"><input name="q"></form>',
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markup_comes_out_inert(payload):
    clean = sanitize_html(payload)
    for marker in (
        "<script",
        "onerror",
        "javascript:",
        "data:",
        "<iframe",
        "<svg",
        "<form",
        "style=",
    ):
        assert marker not in clean.lower()


def test_editorial_markup_survives():
    html = (
        '<h2>Heading</h2><p><strong>bold</strong> <em>it</em> <a href="https://example.com">'
        "link</a></p><ul><li>one</li></ul><blockquote><p>q</p></blockquote>"
        "<pre><code>x = 1</code></pre>"
    )
    clean = sanitize_html(html)
    for fragment in (
        "<h2>Heading</h2>",
        "<strong>bold</strong>",
        "<li>one</li>",
        "<blockquote>",
        "<pre><code>x = 1</code></pre>",
    ):
        assert fragment in clean
    assert 'rel="noopener noreferrer"' in clean


@pytest.mark.parametrize("href", ["mailto:a@example.com", "tel:+441234", "/about/", "https://x.y/"])
def test_allowed_link_schemes_are_kept(href):
    assert f'href="{href}"' in sanitize_html(f'<a href="{href}">x</a>')


@pytest.mark.parametrize("payload", HOSTILE)
def test_sanitizer_is_idempotent(payload):
    once = sanitize_html(payload)
    assert sanitize_html(once) == once


@pytest.mark.django_db
def test_every_save_sanitizes_rich_text_fields():
    article = ArticleFactory(body='<p onclick="x()">Hi</p><script>alert(1)</script>')
    page = PageFactory(body='<a href="javascript:alert(1)">x</a>')
    article.refresh_from_db()
    page.refresh_from_db()
    assert article.body == "<p>Hi</p>"
    assert "javascript" not in page.body
