"""The review journey in Chromium: an Editor submits a new article for review with a
message; a Publisher finds it on the dashboard, compares it with what is live and asks
for changes; the Editor sees the outcome, edits and submits again; the Publisher
approves it for a time; the clock passes it and visitors see it. Each step emails the
other side. axe-core on every admin page along the way; no CSP violation."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from sitecontent.models import ReviewRequest
from sitecontent.publishing import revisions
from tests.browser.conftest import (
    assert_accessible,
    save_screenshot,
    sign_in,
)
from tests.factories import ArticleFactory, editor, publisher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_submit_request_changes_resubmit_approve_at_a_time_and_go_live(
    open_page, live_server, csp_violations
):
    eda_user = editor(username="eda", email="eda@example.com")
    publisher(username="pat", email="pat@example.com")
    article = ArticleFactory(
        title="Night ferry",
        slug="night-ferry",
        summary="The last crossing of the day.",
        author=eda_user,
        is_published=False,
        publish_at=None,
    )
    revisions.revision_create(item=article, user=eda_user)
    url = live_server.url
    change = f"{url}/admin/sitecontent/article/{article.pk}/change/"
    mail.outbox.clear()

    # 1. The Editor submits it for review with a message.
    eda = open_page()
    sign_in(eda, live_server, "eda")
    eda.goto(change)
    panel = eda.locator("#review-panel")
    panel.get_by_label("Message to the reviewer").fill("First draft: is the headline right?")
    assert_accessible(eda, "change form, before submitting")
    panel.get_by_role("button", name="Submit for review").click()
    expect(eda.locator(".messagelist")).to_contain_text("Submitted for review")
    expect(panel).to_contain_text("Awaiting review")
    save_screenshot(eda, "review-1-submitted")
    assert [m.to for m in mail.outbox] == [["pat@example.com"]]

    # 2. The Publisher finds it on the dashboard and opens the comparison.
    pat = open_page()
    sign_in(pat, live_server, "pat")
    awaiting = pat.locator("#awaiting-review")
    expect(awaiting).to_contain_text("First draft: is the headline right?")
    expect(awaiting).to_contain_text(str(eda_user))
    assert_accessible(pat, "dashboard, awaiting review")
    awaiting.get_by_role("link", name="Night ferry").click()
    expect(pat.locator("h1")).to_contain_text("Review of “Night ferry”")
    expect(pat.locator("table.review-compare")).to_contain_text("The last crossing of the day.")
    assert_accessible(pat, "review screen, round 1")
    save_screenshot(pat, "review-2-comparison")

    # 3. ... and asks for changes.
    pat.get_by_label("What should change").fill("Name the ferry in the headline.")
    pat.get_by_role("button", name="Request changes").click()
    expect(pat.locator(".messagelist")).to_contain_text("Changes requested")
    assert mail.outbox[-1].to == ["eda@example.com"]
    assert "Name the ferry in the headline." in mail.outbox[-1].body

    # 4. The Editor sees the outcome on the dashboard and the form, edits, submits again.
    eda.goto(f"{url}/admin/")
    expect(eda.locator("#your-submissions")).to_contain_text("Changes requested")
    assert_accessible(eda, "dashboard, your submissions")
    eda.goto(change)
    expect(panel).to_contain_text("Name the ferry in the headline.")
    eda.fill("#id_title", "Night ferry: the Saint Brendan")
    eda.click("input[name=_continue]")
    expect(eda.locator(".messagelist")).to_contain_text("changed successfully")
    panel.get_by_label("Message to the reviewer about this new round").fill("Named it.")
    panel.get_by_role("button", name="Submit again for review").click()
    expect(panel).to_contain_text("Awaiting review")
    assert_accessible(eda, "change form, round 2 awaiting review")
    save_screenshot(eda, "review-4-resubmitted")

    # 5. The Publisher approves round 2 for half an hour from now.
    go_live = (timezone.localtime() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    pat.goto(f"{url}/admin/")
    pat.locator("#awaiting-review").get_by_role(
        "link", name="Night ferry: the Saint Brendan"
    ).click()
    expect(pat.locator(".breadcrumbs")).to_contain_text("round 2")
    expect(pat.locator("tr[data-field=title]")).to_contain_text("Night ferry: the Saint Brendan")
    expect(pat.locator("table.review-list")).to_contain_text("Name the ferry in the headline.")
    assert_accessible(pat, "review screen, round 2")
    pat.fill("#id_go_live_at", go_live.strftime("%Y-%m-%dT%H:%M"))
    pat.get_by_role("button", name="Approve", exact=True).click()
    expect(pat.locator(".messagelist")).to_contain_text(
        f"Approved: it goes live at {go_live:%Y-%m-%d %H:%M} UTC."
    )
    save_screenshot(pat, "review-5-approved-for-later")
    assert [r.state for r in ReviewRequest.objects.order_by("round")] == [
        "changes_requested",
        "approved",
    ]
    assert mail.outbox[-1].to == ["eda@example.com"]
    assert mail.outbox[-1].subject.startswith("[Lambda CMS] Approved: Night ferry")
    eda.goto(change)
    expect(panel).to_contain_text(f"goes live at {go_live:%Y-%m-%d %H:%M} UTC")
    assert_accessible(eda, "change form, approved")

    # 6. Not public yet; once the clock passes the time, it is.
    visitor = open_page(viewport=(390, 844))
    assert visitor.goto(f"{url}/articles/night-ferry/").status == 404
    with time_machine.travel(go_live + timedelta(minutes=1), tick=True):
        visitor = open_page(viewport=(390, 844))
        assert visitor.goto(f"{url}/articles/night-ferry/").status == 200
        assert visitor.locator("h1").inner_text() == "Night ferry: the Saint Brendan"
        save_screenshot(visitor, "review-6-live")

    assert len(mail.outbox) == 4  # submitted, changes requested, submitted again, approved
    assert csp_violations == []
