"""The audit log in the admin: read-only, for Publishers; filters by person, action,
item type and item; search; items linked while they exist; a CSV of what the filters
show, safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sitecontent.admin.audit import csv_safe
from sitecontent.models import Article, AuditEvent
from sitecontent.publishing import services
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
)
from tests.factories import editor as make_editor
from tests.factories import publisher as make_publisher

pytestmark = pytest.mark.django_db

LOG = "/admin/sitecontent/auditevent/"
EXPORT = f"{LOG}export.csv"
Action = AuditEvent.Action


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def pat():
    return make_publisher(username="pat")


@pytest.fixture
def pat_client(pat):
    return signed_in(pat)


def rows(response):
    return list(response.context["cl"].result_list)


def read_csv(response):
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


# -- who may see it --------------------------------------------------------------------


def test_editors_cannot_see_the_log_and_publishers_only_read_it(pat_client):
    event = AuditEvent.objects.record(Action.LOCKOUT, message="x")
    editor = signed_in(make_editor(username="eda"))
    for url in (LOG, EXPORT, f"{LOG}{event.pk}/change/"):
        assert editor.get(url).status_code == 403, url
    assert "auditevent" not in editor.get("/admin/").content.decode()
    assert pat_client.get(LOG).status_code == 200
    assert pat_client.get(f"{LOG}{event.pk}/change/").status_code == 200
    for url in (f"{LOG}add/", f"{LOG}{event.pk}/delete/"):
        assert pat_client.get(url).status_code == 403, url
    response = pat_client.post(f"{LOG}{event.pk}/change/", {"message": "rewritten"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.message == "x"
    listing = pat_client.get(LOG)
    assert "action-checkbox" not in listing.content.decode()  # no bulk delete
    assert 'name="_save"' not in pat_client.get(f"{LOG}{event.pk}/change/").content.decode()


# -- the list --------------------------------------------------------------------------


def test_the_list_links_items_that_exist_and_names_deleted_ones(pat, pat_client):
    kept = ArticleFactory(title="Still here")
    gone = ArticleFactory(title="Deleted story")
    services.content_publish(item=kept, user=pat)
    services.content_delete(item=gone, user=pat)
    html = pat_client.get(LOG).content.decode()
    assert f'<a href="/admin/sitecontent/article/{kept.pk}/change/">Still here</a>' in html
    assert "Deleted story <em>(deleted)</em>" in html
    assert f"/admin/sitecontent/article/{gone.pk}/change/" not in html
    assert "pat" in html


def test_the_lists_queries_do_not_grow_with_its_rows(pat, pat_client):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert pat_client.get(LOG).status_code == 200
        return len(queries)

    for item in (ArticleFactory(), PageFactory(), ImageFactory(), DocumentFactory()):
        AuditEvent.objects.record(Action.EDIT, user=pat, item=item)
    count()  # the session's and the content types' first reads
    few = count()
    for _ in range(5):
        for item in (ArticleFactory(), PageFactory(), ImageFactory(), DocumentFactory()):
            AuditEvent.objects.record(Action.EDIT, user=pat, item=item)
    assert count() == few


@pytest.fixture
def history(pat):
    """Two people, two item types, several actions."""
    other = make_publisher(username="quinn")
    article = ArticleFactory(title="Harbour news")
    page = PageFactory(title="About us")
    AuditEvent.objects.record(Action.EDIT, user=pat, item=article)
    AuditEvent.objects.record(Action.PUBLISH, user=other, item=article)
    AuditEvent.objects.record(Action.EDIT, user=other, item=page)
    AuditEvent.objects.record(Action.LOCKOUT, message="Sign-in locked out for “mallory”")
    return {"article": article, "page": page, "other": other}


def test_filters_by_person_action_item_type_and_item(pat_client, history):
    article, page, other = history["article"], history["page"], history["other"]
    by_quinn = rows(pat_client.get(LOG, {"actor": other.pk}))
    assert {e.actor_name for e in by_quinn} == {"quinn"}
    assert len(by_quinn) == 2
    by_the_system = rows(pat_client.get(LOG, {"actor": "system"}))
    assert [e.action for e in by_the_system] == [Action.LOCKOUT]
    edits = rows(pat_client.get(LOG, {"action__exact": "edit"}))
    assert {e.object_repr for e in edits} == {"Harbour news", "About us"}
    pages = ContentType.objects.get_for_model(page)
    assert [
        e.object_repr for e in rows(pat_client.get(LOG, {"content_type__id__exact": pages.pk}))
    ] == ["About us"]
    articles = ContentType.objects.get_for_model(article)
    one = pat_client.get(LOG, {"content_type__id__exact": articles.pk, "object_id": article.pk})
    assert [e.action for e in rows(one)] == [Action.PUBLISH, Action.EDIT]
    assert "Harbour news" in one.content.decode()  # the item filter names what it shows


def test_search_finds_people_titles_and_messages(pat_client, history):
    assert len(rows(pat_client.get(LOG, {"q": "harbour"}))) == 2
    assert len(rows(pat_client.get(LOG, {"q": "quinn"}))) == 2
    assert [e.action for e in rows(pat_client.get(LOG, {"q": "mallory"}))] == [Action.LOCKOUT]


def test_the_list_has_a_date_hierarchy_and_a_csv_link_keeping_the_filters(pat_client, history):
    html = pat_client.get(LOG, {"action__exact": "edit", "q": "about"}).content.decode()
    assert 'aria-labelledby="date-hierarchy-label"' in html
    assert f'href="{EXPORT}?action__exact=edit&amp;q=about"' in html


def test_each_items_change_form_links_to_its_history(pat_client, pat):
    items = [ArticleFactory(), PageFactory(), ImageFactory(), DocumentFactory()]
    for item in items:
        opts = item._meta
        html = pat_client.get(f"/admin/sitecontent/{opts.model_name}/{item.pk}/change/")
        content_type = ContentType.objects.get_for_model(item)
        link = f"{LOG}?content_type__id__exact={content_type.pk}&amp;object_id={item.pk}"
        assert f'href="{link}"' in html.content.decode(), opts.model_name
    editor = signed_in(make_editor(username="eda"))
    html = editor.get(f"/admin/sitecontent/article/{items[0].pk}/change/").content.decode()
    assert LOG not in html  # no link to a page they may not see
    category = CategoryFactory()
    html = pat_client.get(f"/admin/sitecontent/category/{category.pk}/change/").content.decode()
    assert "History of this item" not in html  # categories are not in the log


# -- CSV -------------------------------------------------------------------------------


def test_the_csv_holds_what_the_filters_select(pat_client, history):
    article = history["article"]
    articles = ContentType.objects.get_for_model(article)
    table = read_csv(
        pat_client.get(EXPORT, {"content_type__id__exact": articles.pk, "object_id": article.pk})
    )
    assert table[0] == [
        "at",
        "actor",
        "action",
        "item type",
        "item id",
        "item",
        "message",
        "details",
    ]
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in table[1:]] == [
        ("quinn", "published", "article", str(article.pk), "Harbour news"),
        ("pat", "edited", "article", str(article.pk), "Harbour news"),
    ]
    everything = read_csv(pat_client.get(EXPORT))
    assert len(everything) == 1 + AuditEvent.objects.count()


def test_the_csv_is_all_records_not_one_page(pat_client, pat):
    article = ArticleFactory()
    AuditEvent.objects.bulk_create(
        [AuditEvent(action=Action.EDIT, actor_name="pat", object_repr=article.title)] * 150
    )
    assert len(read_csv(pat_client.get(EXPORT))) == 151


def test_the_csv_turns_formulas_into_text(pat_client, pat):
    article = ArticleFactory(title='=HYPERLINK("https://evil.example","Click")')
    services.content_publish(item=article, user=pat)
    AuditEvent.objects.record(Action.LOCKOUT, message="+SUM(A1:A9)")
    table = read_csv(pat_client.get(EXPORT))
    cells = [cell for row in table[1:] for cell in row]
    assert '\'=HYPERLINK("https://evil.example","Click")' in cells
    assert "'+SUM(A1:A9)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_csv_safe(value, safe):
    assert csv_safe(value) == safe


def test_kept_after_delete_in_the_list_and_the_csv(pat, pat_client):
    article = ArticleFactory(title="Short-lived")
    article_id = article.pk
    services.content_delete(item=article, user=pat)
    assert not Article.objects.filter(pk=article_id).exists()
    listing = rows(pat_client.get(LOG, {"object_id": article_id}))
    assert [(e.action, e.object_repr) for e in listing] == [(Action.DELETE, "Short-lived")]
    table = read_csv(pat_client.get(EXPORT, {"object_id": article_id}))
    assert [(r[2], r[5]) for r in table[1:]] == [("deleted", "Short-lived")]
