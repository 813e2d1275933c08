"""The image and document forms (sitecontent.admin.media): after a failed form the file
field says to choose the file again and no preview points at a file that is not
stored; the focal point's fields and picker."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sitecontent.models import Document, Image
from tests.factories import ImageFactory, png_bytes, publisher
from tests.media_corpus import valid_pdf

pytestmark = pytest.mark.django_db

IMAGES, DOCUMENTS = "/admin/sitecontent/image/", "/admin/sitecontent/document/"
CHOOSE_AGAIN = "Choose the file again"


def picture():
    return SimpleUploadedFile("pic.png", png_bytes((120, 80)), content_type="image/png")


def image_urls(html: str) -> list[str]:
    return re.findall(r'<img[^>]* src="([^"]*)"', html)


def test_failed_add_form_asks_for_the_file_again_and_shows_no_preview(editor_client):
    response = editor_client.post(
        f"{IMAGES}add/", {"title": "Pic", "alt_text": "", "file": picture()}
    )
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "alt_text" in form.errors
    assert CHOOSE_AGAIN in str(form.errors["file"])
    html = response.content.decode()
    assert image_urls(html) == []  # nothing points at the upload, which was not stored
    assert "focal_x" not in html  # set once there is an image to click
    assert not Image.objects.exists()


def test_failed_change_form_with_a_new_file_keeps_the_stored_one(client):
    image = ImageFactory()
    stored = image.file.name
    client.force_login(publisher())
    response = client.post(
        f"{IMAGES}{image.pk}/change/",
        {"title": "", "alt_text": "x", "file": picture(), "collection": image.collection_id},
    )
    assert response.status_code == 200
    assert CHOOSE_AGAIN in str(response.context["adminform"].form.errors["file"])
    html = response.content.decode()
    previews = [url for url in image_urls(html) if "/static/" not in url]
    assert len(previews) == 2  # the thumbnail and the focal point's: the stored image's
    assert all(url.startswith(f"/media/{image.folder}/renditions/") for url in previews)
    assert "pic.png" not in html
    assert Image.objects.get().file.name == stored


def test_a_bad_file_says_why_not_to_choose_it_again(editor_client):
    fake = SimpleUploadedFile("pic.png", b"<html>", content_type="image/png")
    response = editor_client.post(f"{IMAGES}add/", {"title": "Pic", "alt_text": "x", "file": fake})
    errors = str(response.context["adminform"].form.errors["file"])
    assert CHOOSE_AGAIN not in errors


def test_failed_document_form_asks_for_the_file_again(editor_client):
    upload = SimpleUploadedFile("report.pdf", valid_pdf(), content_type="application/pdf")
    response = editor_client.post(f"{DOCUMENTS}add/", {"title": "", "file": upload})
    assert response.status_code == 200
    assert CHOOSE_AGAIN in str(response.context["adminform"].form.errors["file"])
    assert not Document.objects.exists()


def test_a_form_without_other_errors_saves_as_before(editor_client):
    response = editor_client.post(
        f"{IMAGES}add/", {"title": "Pic", "alt_text": "A picture", "file": picture()}
    )
    assert response.status_code == 302
    assert Image.objects.get().collection.is_default


def test_focal_point_is_set_by_its_fields_and_checked(client):
    image = ImageFactory()
    client.force_login(publisher())
    form = {"title": image.title, "alt_text": "x", "collection": image.collection_id}
    response = client.post(f"{IMAGES}{image.pk}/change/", {**form, "focal_x": "1.5"})
    assert "focal_x" in response.context["adminform"].form.errors
    response = client.post(
        f"{IMAGES}{image.pk}/change/", {**form, "focal_x": "0.25", "focal_y": "0.75"}
    )
    assert response.status_code == 302
    assert Image.objects.get().focal_point == (0.25, 0.75)
    html = client.get(f"{IMAGES}{image.pk}/change/").content.decode()
    assert 'data-focal-x="0.25" data-focal-y="0.75"' in html
    assert "js/focal-point.js" in html
    assert "<script>" not in html.split("</head>", 1)[1]  # no inline script (CSP)
