"""Direct uploads end to end, against a moto server over HTTP: the site grants a
presigned POST, `requests` sends the file to S3, the S3 event moto produces goes through
Zappa's handler, and the Image or Document and its renditions appear."""

import base64
import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from sitecontent.models import AuditEvent, Document, Image, Upload
from tests.factories import UserFactory, editor
from tests.media_corpus import HOSTILE, valid_jpeg, valid_pdf, valid_png

pytestmark = pytest.mark.django_db

SIGN = "/admin/sitecontent/upload/sign/"


def sign(
    client, *, kind="image", filename="photo.jpg", content_type="image/jpeg", size=1000, **details
):
    details = {"title": "A photo", "alt_text": "A blue rectangle", **details}
    if kind == "document":
        details = {"title": details["title"]}
    return client.post(
        SIGN,
        {
            "kind": kind,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "details": details,
        },
        content_type="application/json",
    )


def send(grant, filename, data, content_type):
    response = requests.post(
        grant["url"],
        data=grant["fields"],
        files={"file": (filename, data, content_type)},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response


@pytest.fixture
def deliver(lambda_handler, s3_media, django_capture_on_commit_callbacks):
    """Hand the S3 events moto produced to Zappa's handler, as Lambda would."""

    def run(event=None):
        events = [event] if event else s3_media.events()
        assert events, "moto produced no S3 event"
        results = []
        for each in events:
            with django_capture_on_commit_callbacks(execute=True):
                results.append(lambda_handler(each))
        return results

    return run


def upload(client, s3_media, filename, data, content_type, kind="image"):
    response = sign(
        client, kind=kind, filename=filename, content_type=content_type, size=max(len(data), 1)
    )
    assert response.status_code == 201, response.json()
    grant = response.json()
    send(grant, filename, data, content_type)
    return grant


def test_presigned_post_policy_pins_key_size_type_and_expiry(editor_client, s3_media, settings):
    before = timezone.now()
    response = sign(editor_client, size=123_456)
    assert response.status_code == 201
    grant = response.json()
    upload = Upload.objects.get(pk=grant["upload"])
    policy = json.loads(base64.b64decode(grant["fields"]["policy"]))
    conditions = policy["conditions"]
    assert {"key": upload.key} in conditions
    assert upload.key.startswith(f"uploads/{upload.pk}/")
    assert ["content-length-range", 123_456, 123_456] in conditions  # exactly as declared
    assert {"Content-Type": "image/jpeg"} in conditions
    assert {"bucket": s3_media.bucket} in conditions
    expiry = timezone.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert before < expiry <= before + timedelta(minutes=settings.UPLOAD_TOKEN_MINUTES, seconds=5)
    assert grant["fields"]["key"] == upload.key


def test_uploaded_image_is_accepted_with_renditions_beside_it(editor_client, s3_media, deliver):
    grant = upload(
        editor_client, s3_media, "Holiday Photo.jpg", valid_jpeg((1600, 1000)), "image/jpeg"
    )
    assert s3_media.keys("uploads/")  # in quarantine until the event
    assert deliver() == [{"outcomes": ["accepted"]}]

    image = Image.objects.get()
    assert (image.title, image.alt_text, image.width, image.height) == (
        "A photo",
        "A blue rectangle",
        1600,
        1000,
    )
    assert image.uploaded_by == editor_client.user
    (created,) = AuditEvent.objects.for_item(image)  # the audit log's record of it
    assert (created.action, created.actor) == (AuditEvent.Action.CREATE, editor_client.user)
    assert image.file.name.startswith("images/")
    assert image.file.name.endswith("/holiday-photo.jpg")
    assert s3_media.keys("uploads/") == []
    stored = s3_media.keys("media/")
    assert f"media/{image.file.name}" in stored
    widths = sorted({r["width"] for r in image.renditions})
    assert widths == [320, 640, 960, 1280, 1600]
    assert {f"media/{r['name']}" for r in image.renditions} <= set(stored)
    assert all(r["name"].startswith(f"{image.folder}/renditions/") for r in image.renditions)

    status = editor_client.get(grant["status_url"]).json()
    assert status == {
        "state": "accepted",
        "reason": "",
        "result_id": image.pk,
        "result_url": f"/admin/sitecontent/image/{image.pk}/change/",
    }


def test_promoted_files_carry_the_checked_type_and_cache_headers(editor_client, s3_media, deliver):
    from cms import aws

    upload(editor_client, s3_media, "report.pdf", valid_pdf(), "application/pdf", "document")
    deliver()
    document = Document.objects.get()
    head = aws.client("s3").head_object(Bucket=s3_media.bucket, Key=f"media/{document.file.name}")
    assert head["ContentType"] == "application/pdf"
    assert head["ContentDisposition"] == 'attachment; filename="report.pdf"'
    assert "immutable" in head["CacheControl"]
    assert (document.content_type, document.size) == ("application/pdf", len(valid_pdf()))


def head(s3_media, name):
    from cms import aws

    return aws.client("s3").head_object(Bucket=s3_media.bucket, Key=f"media/{name}")


def test_an_uploaded_image_is_stored_only_as_we_re_encoded_it(editor_client, s3_media, deliver):
    from cms import aws
    from tests.sitecontent.media.test_inspection import MARKER, images_with_marked_metadata

    filename, data = images_with_marked_metadata()[0]  # a JPEG marked in EXIF, XMP, COM, ICC
    upload(editor_client, s3_media, filename, data, "image/jpeg")
    assert deliver() == [{"outcomes": ["accepted"]}]
    image = Image.objects.get()
    stored = aws.client("s3").get_object(Bucket=s3_media.bucket, Key=f"media/{image.file.name}")
    written = stored["Body"].read()
    assert written != data
    assert MARKER not in written
    assert written.startswith(b"\xff\xd8")
    assert (image.width, image.height) == (64, 48)


def test_originals_and_renditions_are_stored_inline_with_their_type_and_cache_headers(
    editor_client, s3_media, deliver
):
    upload(editor_client, s3_media, "Harbour.png", valid_png((700, 400)), "image/png")
    deliver()
    image = Image.objects.get()
    original = head(s3_media, image.file.name)
    assert original["ContentType"] == "image/png"
    assert original["ContentDisposition"] == 'inline; filename="harbour.png"'
    assert "immutable" in original["CacheControl"]
    for rendition in image.renditions:
        stored = head(s3_media, rendition["name"])
        assert stored["ContentType"] == f"image/{rendition['format'].lower()}"
        assert stored["ContentDisposition"].startswith("inline; filename=")
        assert "immutable" in stored["CacheControl"]


def test_an_uploaded_csv_is_stored_as_a_plain_text_download(editor_client, s3_media, deliver):
    upload(editor_client, s3_media, "Figures.csv", b"a,b\n1,2\n", "text/csv", "document")
    assert deliver() == [{"outcomes": ["accepted"]}]
    document = Document.objects.get()
    stored = head(s3_media, document.file.name)
    assert stored["ContentType"] == "text/plain; charset=utf-8"
    assert stored["ContentDisposition"] == 'attachment; filename="figures.csv"'
    assert document.content_type == "text/csv"  # the kind it was checked to be


def test_the_same_event_three_times_makes_one_image_and_one_set_of_renditions(
    editor_client, s3_media, deliver
):
    upload(editor_client, s3_media, "photo.jpg", valid_jpeg((700, 500)), "image/jpeg")
    [event] = s3_media.events()
    outcomes = [deliver(event)[0]["outcomes"] for _ in range(3)]
    assert outcomes == [["accepted"], ["duplicate"], ["duplicate"]]
    assert Image.objects.count() == 1
    image = Image.objects.get()
    rendition_keys = [k for k in s3_media.keys("media/") if "/renditions/" in k]
    assert len(image.renditions) == 6  # 320, 640, 700 x WebP, JPEG
    assert len(rendition_keys) == len(image.renditions) + len(image.crops)  # + the share card


@pytest.mark.parametrize(
    ("case", "kind", "filename", "declared", "data"), HOSTILE, ids=[c[0] for c in HOSTILE]
)
def test_hostile_upload_is_refused_and_nothing_is_promoted(
    editor_client, s3_media, deliver, case, kind, filename, declared, data
):
    response = sign(
        editor_client, kind=kind, filename=filename, content_type=declared, size=max(len(data), 1)
    )
    if response.status_code == 400:  # refused before any byte was sent
        assert response.json()["fields"]
        return
    grant = response.json()
    send(grant, filename, data or b"", declared)
    assert deliver() == [{"outcomes": ["rejected"]}]
    upload_row = Upload.objects.get(pk=grant["upload"])
    assert upload_row.state == Upload.State.REJECTED
    assert upload_row.reason
    assert s3_media.keys() == []  # quarantine emptied, nothing under media/
    assert not Image.objects.exists()
    assert not Document.objects.exists()
    status = editor_client.get(grant["status_url"]).json()
    assert (status["state"], status["reason"]) == ("rejected", upload_row.reason)


def test_oversize_file_is_refused_even_when_storage_let_it_through(
    editor_client, s3_media, deliver, settings
):
    settings.IMAGE_MAX_UPLOAD_SIZE = 5_000
    grant = sign(editor_client, size=4_000).json()
    send(grant, "photo.jpg", valid_jpeg((1600, 1000)), "image/jpeg")  # moto ignores the policy
    assert deliver() == [{"outcomes": ["rejected"]}]
    assert "limit" in Upload.objects.get().reason
    assert s3_media.keys() == []


@pytest.mark.parametrize("difference", [-1, 1, 500])
def test_a_file_of_another_size_than_declared_is_refused(
    editor_client, s3_media, deliver, difference
):
    data = valid_jpeg((300, 200))
    grant = sign(editor_client, size=len(data) + difference).json()
    send(grant, "photo.jpg", data, "image/jpeg")  # moto does not enforce the POST policy
    assert deliver() == [{"outcomes": ["rejected"]}]
    reason = Upload.objects.get().reason
    assert f"{len(data)} bytes, not the {len(data) + difference} bytes declared" in reason
    assert s3_media.keys() == []
    assert not Image.objects.exists()


def test_expired_token_is_refused(editor_client, s3_media, deliver):
    grant = sign(editor_client).json()
    Upload.objects.filter(pk=grant["upload"]).update(expires_at=timezone.now() - timedelta(1))
    send(grant, "photo.jpg", valid_jpeg(), "image/jpeg")
    deliver()
    assert "expired" in Upload.objects.get().reason
    assert s3_media.keys() == []


def test_reused_token_cannot_replace_or_add_a_file(editor_client, s3_media, deliver):
    grant = upload(editor_client, s3_media, "photo.jpg", valid_jpeg((500, 400)), "image/jpeg")
    deliver()
    stored = s3_media.keys("media/")
    send(grant, "photo.jpg", valid_jpeg((900, 900)), "image/jpeg")  # the same grant again
    assert deliver() == [{"outcomes": ["deleted"]}]
    assert s3_media.keys("media/") == stored
    assert s3_media.keys("uploads/") == []
    assert Image.objects.get().width == 500


def test_keys_outside_the_issued_one_are_deleted_and_touch_no_upload(
    editor_client, s3_media, deliver
):
    from cms import aws

    grant = sign(editor_client).json()
    pending = Upload.objects.get(pk=grant["upload"])
    for key in (
        f"uploads/{pending.pk}/other-name.jpg",
        "uploads/not-a-token/x.jpg",
        "uploads/3f0c6f9e-8a4e-4a1e-9a55-000000000000/x.jpg",
    ):
        aws.client("s3").put_object(Bucket=s3_media.bucket, Key=key, Body=valid_jpeg())
    assert deliver() == [{"outcomes": ["deleted"]}] * 3
    assert s3_media.keys() == []
    pending.refresh_from_db()
    assert pending.state == Upload.State.PENDING  # still usable for its own key


class TestSignEndpoint:
    def test_anonymous_is_sent_to_login(self, client, s3_media):
        response = sign(client)
        assert response.status_code == 302

    def test_staff_without_the_add_permission_is_refused(self, client, s3_media):
        client.force_login(UserFactory())
        response = sign(client)
        assert response.status_code == 403
        assert response.json()["error"]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"content_type": "image/svg+xml", "filename": "x.svg"}, "file"),
            ({"content_type": "text/html", "filename": "x.html"}, "file"),
            ({"size": 10**9}, "file"),
            ({"size": 0}, "file"),
            ({"alt_text": ""}, "alt_text"),
            ({"title": "x" * 300}, "title"),
            ({"filename": ""}, "file"),
        ],
    )
    def test_bad_requests_are_json_field_errors(self, editor_client, s3_media, changes, field):
        response = sign(editor_client, **changes)
        assert response.status_code == 400
        assert field in response.json()["fields"]
        assert not Upload.objects.exists()

    def test_malformed_json_is_a_400(self, editor_client, s3_media):
        response = editor_client.post(SIGN, "not json", content_type="application/json")
        assert response.status_code == 400
        assert "JSON" in response.json()["error"]

    def test_others_cannot_read_an_uploads_status(self, editor_client, s3_media, client):
        grant = sign(editor_client).json()
        client.force_login(editor())
        assert client.get(grant["status_url"]).status_code == 404


def test_add_page_uploads_directly_on_aws_and_offers_the_simple_form(editor_client, s3_media):
    html = editor_client.get("/admin/sitecontent/image/add/").content.decode()
    assert 'id="direct-upload-form"' in html
    assert f'data-sign-url="{SIGN}"' in html
    assert "js/direct-upload.js" in html
    simple = editor_client.get("/admin/sitecontent/image/add/", {"simple": 1}).content.decode()
    assert 'type="file" name="file"' in simple
    assert "direct-upload-form" not in simple
