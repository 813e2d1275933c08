""" "Upload many" in Chromium: ten images chosen at once go up three at a time, each with
its own progress bar and verdict, through the direct-upload pipeline (on a laptop the
site stands in for S3: sitecontent.admin.uploads.receive). A file that is not an image is
refused with its reason and stops none of the others."""

import pytest
from playwright.sync_api import expect

from cms.models import TaskRun
from sitecontent.models import Document, Image, Upload
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import editor
from tests.media_corpus import HTML, valid_jpeg, valid_pdf


def photo_bytes(seed: int) -> bytes:
    """A photo-like JPEG (noise does not compress: about 700 KB), big enough that its
    upload takes several progress events on the throttled link below."""
    import io
    import random

    from PIL import Image as Picture

    width, height = 800, 600
    noise = random.Random(seed).randbytes(width * height * 3)  # noqa: S311 - test pixels
    out = io.BytesIO()
    Picture.frombytes("RGB", (width, height), noise).save(out, "JPEG", quality=90)
    return out.getvalue()


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Records, per row, every state it shows, the progress values it passes through, and
# how many rows are on the wire at once (the page's own code cannot be asked later).
WATCH = """() => {
  window.seen = {}; window.busiest = 0;
  const list = document.querySelector('[data-list]');
  new MutationObserver(() => {
    const rows = [...list.querySelectorAll('.bulk-row')];
    rows.forEach((row, index) => {
      const seen = window.seen[index] ||= {states: [], progress: []};
      const state = row.dataset.state, value = row.querySelector('progress').value;
      if (seen.states.at(-1) !== state) seen.states.push(state);
      if (seen.progress.at(-1) !== value) seen.progress.push(value);
    });
    const busy = rows.filter(r => ['uploading', 'checking'].includes(r.dataset.state)).length;
    window.busiest = Math.max(window.busiest, busy);
  }).observe(list, {subtree: true, attributes: true, childList: true, characterData: true});
}"""


def finished(page, summary, timeout=10_000):
    """Wait for the summary of a finished run; if it is not the one expected, say why
    each file ended as it did."""
    page.locator("[data-summary]").filter(has_text=" uploaded").wait_for(timeout=timeout)
    text = page.locator("[data-summary]").inner_text()
    assert summary in text, (text, page.locator(".bulk-status").all_inner_texts())


def test_ten_images_go_up_at_once_each_with_progress_and_a_verdict(
    page, live_server, tmp_path, screenshot
):
    files = []
    for n in range(1, 11):
        photo = tmp_path / f"council_meeting-{n:02d}.jpg"
        photo.write_bytes(photo_bytes(n))
        files.append(str(photo))
    fake = tmp_path / "not-a-photo.png"
    fake.write_bytes(HTML)
    editor(username="eda")
    sign_in(page, live_server, "eda")

    page.goto(f"{live_server.url}/admin/sitecontent/image/")
    assert_accessible(page, "image list")
    page.get_by_role("link", name="Upload many").click()
    page.wait_for_url("**/admin/sitecontent/image/upload-many/")
    assert_accessible(page, "upload many, empty")

    page.set_input_files("#bulk-files", [*files, str(fake)])
    rows = page.locator(".bulk-row")
    expect(rows).to_have_count(11)
    # Titles start as the file names; the first image's alt text is where typing goes.
    expect(rows.nth(0).locator("input[name=title]")).to_have_value("Council meeting 01")
    expect(rows.nth(0).locator("input[name=alt_text]")).to_be_focused()
    for index in range(11):
        rows.nth(index).get_by_label("Alt text").fill(f"Councillors at the table, view {index + 1}")
    assert_accessible(page, "upload many, files listed")
    screenshot("bulk-1-listed")

    # A slow uplink, so every file's progress can be seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 2_000_000},
    )
    page.evaluate(WATCH)
    page.get_by_role("button", name="Upload all").click()
    summary = page.locator("[data-summary]")
    finished(page, "10 of 11 uploaded", timeout=60_000)
    screenshot("bulk-2-done")
    assert_accessible(page, "upload many, finished")

    for index in range(10):
        row = rows.nth(index)
        expect(row).to_have_attribute("data-state", "done")
        assert row.locator("progress").get_attribute("value") == "100"
        image = Image.objects.get(title=f"Council meeting {index + 1:02d}")
        link = row.locator("[data-status] a")
        expect(link).to_have_attribute("href", f"/admin/sitecontent/image/{image.pk}/change/")
    refused = rows.nth(10)
    expect(refused).to_have_attribute("data-state", "rejected")
    expect(refused.locator("[data-status]")).to_contain_text("Rejected:")
    expect(summary).to_contain_text("1 need attention")

    seen = page.evaluate("window.seen")
    for index in range(10):
        states, progress = seen[str(index)]["states"], seen[str(index)]["progress"]
        assert states[-3:] == ["uploading", "checking", "done"], (index, states)
        assert any(0 < value < 100 for value in progress), (index, progress)
    assert 2 <= page.evaluate("window.busiest") <= 3  # in parallel, never more than three

    images = Image.objects.order_by("title")
    assert images.count() == 10
    assert [image.title for image in images] == [f"Council meeting {n:02d}" for n in range(1, 11)]
    # Each image's renditions were asked for once, and (inline on a laptop) made.
    runs = TaskRun.objects.filter(task_path="sitecontent.tasks.image_create_renditions")
    assert sorted(run.kwargs["image_id"] for run in runs) == sorted(i.pk for i in images)
    assert all(image.renditions for image in images)
    assert sorted(Upload.objects.values_list("state", flat=True)) == ["accepted"] * 10 + [
        "rejected"
    ]


def test_an_image_without_alt_text_waits_while_the_others_go(page, live_server, tmp_path):
    paths = []
    for name in ("harbour.jpg", "market.jpg"):
        (tmp_path / name).write_bytes(valid_jpeg((800, 600)))
        paths.append(str(tmp_path / name))
    editor(username="eda")
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/image/upload-many/")
    page.set_input_files("#bulk-files", paths)
    rows = page.locator(".bulk-row")
    rows.nth(1).get_by_label("Alt text").fill("Stalls in the square")
    page.get_by_role("button", name="Upload all").click()
    finished(page, "1 of 2 uploaded")
    expect(rows.nth(0)).to_have_attribute("data-state", "rejected")
    expect(rows.nth(0).locator("[data-status]")).to_contain_text(
        "Alt text: This field is required."
    )
    assert list(Image.objects.values_list("title", flat=True)) == ["Market"]

    # Corrected, it goes on the second press; the done one is not sent again.
    rows.nth(0).get_by_label("Alt text").fill("Boats at dawn")
    page.get_by_role("button", name="Upload all").click()
    finished(page, "2 of 2 uploaded")
    assert sorted(Image.objects.values_list("title", flat=True)) == ["Harbour", "Market"]


def test_documents_go_up_many_at_once_with_titles_from_their_names(page, live_server, tmp_path):
    paths = []
    for name in ("budget-2027.pdf", "minutes_march.pdf"):
        (tmp_path / name).write_bytes(valid_pdf())
        paths.append(str(tmp_path / name))
    editor(username="eda")
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/document/")
    assert_accessible(page, "document list")
    page.get_by_role("link", name="Upload many").click()
    page.set_input_files("#bulk-files", paths)
    assert_accessible(page, "upload many documents, files listed")
    page.get_by_role("button", name="Upload all").click()
    finished(page, "2 of 2 uploaded")
    titles = sorted(Document.objects.values_list("title", flat=True))
    assert titles == ["Budget 2027", "Minutes march"]


def test_on_aws_the_files_go_straight_to_s3_and_the_events_accept_them(
    page, live_server, s3_media, lambda_handler, settings, aws, tmp_path
):
    """The production path: presigned POSTs to the bucket (moto), no CSRF header sent to
    it, verdicts from the S3 events as Zappa's handler receives them."""
    settings.SECURE_CSP = {**settings.SECURE_CSP, "connect-src": ["'self'", aws]}
    paths = []
    for n in range(3):
        (tmp_path / f"quay-{n}.jpg").write_bytes(valid_jpeg((700 + n, 500)))
        paths.append(str(tmp_path / f"quay-{n}.jpg"))
    editor(username="eda")
    sign_in(page, live_server, "eda")
    page.goto(f"{live_server.url}/admin/sitecontent/image/upload-many/")
    page.set_input_files("#bulk-files", paths)
    rows = page.locator(".bulk-row")
    for index in range(3):
        rows.nth(index).get_by_label("Alt text").fill(f"The quay, view {index + 1}")
    page.get_by_role("button", name="Upload all").click()
    outcomes = []
    for _ in range(100):  # hand each S3 event to the handler as it comes, as Lambda would
        outcomes += [lambda_handler(event) for event in s3_media.events()]
        if len(outcomes) == 3:
            break
        page.wait_for_timeout(100)
    assert outcomes == [{"outcomes": ["accepted"]}] * 3
    finished(page, "3 of 3 uploaded", timeout=15_000)
    assert Image.objects.count() == 3
    assert s3_media.keys("uploads/") == []
