"""An editor uploads through the admin in Chromium: the browser posts the file to S3
(moto, over HTTP), the S3 event goes through Zappa's handler, the page shows the verdict."""

import time

import pytest

from sitecontent.models import Image, Upload
from tests.browser.conftest import sign_in
from tests.factories import editor
from tests.media_corpus import HTML, valid_jpeg

# serialized_rollback: flushing between tests would drop the role groups migrations made.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def upload_page(page, live_server, s3_media, settings, aws):
    # Production lets the admin's scripts reach the bucket; here the bucket is moto.
    settings.SECURE_CSP = {**settings.SECURE_CSP, "connect-src": ["'self'", aws]}
    editor(username="eda")
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/image/add/")
    return page


def deliver_when_ready(s3_media, lambda_handler):
    for _ in range(50):
        if events := s3_media.events():
            return [lambda_handler(event) for event in events]
        time.sleep(0.1)
    raise AssertionError("moto sent no S3 event")


def test_image_goes_straight_to_s3_and_lands_in_the_library(
    upload_page, s3_media, lambda_handler, tmp_path, screenshot
):
    photo = tmp_path / "harbour.jpg"
    photo.write_bytes(valid_jpeg((1400, 900)))
    upload_page.fill("#id_title", "Harbour")
    upload_page.fill("#id_alt_text", "Boats in a harbour at dawn")
    upload_page.set_input_files("#id_file", str(photo))
    screenshot("upload-1-form")
    upload_page.click("input[type=submit][value=Upload]")
    upload_page.get_by_text("Uploaded. Checking the file…").wait_for()
    assert upload_page.locator("progress").get_attribute("value") == "100"
    screenshot("upload-2-checking")

    assert deliver_when_ready(s3_media, lambda_handler) == [{"outcomes": ["accepted"]}]
    upload_page.wait_for_url("**/admin/sitecontent/image/*/change/")
    image = Image.objects.get()
    assert (image.title, image.width) == ("Harbour", 1400)
    for _ in range(20):  # the renditions task runs after the accepting transaction commits
        if upload_page.get_by_text("WEBP 320px").count():
            break
        time.sleep(0.2)
        upload_page.reload()
    screenshot("upload-3-accepted")
    assert upload_page.get_by_text("WEBP 320px").is_visible()


def test_a_file_that_is_not_an_image_is_refused_with_its_reason(
    upload_page, s3_media, lambda_handler, tmp_path, screenshot
):
    fake = tmp_path / "holiday.png"
    fake.write_bytes(HTML)
    upload_page.fill("#id_title", "Fake")
    upload_page.fill("#id_alt_text", "Not really")
    upload_page.set_input_files("#id_file", str(fake))
    upload_page.click("input[type=submit][value=Upload]")
    upload_page.get_by_text("Uploaded. Checking the file…").wait_for()
    assert deliver_when_ready(s3_media, lambda_handler) == [{"outcomes": ["rejected"]}]
    error = upload_page.locator("[data-form-error]")
    error.get_by_text("The file was rejected").wait_for()
    screenshot("upload-4-rejected")
    assert "not an image" in error.inner_text()
    assert Upload.objects.get().state == Upload.State.REJECTED
    assert s3_media.keys() == []


def test_field_errors_come_back_before_anything_is_sent(upload_page, s3_media, tmp_path):
    svg = tmp_path / "logo.svg"
    svg.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    upload_page.fill("#id_title", "Logo")
    upload_page.set_input_files("#id_file", str(svg))
    upload_page.click("input[type=submit][value=Upload]")
    upload_page.locator('[data-errors-for="alt_text"]').get_by_text("required").wait_for()
    assert upload_page.locator('[data-errors-for="file"]').inner_text()
    assert not Upload.objects.exists()
