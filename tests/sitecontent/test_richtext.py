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


EDITOR_OUTPUT = (
    "<h2>Heading</h2><h3>Sub</h3><h4>Minor</h4>"
    "<p><strong>b</strong> <em>i</em> <s>s</s> <sub>1</sub> <sup>2</sup> <code>c</code></p>"
    '<ul><li><p>one</p></li></ul><ol start="3"><li><p>three</p></li></ol>'
    "<blockquote><p>quote</p></blockquote><pre><code>x = 1</code></pre><hr>"
    "<p>line<br>break</p>"
    '<figure class="figure"><img src="https://media.example.com/media/images/a/b.jpg" '
    'alt="Boats" data-file="7"><figcaption>Harbour</figcaption></figure>'
)


def test_what_the_admin_editor_makes_survives_the_sanitizer_unchanged():
    assert sanitize_html(EDITOR_OUTPUT) == EDITOR_OUTPUT


def test_editor_links_keep_their_address_and_gain_a_safe_rel():
    link = '<p><a href="https://example.com/x">x</a></p>'
    assert sanitize_html(link) == (
        '<p><a href="https://example.com/x" rel="noopener noreferrer">x</a></p>'
    )


def test_editor_extensions_match_the_allow_list():
    from sitecontent.richtext import ALLOWED_URL_SCHEMES, editor_config

    extensions = editor_config()["extensions"]
    assert extensions["Heading"]["levels"] == [2, 3, 4]
    assert set(extensions["Link"]["protocols"]) == ALLOWED_URL_SCHEMES
    assert "Table" not in extensions  # the sanitizer would strip tables


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        # What the editor saved when typing replaced a figure's image (issue 14).
        ('<p>a</p><figure class="figure"><img></figure><p>b</p>', "<p>a</p><p>b</p>"),
        (
            '<figure class="figure"><img alt="x"><figcaption>c</figcaption></figure>',
            '<figure class="figure"><figcaption>c</figcaption></figure>',
        ),
        ('<p>x<img alt="y">z</p>', "<p>xz</p>"),
        ('<img src="/media/a.jpg" alt="">', '<img src="/media/a.jpg" alt="">'),
    ],
)
def test_images_without_an_address_are_dropped_with_a_figure_left_empty(stored, kept):
    assert sanitize_html(stored) == kept
    assert sanitize_html(kept) == kept
