"""One date format in the admin: ``Y-m-d H:i`` in the site's zone with the zone named
(cms/formats/en/formats.py, sitecontent.admin.content.local_time). Every admin page the
editors use is scanned for any other shape of date or time."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from django.utils.formats import date_format, get_format

from sitecontent.admin.content import local_time
from sitecontent.models import Article
from tests.admin_forms import article_form_for
from tests.factories import ArticleFactory, DocumentFactory, ImageFactory, UserFactory, editor

MONTHS = (
    "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April"
    "|June|July|August|September|October|November|December"
)
OTHER_SHAPES = [
    re.compile(rf"\b(?:{MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}"),  # Dec. 1, 2026
    re.compile(rf"\b\d{{1,2}} (?:{MONTHS})\.?,? \d{{4}}"),  # 1 December 2026
    re.compile(r"\b\d{1,2}(?::\d{2})? ?[ap]\.m\.", re.I),  # 10:30 p.m.
    re.compile(r"\b(?:midnight|noon)\b"),
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # 01/12/2026
    re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),  # ISO 8601 in text
    re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b,? \d{1,2}"),  # Tue 1 Dec
]
# A date with a time must carry the zone: "2026-12-01 23:30 CET".
TIME_WITHOUT_ZONE = re.compile(
    r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?(?! (?:[A-Z]{2,5}|[+-]\d{2}))"
)


class VisibleText(HTMLParser):
    """The text a person reads: no attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style", "template")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style", "template") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def other_date_shapes(text: str) -> list[str]:
    found = [m.group(0) for shape in OTHER_SHAPES for m in shape.finditer(text)]
    return found + [f"{m.group(0)} (no zone)" for m in TIME_WITHOUT_ZONE.finditer(text)]


def test_the_scanner_finds_djangos_own_formats():
    assert other_date_shapes("Dec. 1, 2026, 10:30 p.m.") == ["Dec. 1, 2026", "10:30 p.m."]
    assert other_date_shapes("Tue 1 Dec, 22:30") == ["Tue 1"]
    assert other_date_shapes("at 2026-12-01 22:30 here") == ["2026-12-01 22:30 (no zone)"]
    assert other_date_shapes("at 2026-12-01 22:30 CET") == []


def test_settings_and_local_time_agree(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    at = timezone.make_aware(timezone.datetime(2026, 12, 1, 22, 30))
    assert local_time(at) == "2026-12-01 22:30 CET"
    assert date_format(timezone.localtime(at), "DATETIME_FORMAT") == local_time(at)
    assert date_format(at.date(), "DATE_FORMAT") == "2026-12-01"
    # The form fields show and accept the same shape.
    assert get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"
    assert get_format("TIME_INPUT_FORMATS")[0] == "%H:%M"
    assert get_format("DATETIME_INPUT_FORMATS")[0] == "%Y-%m-%d %H:%M"


@pytest.fixture
def content(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    root = UserFactory(username="root", is_superuser=True)
    eda = editor(username="eda")
    article = ArticleFactory(author=eda, publish_at=timezone.now() - timedelta(days=3))
    ArticleFactory(publish_at=timezone.now() + timedelta(days=2))  # scheduled
    ImageFactory()
    DocumentFactory()
    return {"root": root, "eda": eda, "article": article}


@pytest.mark.django_db
def test_every_admin_page_shows_one_date_format(client, content):
    article = content["article"]
    change_url = f"/admin/sitecontent/article/{article.pk}/change/"
    # A publisher's save makes an applied revision; then an Editor's change to the live
    # article becomes a draft, whose banner names its time.
    client.force_login(content["root"])
    data = article_form_for(article, summary="New summary")
    assert client.post(change_url, data).status_code == 302
    client.force_login(content["eda"])
    data = article_form_for(Article.objects.get(pk=article.pk), title="Changed")
    data.update(_savedraft="1")
    assert client.post(change_url, data).status_code == 302
    client.force_login(content["root"])

    pages = [
        "/admin/",
        "/admin/sitecontent/article/",
        f"/admin/sitecontent/article/?publish_at__year={timezone.now().year}",
        f"/admin/sitecontent/article/{article.pk}/change/",
        f"/admin/sitecontent/article/{article.pk}/history/",
        f"/admin/sitecontent/article/{article.pk}/revisions/",
        "/admin/sitecontent/page/",
        "/admin/sitecontent/image/",
        "/admin/sitecontent/document/",
        "/admin/operations/",
    ]
    dated = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        assert other_date_shapes(text) == [], url
        dated += bool(re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} CES?T", text))
    # Most pages do show times, so the scan saw the format in use, not an empty page.
    assert dated >= 6
    change = visible_text(
        client.get(f"/admin/sitecontent/article/{article.pk}/change/").content.decode()
    )
    assert re.search(r"a draft by .* from \d{4}-\d{2}-\d{2} \d{2}:\d{2} CET", change)
