"""Media on pages: srcset from stored renditions, no storage calls while rendering,
downloads with safe headers, and files and CDN paths cleaned up on replace or delete."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.utils import timezone

from cms import cdn
from cms.models import TaskRun
from sitecontent.media import services
from sitecontent.models import Image
from tests.aws_fixtures import MEDIA_DOMAIN
from tests.factories import ArticleFactory, DocumentFactory, ImageFactory
from tests.media_corpus import valid_jpeg, valid_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def count_s3_calls():
    """Count every S3 API call the storages make (they are the only S3 users on a page)."""
    calls = []
    for storage in (default_storage, storages["renditions"]):
        client = storage.connection.meta.client
        client.meta.events.register("before-send.s3", lambda request, **kw: calls.append(request))
    return calls


def test_pages_with_images_render_without_any_storage_call(s3_media, client, count_s3_calls):
    image = ImageFactory(file=ContentFile(valid_jpeg((1300, 800)), name="hero.jpg"))
    article = ArticleFactory(title="With hero", hero_image=image, featured=True)
    count_s3_calls.clear()  # uploads and renditions above spoke to S3; rendering must not
    article_html = client.get(article.get_absolute_url()).content.decode()
    home_html = client.get("/").content.decode()
    list_html = client.get("/articles/").content.decode()
    assert count_s3_calls == []
    for html in (article_html, home_html, list_html):
        assert f"https://{MEDIA_DOMAIN}/media/{image.folder}/renditions/320.webp 320w" in html
        assert 'width="1300" height="800"' in html


def image_article_url(image):
    return (
        image.article_set.get().get_absolute_url()
        if hasattr(image, "article_set")
        else (ArticleFactory._meta.model.objects.get(hero_image=image).get_absolute_url())
    )


def test_picture_offers_webp_and_a_jpeg_fallback_with_sizes(client):
    image = ImageFactory(file=ContentFile(valid_jpeg((700, 400)), name="p.jpg"))
    article = ArticleFactory(hero_image=image)
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<source type="image/webp" srcset="' in html
    assert "/renditions/320.webp 320w" in html
    assert "/renditions/700.jpg 700w" in html
    assert 'sizes="(min-width: 44rem) 42rem, 100vw"' in html
    assert 'alt="A blue rectangle"' in html


def test_an_image_without_renditions_shows_the_original_and_the_tick_asks_once(
    client, django_capture_on_commit_callbacks
):
    image = ImageFactory(with_renditions=False)
    article = ArticleFactory(hero_image=image)
    asked_at_upload = Image.objects.get(pk=image.pk).renditions_requested_at
    with django_capture_on_commit_callbacks(execute=True):
        html = client.get(article.get_absolute_url()).content.decode()
        client.get(article.get_absolute_url())
    assert f'<img src="{image.file.url}"' in html
    # Pages only read: showing the original enqueues nothing and writes nothing.
    runs = TaskRun.objects.filter(task_path="sitecontent.tasks.image_create_renditions")
    assert runs.count() == 0
    assert Image.objects.get(pk=image.pk).renditions_requested_at == asked_at_upload
    # The minute tick asks again once the request made at upload is old, and only once.
    later = timezone.now() + services.REQUEST_AGAIN_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.image_renditions_retry_stale(now=later) == [image.pk]
        assert services.image_renditions_retry_stale(now=later) == []
    assert runs.count() == 1
    image.refresh_from_db()
    assert image.renditions  # the task ran (immediate backend) and recorded them


def test_document_downloads_as_an_attachment_with_its_checked_type(client):
    document = DocumentFactory(title="Annual report")
    article = ArticleFactory()
    article.attachments.add(document)
    html = client.get(article.get_absolute_url()).content.decode()
    assert f'href="{document.get_absolute_url()}" download>Annual report</a>' in html
    response = client.get(document.get_absolute_url())
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == valid_pdf()
    assert client.get(f"/documents/{document.pk}/other.pdf").status_code == 404


def test_on_s3_a_download_redirects_to_the_cdn_copy(s3_media, client):
    document = DocumentFactory()
    ArticleFactory().attachments.add(document)
    response = client.get(document.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == f"https://{MEDIA_DOMAIN}/media/{document.file.name}"


def test_files_saved_through_the_models_are_stored_with_their_serving_headers(s3_media):
    from cms import aws

    image = ImageFactory(file=ContentFile(valid_jpeg((700, 400)), name="Sea View.jpg"))
    text = DocumentFactory(
        file=ContentFile(b"notes\n", name="Notes.txt"), content_type="text/plain"
    )
    pdf = DocumentFactory()

    def head(name):
        return aws.client("s3").head_object(Bucket=s3_media.bucket, Key=f"media/{name}")

    assert head(image.file.name)["ContentDisposition"] == 'inline; filename="sea-view.jpg"'
    assert head(image.file.name)["ContentType"] == "image/jpeg"
    assert {head(r["name"])["ContentType"] for r in image.renditions} == {
        "image/webp",
        "image/jpeg",
    }
    assert head(text.file.name)["ContentType"] == "text/plain; charset=utf-8"
    assert head(text.file.name)["ContentDisposition"] == 'attachment; filename="notes.txt"'
    assert head(pdf.file.name)["ContentType"] == "application/pdf"
    assert head(pdf.file.name)["ContentDisposition"] == 'attachment; filename="report.pdf"'
    assert all("immutable" in head(f.file.name)["CacheControl"] for f in (image, text, pdf))


def test_replacing_an_image_file_purges_and_deletes_only_the_old_files(
    s3_media, django_capture_on_commit_callbacks
):
    image = ImageFactory(file=ContentFile(valid_jpeg((500, 300)), name="old.jpg"))
    article = ArticleFactory(hero_image=image, slug="uses-it")
    old_folder = image.folder
    cdn.get_backend().purges.clear()
    with django_capture_on_commit_callbacks(execute=True):
        image.file = ContentFile(valid_jpeg((800, 500)), name="new.jpg")
        image.save()
    image.refresh_from_db()
    keys = s3_media.keys("media/")
    assert not [k for k in keys if k.startswith(f"media/{old_folder}/")]
    assert f"media/{image.file.name}" in keys
    assert {r["width"] for r in image.renditions} == {320, 640, 800}
    purged = {path for batch in cdn.get_backend().purges for path in batch}
    assert f"/media/{old_folder}/*" in purged
    assert article.get_absolute_url() in purged or "/articles/*" in purged
    assert not any(image.folder in path for path in purged)  # new keys were never cached


def test_deleting_a_document_deletes_its_file_and_purges_it(
    s3_media, django_capture_on_commit_callbacks
):
    document = DocumentFactory()
    folder, pk = document.file.name.rsplit("/", 1)[0], document.pk
    cdn.get_backend().purges.clear()
    with django_capture_on_commit_callbacks(execute=True):
        document.delete()
    assert s3_media.keys("media/documents/") == []
    # The file's folder, and the download address that redirected to it.
    assert cdn.get_backend().purges == [[f"/documents/{pk}/*", f"/media/{folder}/*"]]


def test_the_admin_form_applies_the_same_byte_checks(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import editor
    from tests.media_corpus import HOSTILE

    client.force_login(editor())
    refused = 0
    for _case, kind, filename, declared, data in HOSTILE:
        if kind != "image" or not data:
            continue
        response = client.post(
            "/admin/sitecontent/image/add/",
            {
                "title": "x",
                "alt_text": "x",
                "file": SimpleUploadedFile(filename, data, content_type=declared),
            },
        )
        assert response.status_code == 200, filename
        assert "file" in response.context["adminform"].form.errors, filename
        refused += 1
    assert refused >= 20
    assert not Image.objects.exists()


def test_the_admin_document_form_applies_the_same_byte_checks(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sitecontent.models import Document
    from tests.factories import editor
    from tests.media_corpus import HOSTILE

    client.force_login(editor())
    refused = 0
    for case, kind, filename, declared, data in HOSTILE:
        if kind != "document":
            continue
        response = client.post(
            "/admin/sitecontent/document/add/",
            {"title": "x", "file": SimpleUploadedFile(filename, data, content_type=declared)},
        )
        assert response.status_code == 200, case
        assert "file" in response.context["adminform"].form.errors, case
        refused += 1
    assert refused >= 25
    assert not Document.objects.exists()


def test_an_image_added_in_the_admin_is_stored_re_encoded(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import editor
    from tests.sitecontent.media.test_inspection import MARKER, images_with_marked_metadata

    client.force_login(editor())
    filename, data = images_with_marked_metadata()[1]  # a PNG with text chunks, EXIF, ICC
    response = client.post(
        "/admin/sitecontent/image/add/",
        {"title": "t", "alt_text": "a", "file": SimpleUploadedFile(filename, data, "image/png")},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    image = Image.objects.get()
    with default_storage.open(image.file.name, "rb") as stored:
        written = stored.read()
    assert written != data
    assert MARKER not in written
