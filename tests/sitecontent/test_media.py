"""The byte checks and renditions in sitecontent.media, file by file."""

import io

import pytest
from PIL import Image

from sitecontent import media
from tests.media_corpus import HOSTILE, valid_docx, valid_jpeg, valid_pdf, valid_png


def inspect(kind, filename, declared, data):
    if kind == "image":
        return media.inspect_image(data, filename=filename, declared_type=declared)
    return media.inspect_document(data, filename=filename, declared_type=declared)


def test_the_corpus_has_at_least_thirty_distinct_hostile_files():
    assert len({case[0] for case in HOSTILE}) == len(HOSTILE) >= 30


@pytest.mark.parametrize(
    ("case", "kind", "filename", "declared", "data"), HOSTILE, ids=[c[0] for c in HOSTILE]
)
def test_hostile_file_is_refused_with_a_reason(case, kind, filename, declared, data):
    with pytest.raises(media.Rejected) as refused:
        inspect(kind, filename, declared, data)
    assert len(str(refused.value)) > 10  # a sentence an editor can act on


@pytest.mark.parametrize(
    ("filename", "declared", "data", "expected"),
    [
        ("photo.jpg", "image/jpeg", valid_jpeg((800, 600)), ("JPEG", 800, 600)),
        ("logo.png", "image/png", valid_png((120, 80)), ("PNG", 120, 80)),
    ],
)
def test_good_images_are_accepted_with_their_size(filename, declared, data, expected):
    info = media.inspect_image(data, filename=filename, declared_type=declared)
    assert (info.format, info.width, info.height) == expected


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("report.pdf", valid_pdf()),
        ("letter.docx", valid_docx()),
        ("notes.txt", "Plain text, café.".encode()),
        ("data.csv", b"a,b\n1,2\n"),
    ],
)
def test_good_documents_are_accepted(filename, data):
    info = media.inspect_document(data, filename=filename)
    assert info.content_type == media.DOCUMENT_TYPES[info.extension]


def test_pixel_limit_comes_from_settings(settings):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    with pytest.raises(media.Rejected, match=r"megapixels|too large"):
        media.inspect_image(valid_jpeg((200, 200)), filename="a.jpg")


def test_renditions_cover_declared_widths_up_to_the_original_in_webp_and_fallback():
    info = media.inspect_image(valid_jpeg((1000, 500)), filename="a.jpg")
    specs = media.rendition_specs(info)
    assert sorted({w for w, _ in specs}) == [320, 640, 960, 1000]
    assert {f for _, f in specs} == {"WEBP", "JPEG"}
    made = media.make_renditions(valid_jpeg((1000, 500)), specs[:2])
    for rendition in made:
        with Image.open(io.BytesIO(rendition.data)) as decoded:
            assert decoded.format == rendition.format
            assert decoded.size == (rendition.width, rendition.height)
            assert not decoded.info.get("exif")


def test_small_images_get_renditions_at_their_own_width_only():
    info = media.inspect_image(valid_png((200, 100)), filename="a.png")
    assert media.rendition_specs(info) == [(200, "WEBP"), (200, "PNG")]
