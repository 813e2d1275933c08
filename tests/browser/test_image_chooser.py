"""The image chooser dialog in Chromium: the hero image is chosen (and an image uploaded)
in a modal in the page, the rich text editor inserts a library image through it, and an
inline image survives the editor typing after it, a save and a reload. Esc closes the
dialog, focus returns to what opened it and never leaves the dialog while it is open."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from sitecontent.models import Article, Image
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import ImageFactory, editor
from tests.media_corpus import valid_jpeg

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def writing(page, live_server, settings):
    """An Editor on a new article, with two images in the library; CSP violations kept."""
    settings.SERVE_MEDIA_FILES = True
    violations = []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and violations.append(m.text),
    )
    harbour = ImageFactory(
        title="Harbour at dawn",
        alt_text="Boats moored at dawn",
        file=ContentFile(valid_jpeg((1200, 800)), name="harbour.jpg"),
    )
    market = ImageFactory(
        title="Market day",
        alt_text="Stalls in the square",
        caption="Saturday's market",
        file=ContentFile(valid_jpeg((1200, 800)), name="market.jpg"),
    )
    editor(username="eda")
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/article/add/")
    page.fill("#id_title", "Harbour diaries")
    page.fill("#id_summary", "Notes from the quay.")
    yield page, harbour, market
    assert violations == []


def chooser(page):
    return page.get_by_role("dialog", name="Choose an image")


def editor_body(page):
    return page.locator(".ProseMirror[contenteditable=true]")


def test_hero_and_inline_image_chosen_in_the_dialog_survive_typing_save_and_reload(
    writing, live_server, screenshot
):
    page, harbour, market = writing
    assert_accessible(page, "article add")

    # The hero image: search the dialog, choose; the field shows it, focus comes back.
    page.get_by_role("button", name="Choose image").click()
    dialog = chooser(page)
    expect(dialog).to_be_visible()
    expect(dialog.locator(".image-choice")).to_have_count(2)
    expect(dialog.get_by_label("Search images")).to_be_focused()
    assert_accessible(page, "chooser dialog open")
    screenshot("chooser-1-open")
    dialog.get_by_label("Search images").fill("harbour")
    dialog.get_by_role("button", name="Search").click()
    expect(dialog.locator(".image-choice")).to_have_count(1)
    dialog.get_by_role("button", name="Harbour at dawn").click()
    expect(dialog).to_be_hidden()
    field = page.locator("[data-image-chooser]")
    expect(field.locator("[data-chooser-value]")).to_have_value(str(harbour.pk))
    expect(field.locator("[data-chooser-title]")).to_have_text("Harbour at dawn")
    expect(field.locator("[data-chooser-thumb]")).to_be_visible()
    expect(page.get_by_role("button", name="Change image")).to_be_focused()

    # Inline: insert from the library, then keep typing after it.
    editor_body(page).click()
    page.keyboard.type("Before the picture.")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Insert image from the library").click()
    chooser(page).get_by_role("button", name="Market day").click()
    expect(chooser(page)).to_be_hidden()
    page.keyboard.type("After the picture.")
    expect(editor_body(page).locator("figure img")).to_have_attribute("alt", "Stalls in the square")
    screenshot("chooser-2-inserted")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/sitecontent/article/")

    article = Article.objects.get()
    assert article.hero_image == harbour
    assert f'data-file="{market.pk}"' in article.body
    assert f"{market.folder}/" in article.body
    assert re.search(r"</figure><p>After the picture\.</p>", article.body), article.body

    # Reloaded, the image is there; selecting it and typing does not replace it.
    page.goto(f"{live_server.url}/admin/sitecontent/article/{article.pk}/change/")
    image = editor_body(page).locator("figure img")
    expect(image).to_have_attribute("data-file", str(market.pk))
    expect(page.locator("[data-chooser-title]")).to_have_text("Harbour at dawn")
    image.click()
    page.keyboard.type("More words.")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/sitecontent/article/")
    article.refresh_from_db()
    assert f'data-file="{market.pk}"' in article.body
    assert f"{market.folder}/" in article.body
    assert "More words." in article.body
    assert "<img>" not in article.body


def test_esc_closes_the_dialog_and_focus_returns_to_what_opened_it(writing):
    page, _, _ = writing
    opener = page.get_by_role("button", name="Choose image")
    opener.click()
    dialog = chooser(page)
    expect(dialog.locator(".image-choice")).to_have_count(2)

    # Focus stays in the dialog: the page behind it is inert while it is open.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('dialog[open]')")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expect(page.locator("[data-chooser-value]")).to_have_value("")

    # From the editor too: Esc inserts nothing and the cursor is back in the text.
    editor_body(page).click()
    page.get_by_role("button", name="Insert image from the library").click()
    expect(chooser(page).locator(".image-choice")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(chooser(page)).to_be_hidden()
    expect(editor_body(page)).to_be_focused()
    expect(editor_body(page).locator("img")).to_have_count(0)

    # The close button does the same.
    opener.click()
    chooser(page).get_by_role("button", name="Close").click()
    expect(chooser(page)).to_be_hidden()
    expect(opener).to_be_focused()


def test_an_image_uploaded_inside_the_dialog_becomes_the_hero(writing, tmp_path, screenshot):
    page, _, _ = writing
    photo = tmp_path / "lifeboat.jpg"
    photo.write_bytes(valid_jpeg((1000, 700)))
    page.get_by_role("button", name="Choose image").click()
    dialog = chooser(page)
    dialog.get_by_text("Upload a new image").click()
    dialog.get_by_label("File").set_input_files(str(photo))
    dialog.get_by_label("Title").fill("Lifeboat launch")
    dialog.get_by_label("Alt text").fill("The lifeboat leaving the slipway")
    assert_accessible(page, "chooser dialog, upload open")
    screenshot("chooser-3-upload")
    dialog.get_by_role("button", name="Upload and choose").click()
    expect(dialog).to_be_hidden()
    image = Image.objects.get(title="Lifeboat launch")
    expect(page.locator("[data-chooser-value]")).to_have_value(str(image.pk))
    expect(page.locator("[data-chooser-title]")).to_have_text("Lifeboat launch")
    assert image.alt_text == "The lifeboat leaving the slipway"


def test_an_upload_missing_its_alt_text_says_so_in_the_dialog(writing, tmp_path):
    page, _, _ = writing
    photo = tmp_path / "lifeboat.jpg"
    photo.write_bytes(valid_jpeg((1000, 700)))
    page.get_by_role("button", name="Choose image").click()
    dialog = chooser(page)
    dialog.get_by_text("Upload a new image").click()
    dialog.get_by_label("File").set_input_files(str(photo))
    dialog.get_by_label("Title").fill("Lifeboat launch")
    dialog.get_by_role("button", name="Upload and choose").click()
    expect(dialog.locator("[data-upload-status]")).to_have_text("Alt text: This field is required.")
    expect(dialog).to_be_visible()
    assert not Image.objects.filter(title="Lifeboat launch").exists()
