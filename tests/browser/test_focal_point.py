"""An editor sets an image's focal point by clicking its preview in Chromium; after the
save the share crop (link previews) is cut around the new point, under a new name."""

import io
import mimetypes
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image as PILImage

from sitecontent.models import Image
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import ImageFactory, editor

# serialized_rollback: flushing between tests would drop the role groups migrations made.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RED, BLUE = (255, 0, 0), (0, 0, 255)


def marked_png() -> bytes:
    """2400 x 630: a red square at the left, a blue one at the right; a 1200 x 630
    crop holds one of them."""
    picture = PILImage.new("RGB", (2400, 630), (255, 255, 255))
    picture.paste(RED, (150, 265, 250, 365))
    picture.paste(BLUE, (2150, 265, 2250, 365))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def crop_colours(image) -> set:
    with storages["renditions"].open(image.crops["share"]["name"], "rb") as stored:
        cut = PILImage.open(io.BytesIO(stored.read())).convert("RGB")
    return {colour for count, colour in cut.getcolors(maxcolors=2**16) if count > 100}


def serve_media(page):
    """The test server serves no media (DEBUG is off): the browser gets them from disk."""

    def fulfil(route):
        name = route.request.url.split(settings.MEDIA_URL, 1)[1]
        path = Path(settings.MEDIA_ROOT) / name
        if not path.is_file():
            return route.fulfill(status=404)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return route.fulfill(status=200, body=path.read_bytes(), content_type=kind)

    page.route(f"**{settings.MEDIA_URL}**", fulfil)


def test_clicking_the_preview_moves_the_crop(page, live_server, screenshot):
    eda = editor(username="eda")
    image = ImageFactory(
        uploaded_by=eda, alt_text="Two squares", file=ContentFile(marked_png(), name="sq.png")
    )
    before = image.crops["share"]
    assert before["box"] == [600, 0, 1800, 630]  # the centre: neither square
    serve_media(page)
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/image/{image.pk}/change/")
    preview = page.locator(".focal-point__image")
    preview.scroll_into_view_if_needed()
    assert page.evaluate("() => document.querySelector('.focal-point__image').naturalWidth") > 0
    assert_accessible(page, "image change form")

    box = preview.bounding_box()
    preview.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.5})
    assert float(page.input_value("#id_focal_x")) == pytest.approx(0.9, abs=0.01)
    assert float(page.input_value("#id_focal_y")) == pytest.approx(0.5, abs=0.01)
    marker = page.locator(".focal-point__marker")
    assert marker.is_visible()
    marker_box = marker.bounding_box()
    assert marker_box["x"] + marker_box["width"] / 2 == pytest.approx(
        box["x"] + box["width"] * 0.9, abs=3
    )
    screenshot("focal-point-1-chosen")

    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert_accessible(page, "image change form after saving")
    image = Image.objects.get()
    after = image.crops["share"]
    assert image.focal_point == pytest.approx((0.9, 0.5), abs=0.01)
    assert after["box"] == [1200, 0, 2400, 630]  # stops at the right edge, round the point
    assert after["name"] != before["name"]  # a new address: no cache serves the old cut
    assert BLUE in crop_colours(image)
    assert RED not in crop_colours(image)
    assert not storages["renditions"].exists(before["name"])
    # The form shows the point it stored, and lists the new crop.
    assert float(page.input_value("#id_focal_x")) == pytest.approx(0.9, abs=0.01)
    assert page.locator(f'a[href$="{after["name"]}"]').count() == 1
    screenshot("focal-point-2-saved")


def test_the_point_can_be_typed_without_a_pointer(page, live_server):
    eda = editor(username="eda")
    image = ImageFactory(
        uploaded_by=eda, alt_text="Two squares", file=ContentFile(marked_png(), name="sq.png")
    )
    serve_media(page)
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/image/{image.pk}/change/")
    page.focus("#id_focal_x")
    page.keyboard.type("0.05")
    page.keyboard.press("Tab")
    page.keyboard.type("0.5")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector(".messagelist .success")
    image = Image.objects.get()
    assert image.crops["share"]["box"] == [0, 0, 1200, 630]
    assert RED in crop_colours(image)


def test_a_failed_image_form_asks_for_the_file_again_without_a_broken_preview(
    page, live_server, tmp_path, screenshot
):
    editor(username="eda")
    serve_media(page)
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/image/add/")
    assert_accessible(page, "image add form")
    picture = tmp_path / "squares.png"
    picture.write_bytes(marked_png())
    page.fill("#id_title", "Squares")
    page.set_input_files("#id_file", str(picture))
    page.click("input[name=_save]")  # no alt text
    page.wait_for_selector(".errornote")
    file_row = page.locator(".field-file")
    assert "Choose the file again" in file_row.inner_text()
    broken = page.evaluate(
        "() => [...document.images].filter(i => !i.complete || !i.naturalWidth).length"
    )
    assert broken == 0
    assert_accessible(page, "image add form with errors")
    screenshot("focal-point-3-failed-form")
    assert not Image.objects.exists()


def test_a_publisher_makes_a_collection_for_a_group(page, live_server):
    from django.contrib.auth.models import Group

    from sitecontent.models import Collection
    from tests.factories import publisher

    publisher(username="pia")
    Group.objects.create(name="Sport desk")
    sign_in(page, live_server, "pia")
    page.goto(f"{live_server.url}/admin/sitecontent/collection/add/")
    assert_accessible(page, "collection add form")
    page.fill("#id_name", "Sport")
    page.get_by_label("Sport desk").check()
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert_accessible(page, "collection list")
    sport = Collection.objects.get(name="Sport")
    assert [g.name for g in sport.editor_groups.all()] == ["Sport desk"]
