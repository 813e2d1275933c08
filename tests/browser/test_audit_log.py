"""The audit log in Chromium: a Publisher opens it, narrows it to one item from that
item's change form, and downloads what the filters show as CSV; every page passes axe."""

import csv
import io

import pytest
from playwright.sync_api import expect

from sitecontent.models import AuditEvent
from sitecontent.publishing import services
from tests.browser.conftest import assert_accessible, save_screenshot, sign_in
from tests.factories import ArticleFactory, publisher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_publisher_reads_filters_and_downloads_the_log(page, live_server):
    pat = publisher(username="pat")
    kept = ArticleFactory(title="Harbour diaries")
    gone = ArticleFactory(title="Withdrawn notice")
    services.content_unpublish(item=kept, user=pat)
    services.content_publish(item=kept, user=pat)
    services.content_delete(item=gone, user=pat)
    AuditEvent.objects.record(AuditEvent.Action.LOCKOUT, message="Sign-in locked out for “x”")
    url = live_server.url

    sign_in(page, live_server, "pat")
    page.goto(f"{url}/admin/sitecontent/auditevent/")
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    expect(page.locator("#result_list")).to_contain_text("Withdrawn notice (deleted)")
    assert_accessible(page, "audit log")
    save_screenshot(page, "audit-1-log")

    page.goto(f"{url}/admin/sitecontent/article/{kept.pk}/change/")
    page.get_by_role("link", name="History of this item").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("published")
    expect(page.locator("#changelist-filter")).to_contain_text("Harbour diaries")
    assert_accessible(page, "one item's history")
    save_screenshot(page, "audit-2-item-history")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    table = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert [(row[2], row[5]) for row in table[1:]] == [
        ("published", "Harbour diaries"),
        ("unpublished", "Harbour diaries"),
    ]
