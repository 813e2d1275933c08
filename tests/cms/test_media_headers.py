"""The headers media is served with (cms.media_headers): stored on S3 objects, added by
CloudFront's response-headers policy, and sent by the local views, all the same."""

import json

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cms import media_headers
from sitecontent.media import inspection as media
from tests.factories import ArticleFactory, DocumentFactory

POLICY_FILE = settings.BASE_DIR / "docs" / "cloudfront-media-headers.json"


def policy_headers(config: dict) -> dict:
    """The HTTP headers a CloudFront ResponseHeadersPolicyConfig adds."""
    security = config["SecurityHeadersConfig"]
    headers = {}
    if security.get("ContentTypeOptions", {}).get("Override"):
        headers["X-Content-Type-Options"] = "nosniff"
    if csp := security.get("ContentSecurityPolicy"):
        headers["Content-Security-Policy"] = csp["ContentSecurityPolicy"]
    if frame := security.get("FrameOptions"):
        headers["X-Frame-Options"] = frame["FrameOption"]
    if referrer := security.get("ReferrerPolicy"):
        headers["Referrer-Policy"] = referrer["ReferrerPolicy"]
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = item["Value"]
    return headers


def policies() -> dict:
    resources = json.loads(POLICY_FILE.read_text())["Resources"]
    return {
        name: resource["Properties"]["ResponseHeadersPolicyConfig"]
        for name, resource in resources.items()
        if resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    }


def test_the_cloudfront_media_policy_adds_exactly_what_the_local_views_send():
    assert policy_headers(policies()["MediaHeaders"]) == media_headers.RESPONSE_HEADERS


def test_the_cloudfront_documents_policy_also_makes_every_document_a_download():
    assert policy_headers(policies()["DocumentHeaders"]) == {
        **media_headers.RESPONSE_HEADERS,
        "Content-Disposition": "attachment",
    }


def test_the_media_csp_sandboxes_and_allows_nothing():
    directives = {d.strip().split(" ")[0] for d in media_headers.MEDIA_CSP.split(";")}
    assert {"sandbox", "default-src", "frame-ancestors"} <= directives
    assert "default-src 'none'" in media_headers.MEDIA_CSP
    assert "unsafe" not in media_headers.MEDIA_CSP


@pytest.mark.parametrize(
    ("name", "content_type", "disposition"),
    [
        ("images/ab/photo.jpg", "image/jpeg", 'inline; filename="photo.jpg"'),
        ("images/ab/renditions/320.webp", "image/webp", 'inline; filename="320.webp"'),
        ("images/ab/logo.PNG", "image/png", 'inline; filename="logo.PNG"'),
        ("documents/ab/report.pdf", "application/pdf", 'attachment; filename="report.pdf"'),
        ("documents/ab/data.csv", "text/plain; charset=utf-8", 'attachment; filename="data.csv"'),
        ("documents/ab/notes.txt", "text/plain; charset=utf-8", 'attachment; filename="notes.txt"'),
        ("documents/ab/page.html", "application/octet-stream", 'attachment; filename="page.html"'),
        (
            "documents/ab/no-extension",
            "application/octet-stream",
            'attachment; filename="no-extension"',
        ),
        (
            'documents/ab/x"; evil=1.svg',
            "application/octet-stream",
            'attachment; filename="xevil1.svg"',
        ),
    ],
)
def test_images_are_inline_and_everything_else_a_download_of_a_fixed_type(
    name, content_type, disposition
):
    assert media_headers.object_headers(name) == {
        "ContentType": content_type,
        "ContentDisposition": disposition,
    }


def test_every_accepted_kind_is_served_as_the_type_it_was_checked_to_be():
    for image_format, extensions in media.IMAGE_EXTENSIONS.items():
        for extension in extensions:
            assert media_headers.content_type(f"a{extension}") == media.IMAGE_TYPES[image_format]
    for extension, checked_type in media.DOCUMENT_TYPES.items():
        served = media_headers.content_type(f"a{extension}")
        expected = media_headers.TEXT if checked_type.startswith("text/") else checked_type
        assert served == expected, extension


@pytest.fixture
def stored(settings):
    settings.SERVE_MEDIA_FILES = True
    names = []

    def store(name, data):
        names.append(default_storage.save(name, ContentFile(data)))
        return names[-1]

    yield store
    for name in names:
        default_storage.delete(name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("documents/t1/page.html", b"<!doctype html><script>alert(1)</script>"),
        ("documents/t1/data.csv", b"a,b\n<script>alert(1)</script>,2\n"),
        ("images/t1/photo.jpg", b"\xff\xd8\xff\xe0 not checked here"),
    ],
)
def test_local_media_is_served_with_the_headers_cloudfront_adds(client, stored, name, data):
    saved = stored(name, data)
    response = client.get(f"/media/{saved}")
    assert response.status_code == 200
    expected = media_headers.object_headers(saved)
    assert response["Content-Type"] == expected["ContentType"]
    assert response["Content-Disposition"] == expected["ContentDisposition"]
    for header, value in media_headers.RESPONSE_HEADERS.items():
        assert response[header] == value  # the site's own CSP did not replace the view's
    assert b"".join(response.streaming_content) == data


@pytest.mark.django_db
def test_a_text_document_downloads_as_plain_text_never_sniffed(client):
    document = DocumentFactory(
        file=ContentFile(b"a,b\n1,2\n", name="data.csv"), content_type="text/csv"
    )
    ArticleFactory().attachments.add(document)  # public: a live article lists it
    response = client.get(document.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="data.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == media_headers.MEDIA_CSP
