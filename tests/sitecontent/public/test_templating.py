"""sitecontent.public.templating: the public pages' Jinja2 environment. Only ``.jinja``
names are its own (Django's engine keeps the admin's and every app's ``.html``), its
output is escaped, and its helpers print what Django's tags and filters print."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.template import TemplateDoesNotExist, engines
from django.template import defaultfilters as django_filters
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from sitecontent.public import templating

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PUBLIC = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.jinja"))


def jinja():
    return engines["jinja2"]


def test_the_public_templates_are_jinja2_and_everything_else_django():
    assert len(PUBLIC) >= 12
    for name in PUBLIC:
        assert get_template(name).backend is jinja(), name
    for name in ("admin/base_site.html", "admin/index.html", "500.html", "503.html"):
        with pytest.raises(TemplateDoesNotExist):
            jinja().get_template(name)
        assert get_template(name).backend is engines["django"], name


def test_every_public_template_compiles():
    for name in PUBLIC:
        jinja().env.get_template(name)  # a syntax error raises here


def test_output_is_escaped_unless_marked_safe():
    template = jinja().from_string("{{ text }}|{{ safe }}|{{ attr }}")
    out = template.render(
        {"text": "<script>x</script>", "safe": mark_safe("<b>ok</b>"), "attr": '" onload="x'}
    )
    assert out == "&lt;script&gt;x&lt;/script&gt;|<b>ok</b>|&#34; onload=&#34;x"


def test_a_missing_variable_prints_nothing_and_reading_from_it_is_an_error():
    assert jinja().from_string("[{{ missing }}]").render({}) == "[]"
    with pytest.raises(Exception, match="undefined"):
        jinja().from_string("{{ missing.attribute }}").render({})


@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2026, 3, 29, 0, 30, tzinfo=datetime.UTC),  # before the DST change
        datetime.datetime(2026, 10, 25, 23, 59, 59, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 1, 12, 0),  # naive
        datetime.date(2026, 2, 3),
    ],
)
@pytest.mark.parametrize("tz", ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"])
def test_dates_print_as_djangos_date_filter_in_the_current_time_zone(value, tz):
    with timezone.override(tz):
        for fmt in ("c", "j F Y", "Y", None):
            local = timezone.template_localtime(value)
            expected = django_filters.date(local, fmt)
            assert templating.date(value, fmt) == expected, (value, tz, fmt)
    assert templating.date(None, "c") == templating.date("", "c") == ""


def test_file_sizes_and_urls_are_djangos():
    for size in (0, 1, 1023, 1024, 1536, 10**6, 5 * 2**30):
        assert templating.filesizeformat(size) == django_filters.filesizeformat(size)
    assert templating.url("sitecontent:search") == reverse("sitecontent:search")
    assert templating.url("sitecontent:tag_detail", slug="aws") == reverse(
        "sitecontent:tag_detail", kwargs={"slug": "aws"}
    )
    assert templating.url("sitecontent:preview_document", "tok", 3, "a.pdf") == reverse(
        "sitecontent:preview_document", args=("tok", 3, "a.pdf")
    )


def test_nav_state_marks_the_page_and_what_is_below_it():
    assert templating.nav_state("/articles/", "/articles/") == "page"
    assert templating.nav_state("/articles/a/", "/articles/") == "true"
    assert templating.nav_state("/about/", "/articles/") == ""
    assert templating.nav_state("/anything/", "/") == ""


@pytest.mark.django_db
def test_precompiled_templates_render_every_page_as_the_sources_do(client, settings, tmp_path):
    """The Lambda package carries the templates compiled to modules (cms.lambda_build);
    a page must come out of them byte for byte as it does from the sources."""
    import shutil

    from tests.factories import (
        ArticleFactory,
        CategoryFactory,
        DocumentFactory,
        ImageFactory,
        PageFactory,
        TagFactory,
    )

    tags, category = TagFactory.create_batch(2), CategoryFactory()
    article = ArticleFactory(
        title="Quotes ' & <b>", hero_image=ImageFactory(), category=category, featured=True
    )
    article.tags.set(tags)
    article.attachments.add(DocumentFactory())
    ArticleFactory.create_batch(12, category=category)
    page = PageFactory(slug="about", show_in_menus=True)
    urls = [
        "/", "/articles/", "/articles/?page=2", article.get_absolute_url(),
        category.get_absolute_url(), tags[0].get_absolute_url(), page.get_absolute_url(),
        "/search/?q=quotes", "/no-such-page/",
    ]  # fmt: skip
    from_sources = {url: client.get(url) for url in urls}

    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES, copy)
    assert sorted(templating.compile_templates(copy)) == PUBLIC
    jinja_settings, django_settings = settings.TEMPLATES
    settings.TEMPLATES = [{**jinja_settings, "DIRS": [copy]}, django_settings]
    for name in PUBLIC:  # each from its module, none compiled from source
        assert jinja().env.get_template(name).filename.startswith(str(copy / "compiled"))
    for url, expected in from_sources.items():
        response = client.get(url)
        assert response.status_code == expected.status_code, url
        assert response.content == expected.content, url
