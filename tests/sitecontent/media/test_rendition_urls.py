"""sitecontent.media.renditions formats a rendition's URL as its folder's URL with the
file name appended (one storage call per image instead of one per file): the URLs must
be the storage's own, byte for byte, in every storage the site runs on."""

import pytest
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage

from cms.storage import MediaStorage
from sitecontent.media import renditions

FOLDERS = [
    "images/0ea9e72c95ed42c8b4a9ad23194b0df2/renditions",
    "images/with space/renditions",
    "images/ünïcødé-名前/renditions",
    "images/100%/renditions",
    "images/what?#/renditions",
    "images/./dot/../segments/renditions",
    "images//double/renditions",
]
FILES = [
    "320.webp",
    "1600.jpg",
    "share-1200x630-500-500.jpg",
    "a_b-c.png",
    # not names the renditions get, but the rule must still give the storage's URL
    "with space.jpg",
    "..",
    ".",
    "ü.jpg",
    "q?.jpg",
]
STORAGES = {
    "filesystem": lambda tmp_path: FileSystemStorage(location=tmp_path, base_url="/media/"),
    "filesystem-absolute": lambda tmp_path: FileSystemStorage(
        location=tmp_path, base_url="https://media.example.test/m/"
    ),
    "media-cdn": lambda tmp_path: MediaStorage(
        bucket_name="b",
        location="media",
        custom_domain="media.example.test",
        querystring_auth=False,
    ),
    "media-cdn-root": lambda tmp_path: MediaStorage(
        bucket_name="b", location="", custom_domain="cdn.example.test", querystring_auth=False
    ),
    "s3": lambda tmp_path: S3Storage(
        bucket_name="b",
        location="a/b/",
        custom_domain="x.example.test:8443",
        querystring_auth=False,
    ),
}


@pytest.mark.parametrize("make", STORAGES.values(), ids=STORAGES.keys())
def test_folder_urls_are_the_storages_own(make, tmp_path, monkeypatch):
    storage = make(tmp_path)
    monkeypatch.setattr(renditions, "default_storage", storage)
    items = [{"name": f"{folder}/{file}"} for folder in FOLDERS for file in FILES]
    items.append({"name": "no-folder.jpg"})
    urls = renditions._folder_urls(items)
    assert urls == {item["name"]: storage.url(item["name"]) for item in items}


def test_one_storage_call_per_folder_for_the_files_renditions_get(tmp_path, monkeypatch):
    storage = FileSystemStorage(location=tmp_path, base_url="/media/")
    calls = []
    original = storage.url
    monkeypatch.setattr(storage, "url", lambda name: calls.append(name) or original(name))
    monkeypatch.setattr(renditions, "default_storage", storage)
    folder = "images/0ea9e72c95ed42c8b4a9ad23194b0df2/renditions"
    names = [f"{folder}/{w}.{ext}" for w in (320, 640, 1280) for ext in ("webp", "jpg")]
    renditions._folder_urls([{"name": name} for name in names])
    assert calls == [f"{folder}/"]
