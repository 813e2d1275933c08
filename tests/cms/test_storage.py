"""cms.storage.MediaStorage: URLs formatted exactly as django-storages' S3Storage
formats them, without the AWS SDK; everything else done by S3Storage (against moto)."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from storages.backends.s3 import S3Storage

from cms.storage import MediaStorage

NAMES = [
    "images/a.jpg",
    "images/with space.jpg",
    "images/ünïcødé-名前.png",
    "images/what?.jpg",
    "images/hash#tag.jpg",
    "images/100%.jpg",
    "images/%20already-quoted.jpg",
    "images/plus+and&amp;=.jpg",
    "images/quote'\"<>.jpg",
    "images/semi;colon,comma@at$dollar!bang.jpg",
    "images/tilde~(paren)*star.jpg",
    "images/./dot/../segments.jpg",
    "images//double//slash.jpg",
    "images\\windows\\path.jpg",
    "renditions/",
    "renditions/abc/",
    "",
    "emoji-🙂.webp",
    "tab\tnewline\n.jpg",
]
OPTIONS = [
    {"location": "media", "custom_domain": "media.example.test", "querystring_auth": False},
    {"location": "", "custom_domain": "cdn.example.test", "querystring_auth": False},
    {"location": "a/b/", "custom_domain": "x.example.test:8443", "querystring_auth": False},
    {
        "location": "media",
        "custom_domain": "m.example.test",
        "querystring_auth": False,
        "url_protocol": "http:",
    },
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: o["custom_domain"])
def test_urls_are_s3storages_byte_for_byte(options):
    ours = MediaStorage(bucket_name="b", **options)
    theirs = S3Storage(bucket_name="b", **options)
    for name in NAMES:
        assert ours.url(name) == theirs.url(name), name
    assert ours._s3 is None  # no S3Storage made (so no client, no boto3 session)


@pytest.mark.parametrize("name", ["../escape.jpg", "images/../../escape.jpg"])
def test_names_outside_the_location_are_refused_as_s3storage_refuses_them(name):
    options = OPTIONS[0]
    with pytest.raises(SuspiciousOperation):
        S3Storage(bucket_name="b", **options).url(name)
    with pytest.raises(SuspiciousOperation):
        MediaStorage(bucket_name="b", **options).url(name)


def test_signed_or_parametrised_urls_are_s3storages():
    signed = MediaStorage(bucket_name="b", location="media", querystring_auth=True)
    assert "Signature=" in signed.url("images/a.jpg")
    assert signed._s3 is not None
    custom = MediaStorage(bucket_name="b", **OPTIONS[0])
    assert custom.url("a.jpg", parameters={"v": "1"}) == S3Storage(
        bucket_name="b", **OPTIONS[0]
    ).url("a.jpg", parameters={"v": "1"})


def test_it_is_a_storage_and_passes_s3storages_attributes_on():
    storage = MediaStorage(bucket_name="b", file_overwrite=False, **OPTIONS[0])
    assert isinstance(storage, Storage)  # FileField requires one
    assert storage.bucket_name == "b"
    assert storage.location == "media"
    assert storage.file_overwrite is False  # S3Storage's, through the backend
    assert storage.deconstruct()[0] == "cms.storage.MediaStorage"
    with pytest.raises(AttributeError):
        storage.no_such_attribute  # noqa: B018


def test_importing_and_formatting_urls_loads_no_aws_sdk():
    code = (
        "import os, sys, json, django;"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'cms.settings.local';"
        "django.setup();"
        "from cms.storage import MediaStorage;"
        "s = MediaStorage(bucket_name='b', location='media', custom_domain='m.test',"
        " querystring_auth=False);"
        "s.url('images/a b.jpg');"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('boto3', 'botocore', 's3transfer')"
        " or m.startswith('storages.backends'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_io_goes_through_s3storage_with_the_media_headers(s3_media):
    from django.core.files.storage import default_storage, storages

    from cms import aws

    assert isinstance(storages["default"], MediaStorage)
    name = default_storage.save("documents/report one.pdf", ContentFile(b"%PDF-1.4 x"))
    assert default_storage.exists(name)
    assert default_storage.size(name) == 10
    with default_storage.open(name) as stored:
        assert stored.read() == b"%PDF-1.4 x"
    head = aws.client("s3").head_object(Bucket=s3_media.bucket, Key=f"media/{name}")
    assert head["ContentType"] == "application/pdf"
    assert "attachment" in head["ContentDisposition"]
    # file_overwrite=False: a second save gets another name; renditions overwrite.
    assert default_storage.save("documents/report one.pdf", ContentFile(b"2")) != name
    renditions = storages["renditions"]
    first = renditions.save("renditions/x.jpg", ContentFile(b"1"))
    assert renditions.save("renditions/x.jpg", ContentFile(b"2")) == first
    assert default_storage.listdir("documents")[1]
    default_storage.delete(name)
    assert not default_storage.exists(name)
