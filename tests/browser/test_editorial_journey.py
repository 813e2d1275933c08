"""The editorial journey in Chromium: an Editor writes an article with rich text and an
image from the library and saves a draft; a reviewer opens its preview link; a
Publisher schedules it; the clock passes its time and visitors see it; a revision is
restored, after a confirmation saying it goes live. No Content Security Policy violation
anywhere along the way."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from sitecontent.models import Article, Status
from tests.browser.conftest import assert_accessible, save_screenshot, sign_in
from tests.factories import CategoryFactory, ImageFactory, editor, publisher
from tests.media_corpus import valid_jpeg

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_write_preview_schedule_go_live_and_restore(
    open_page, live_server, settings, csp_violations
):
    settings.SERVE_MEDIA_FILES = True
    image = ImageFactory(
        title="Harbour at dawn",
        alt_text="Boats moored at dawn",
        file=ContentFile(valid_jpeg((1200, 800)), name="harbour.jpg"),
    )
    CategoryFactory(name="News", slug="news")
    editor(username="eda")
    publisher(username="pat")
    url = live_server.url

    # 1. The Editor writes, with formatting and an image from the media library.
    eda = open_page()
    sign_in(eda, live_server, "eda")
    eda.goto(f"{url}/admin/sitecontent/article/add/")
    eda.locator("#id_title").press_sequentially("Harbour diaries")
    expect(eda.locator("#id_slug")).to_have_value("harbour-diaries")
    eda.fill("#id_summary", "Notes from the quay at first light.")
    body = eda.locator(".ProseMirror[contenteditable=true]")
    body.click()
    eda.keyboard.type("Morning light on the water. ")
    eda.click("button[title=bold]")
    eda.keyboard.type("Gulls everywhere.")
    eda.click("button[title=bold]")
    eda.keyboard.press("Enter")
    # The library opens in a dialog in the page (no popup window); the image goes in
    # with its alt text and the cursor after it.
    eda.get_by_role("button", name="Insert image from the library").click()
    chooser = eda.get_by_role("dialog", name="Choose an image")
    chooser.get_by_role("button", name="Harbour at dawn").click()
    expect(chooser).to_be_hidden()
    expect(body.locator("figure img")).to_have_attribute("alt", "Boats moored at dawn")
    save_screenshot(eda, "journey-1-editor-writes")
    eda.click("input[name=_save]")
    eda.wait_for_url(f"{url}/admin/sitecontent/article/")
    article = Article.objects.get()
    assert article.status == Status.DRAFT
    assert "<strong>Gulls everywhere.</strong>" in article.body
    assert f"{image.folder}/" in article.body  # the library image, by its rendition
    assert 'alt="Boats moored at dawn"' in article.body

    # 2. Its preview link works for a reviewer who has no admin account.
    eda.goto(f"{url}/admin/sitecontent/article/{article.pk}/change/")
    eda.get_by_role("link", name="Preview").click()
    link = eda.locator("#preview-link").input_value()
    reviewer = open_page()
    reviewer.goto(link)
    assert reviewer.locator("h1").inner_text() == "Harbour diaries"
    assert reviewer.locator(".prose img").evaluate("img => img.complete && img.naturalWidth > 0")
    save_screenshot(reviewer, "journey-2-preview")

    # 3. The Publisher schedules it for later; visitors cannot see it yet.
    go_live = (timezone.localtime() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    pat = open_page()
    sign_in(pat, live_server, "pat")
    pat.goto(f"{url}/admin/sitecontent/article/")
    pat.locator("input.action-select").first.check()
    pat.select_option("select[name=action]", "schedule")
    pat.click("button[name=index]")
    pat.fill("input[type=datetime-local]", go_live.strftime("%Y-%m-%dT%H:%M"))
    pat.get_by_role("button", name="Schedule").click()
    pat.wait_for_url(f"{url}/admin/sitecontent/article/")
    badge = pat.locator(".status-badge").first.inner_text()
    assert badge == f"Scheduled for {go_live:%Y-%m-%d %H:%M} UTC"
    save_screenshot(pat, "journey-3-scheduled")
    visitor = open_page(viewport=(390, 844))
    assert visitor.goto(f"{url}/articles/harbour-diaries/").status == 404

    # 4. The clock passes the go-live time: the article is on the site, no job needed.
    # Only the server's clock travels, so this visitor's browser still holds the 404
    # it was told to keep until go-live; a visitor who arrives after it sees the page.
    with time_machine.travel(go_live + timedelta(minutes=1), tick=True):
        visitor = open_page(viewport=(390, 844))
        assert visitor.goto(f"{url}/articles/harbour-diaries/").status == 200
        assert visitor.locator("h1").inner_text() == "Harbour diaries"
        save_screenshot(visitor, "journey-4-live-on-a-phone")
        visitor.goto(f"{url}/")
        assert "Harbour diaries" in visitor.locator("main").inner_text()

        # 5. A later edit goes live; the Publisher then restores the first version.
        pat.goto(f"{url}/admin/sitecontent/article/{article.pk}/change/")
        pat.fill("#id_title", "Harbour diaries, revised")
        pat.click("input[name=_save]")
        # A reload revalidates the browser's copy (ETag) and fetches the edit.
        visitor.goto(f"{url}/articles/harbour-diaries/")
        visitor.reload()
        assert visitor.locator("h1").inner_text() == "Harbour diaries, revised"
        pat.goto(f"{url}/admin/sitecontent/article/{article.pk}/revisions/")
        save_screenshot(pat, "journey-5-revisions")
        # Restoring asks first, saying it goes live and what changes.
        pat.get_by_role("link", name="Restore this version…").last.click()
        expect(pat.locator(".restore-outcome")).to_contain_text("These changes will go live now")
        expect(pat.locator('tr[data-field="title"]')).to_contain_text("Harbour diaries, revised")
        assert_accessible(pat, "restore confirmation")
        save_screenshot(pat, "journey-5b-restore-confirmation")
        pat.get_by_role("button", name="Yes, restore and put live").click()
        expect(pat.locator(".messagelist")).to_contain_text("Restored; the changes are live.")
        visitor.goto(f"{url}/articles/harbour-diaries/")
        visitor.reload()
        assert visitor.locator("h1").inner_text() == "Harbour diaries"
        save_screenshot(visitor, "journey-6-restored")

    assert csp_violations == []
