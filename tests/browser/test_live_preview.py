"""The live preview in Chromium: a publisher opens an article, opens the panel, types in
the title and the body and sees the framed page follow; switches to the mobile width;
makes a "click here" link and sees the content check about it. Nothing is saved."""

import pytest
from playwright.sync_api import expect

from sitecontent.models import Article, Revision
from tests.browser.conftest import (
    AXE_FAILING_IMPACTS,
    AXE_SOURCE,
    AXE_TAGS,
    assert_accessible,
    save_screenshot,
    sign_in,
)
from tests.factories import ArticleFactory, publisher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def axe_violations_in(page, selector) -> list[dict]:
    """Serious and critical axe-core violations inside one element only."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    results = page.evaluate(
        "([selector, tags]) => axe.run(selector, {runOnly: {type: 'tag', values: tags}})",
        [selector, AXE_TAGS],
    )
    return [
        (v["id"], [n["target"] for n in v["nodes"]])
        for v in results["violations"]
        if v["impact"] in AXE_FAILING_IMPACTS
    ]


def test_the_preview_follows_typing_at_both_widths_and_lists_checks(page, live_server):
    publisher(username="pat")
    item = ArticleFactory(
        title="Harbour diaries from the quay",
        summary="Notes from the quay at first light, when the boats come in with the catch.",
        body="<p>Morning light on the water.</p>",
    )
    revisions_before = Revision.objects.count()
    csp_violations = []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and csp_violations.append(m.text),
    )
    sign_in(page, live_server, "pat")
    page.goto(f"{live_server.url}/admin/sitecontent/article/{item.pk}/change/")

    panel = page.locator("#live-preview")
    toggle = panel.get_by_role("button", name="Open the live preview")
    toggle.click()
    expect(panel.get_by_role("button", name="Close the live preview")).to_have_attribute(
        "aria-expanded", "true"
    )
    preview = page.frame_locator(".live-preview-frame")
    expect(preview.locator("h1")).to_have_text("Harbour diaries from the quay")

    # Typing in the title and the body: the framed page follows.
    title = page.locator("#id_title")
    title.press("End")
    title.press_sequentially(" at dawn")
    expect(preview.locator("h1")).to_have_text("Harbour diaries from the quay at dawn")
    body = page.locator(".ProseMirror[contenteditable=true]")
    body.click()
    page.keyboard.press("End")
    page.keyboard.type(" Gulls everywhere.")
    expect(preview.locator(".prose")).to_contain_text("Gulls everywhere.")

    # The mobile width: the iframe is 375 pixels wide.
    panel.get_by_role("button", name="Mobile").click()
    expect(panel.get_by_role("button", name="Mobile")).to_have_attribute("aria-pressed", "true")
    frame = page.locator(".live-preview-frame")
    assert frame.evaluate("f => f.clientWidth") == 375
    assert frame.evaluate("f => f.contentWindow.innerWidth") == 375
    panel.get_by_role("button", name="Desktop").click()
    assert frame.evaluate("f => f.clientWidth") == 1280

    # A "click here" link: the checks list says why that is vague.
    body.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("For the tide table click here")
    for _ in range(len("click here")):
        page.keyboard.press("Shift+ArrowLeft")
    page.click("button[title='insert link']")
    dialog = page.locator("dialog[open]")
    dialog.locator("input").first.fill("https://example.org/tides")
    dialog.get_by_role("button", name="Update").click()
    warning = panel.locator(".content-check[data-code=link-vague]")
    expect(warning).to_contain_text("“click here” does not say where it leads")
    expect(preview.locator(".prose a")).to_have_text("click here")
    warning.get_by_role("button", name="Go to the field").click()
    expect(body).to_be_focused()

    save_screenshot(page, "live-preview-open")
    # The panel on its own (what this feature adds), then the whole change form with it
    # open, then the framed public page (a Frame answers evaluate() as a page does).
    assert axe_violations_in(page, "#live-preview") == []
    assert_accessible(page, "article change form with the live preview open")
    framed = page.frame(url=lambda url: "/live-preview/frame/" in url)
    assert_accessible(framed, "the article in the live preview")
    assert csp_violations == []

    # Nothing was saved by previewing.
    item.refresh_from_db()
    assert item.title == "Harbour diaries from the quay"
    assert Revision.objects.count() == revisions_before
    assert Article.objects.count() == 1
