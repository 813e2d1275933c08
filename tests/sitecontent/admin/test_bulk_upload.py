""" "Upload many" (sitecontent.admin.uploads): the page, who may open it, and the laptop's
stand-in for S3 that it (and the chooser's upload) post files to when DIRECT_UPLOADS is
off: the same grant, the same checks as the presigned policy and the S3 event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sitecontent.models import Document, Image, Upload
from tests.factories import UserFactory, editor
from tests.media_corpus import HTML, valid_jpeg, valid_pdf

pytestmark = pytest.mark.django_db

SIGN = "/admin/sitecontent/upload/sign/"


def grant(client, data, *, kind="image", filename="harbour-at-dawn.jpg", content_type="image/jpeg",
          **details):  # fmt: skip
    details = {"title": "Harbour", "alt_text": "Boats at dawn", **details}
    if kind == "document":
        details.pop("alt_text")
    response = client.post(
        SIGN,
        {"kind": kind, "filename": filename, "content_type": content_type, "size": len(data),
         "details": details},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    return response.json()


def post_file(client, body, data, filename="harbour-at-dawn.jpg", **overrides):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fields = {**body["fields"], **overrides}
    return client.post(
        body["url"],
        {**fields, "file": SimpleUploadedFile(filename, data, fields["Content-Type"])},
    )


class TestPage:
    @pytest.mark.parametrize("model", ["image", "document"])
    def test_the_list_offers_upload_many_and_the_page_loads_its_scripts(self, editor_client, model):
        listing = editor_client.get(f"/admin/sitecontent/{model}/").content.decode()
        assert f'href="/admin/sitecontent/{model}/upload-many/"' in listing
        page = editor_client.get(f"/admin/sitecontent/{model}/upload-many/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="bulk-upload-form"' in html
        assert f'data-sign-url="{SIGN}"' in html
        assert f'data-kind="{model}"' in html
        assert "js/upload-client.js" in html
        assert "js/bulk-upload.js" in html
        assert 'type="file" id="bulk-files" name="files" multiple' in html
        assert 'role="status" aria-live="polite"' in html
        assert "<script>" not in html  # CSP: no inline script

    def test_images_ask_for_alt_text_per_file_documents_do_not(self, editor_client):
        images = editor_client.get("/admin/sitecontent/image/upload-many/").content.decode()
        documents = editor_client.get("/admin/sitecontent/document/upload-many/").content.decode()
        assert 'name="alt_text"' in images
        assert 'name="alt_text"' not in documents

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get("/admin/sitecontent/image/upload-many/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]

    def test_staff_who_may_not_add_images_are_refused_and_not_offered_it(self, client):
        from django.contrib.auth.models import Permission

        user = UserFactory()
        user.user_permissions.add(Permission.objects.get(codename="view_image"))
        client.force_login(user)
        assert client.get("/admin/sitecontent/image/upload-many/").status_code == 403
        assert "upload-many" not in client.get("/admin/sitecontent/image/").content.decode()


class TestLocalReceive:
    """DIRECT_UPLOADS is off in tests unless s3_media turns it on."""

    def test_the_grant_points_at_the_sites_receive_url(self, editor_client):
        body = grant(editor_client, b"x" * 10)
        upload = Upload.objects.get()
        assert body["url"] == f"/admin/sitecontent/upload/{upload.pk}/receive/"
        assert body["fields"] == {"Content-Type": "image/jpeg", "key": upload.key}

    def test_an_image_is_accepted_with_renditions_requested(self, editor_client):
        data = valid_jpeg((640, 480))
        body = grant(editor_client, data)
        response = post_file(editor_client, body, data)
        assert response.status_code == 201
        status = editor_client.get(body["status_url"]).json()
        image = Image.objects.get()
        assert status["state"] == "accepted"
        assert status["result_id"] == image.pk
        assert status["result_url"] == f"/admin/sitecontent/image/{image.pk}/change/"
        assert (image.title, image.alt_text, image.width) == ("Harbour", "Boats at dawn", 640)
        assert image.renditions_requested_at is not None

    def test_a_document_is_stored_from_the_checked_bytes(self, editor_client):
        data = valid_pdf()
        body = grant(editor_client, data, kind="document", filename="budget.pdf",
                     content_type="application/pdf")  # fmt: skip
        assert post_file(editor_client, body, data, "budget.pdf").status_code == 201
        document = Document.objects.get()
        assert document.file.read() == data
        assert Upload.objects.get().state == Upload.State.ACCEPTED

    def test_a_file_that_is_not_what_it_claims_is_rejected_with_its_reason(self, editor_client):
        body = grant(editor_client, HTML, filename="holiday.png", content_type="image/png")
        assert post_file(editor_client, body, HTML, "holiday.png").status_code == 201
        status = editor_client.get(body["status_url"]).json()
        assert status["state"] == "rejected"
        assert status["reason"]
        assert not Image.objects.exists()

    def test_a_file_of_another_size_than_declared_is_rejected(self, editor_client):
        data = valid_jpeg()
        body = grant(editor_client, data)
        post_file(editor_client, body, data + b"extra")
        assert Upload.objects.get().state == Upload.State.REJECTED
        assert "bytes" in Upload.objects.get().reason

    def test_another_type_than_declared_is_rejected(self, editor_client):
        data = valid_jpeg()
        body = grant(editor_client, data)
        post_file(editor_client, body, data, **{"Content-Type": "image/png"})
        assert Upload.objects.get().state == Upload.State.REJECTED

    def test_an_expired_grant_is_rejected(self, editor_client):
        data = valid_jpeg()
        body = grant(editor_client, data)
        Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        post_file(editor_client, body, data)
        assert "expired" in Upload.objects.get().reason

    def test_a_spent_grant_cannot_add_a_second_file(self, editor_client):
        data = valid_jpeg()
        body = grant(editor_client, data)
        post_file(editor_client, body, data)
        again = post_file(editor_client, body, data)
        assert again.status_code == 403
        assert again.json()["error"]
        assert Image.objects.count() == 1

    def test_another_key_is_refused(self, editor_client):
        data = valid_jpeg()
        body = grant(editor_client, data)
        response = post_file(editor_client, body, data, key="uploads/elsewhere/x.jpg")
        assert response.status_code == 403
        assert Upload.objects.get().state == Upload.State.PENDING

    def test_someone_elses_grant_is_refused(self, editor_client, client):
        data = valid_jpeg()
        body = grant(editor_client, data)
        client.force_login(editor())
        assert post_file(client, body, data).status_code == 403
        assert not Image.objects.exists()

    def test_receive_needs_csrf(self, editor_client):
        from django.test import Client

        data = valid_jpeg()
        body = grant(editor_client, data)
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(Upload.objects.get().uploaded_by)
        assert post_file(strict, body, data).status_code == 403
        assert Upload.objects.get().state == Upload.State.PENDING

    def test_with_direct_uploads_on_the_site_receives_nothing(self, editor_client, settings):
        data = valid_jpeg()
        body = grant(editor_client, data)
        settings.DIRECT_UPLOADS = True
        assert post_file(editor_client, body, data).status_code == 404
        assert not Image.objects.exists()

    def test_one_refused_file_leaves_the_others_accepted(self, editor_client):
        good = [valid_jpeg((300 + n, 200)) for n in range(3)]
        bodies = [
            grant(editor_client, data, filename=f"photo-{n}.jpg") for n, data in enumerate(good)
        ]
        bad = grant(editor_client, HTML, filename="fake.png", content_type="image/png")
        post_file(editor_client, bodies[0], good[0])
        post_file(editor_client, bad, HTML, "fake.png")
        for body, data in zip(bodies[1:], good[1:], strict=True):
            post_file(editor_client, body, data)
        states = sorted(Upload.objects.values_list("state", flat=True))
        assert states == ["accepted", "accepted", "accepted", "rejected"]
        assert Image.objects.count() == 3
