"""The byte checks and renditions in sitecontent.media.inspection, file by file."""

import io

import pytest
from PIL import Image

from sitecontent.media import inspection as media
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


# -- what is stored is what we wrote ---------------------------------------------------

MARKER = b"MARKER-7f3a9c"


def _saved(fmt, image, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _swapped_primaries_profile() -> bytes:
    """An RGB profile saying the file's red is sRGB's blue and its blue sRGB's red: made
    from Pillow's sRGB profile by swapping its rXYZ and bXYZ tags, so a conversion to
    sRGB that really happened turns red pixels blue."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(data[128:132], "big")
    tags = {}
    for i in range(count):
        entry = data[132 + 12 * i : 144 + 12 * i]
        tags[bytes(entry[:4])] = (
            int.from_bytes(entry[4:8], "big"),
            int.from_bytes(entry[8:12], "big"),
        )
    (r_at, r_len), (b_at, b_len) = tags[b"rXYZ"], tags[b"bXYZ"]
    red, blue = bytes(data[r_at : r_at + r_len]), bytes(data[b_at : b_at + b_len])
    data[r_at : r_at + r_len], data[b_at : b_at + b_len] = blue, red
    return bytes(data)


XMP_WITH_MARKER = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/'
    b'elements/1.1/"><dc:creator><rdf:Seq><rdf:li>' + MARKER + b"</rdf:li></rdf:Seq>"
    b'</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def images_with_marked_metadata():
    from PIL.PngImagePlugin import PngInfo

    picture = Image.new("RGB", (64, 48), "#336699")
    text = PngInfo()
    text.add_text("Comment", MARKER.decode())
    text.add_text("Author", MARKER.decode(), zip=True)
    text.add_itxt("Description", MARKER.decode(), zip=True)
    exif = _exif_artist()
    return [
        (
            "photo.jpg",
            _saved(
                "JPEG",
                picture,
                exif=exif,
                comment=MARKER,
                xmp=XMP_WITH_MARKER,
                icc_profile=_icc_marked(),
            ),
        ),
        ("logo.png", _saved("PNG", picture, pnginfo=text, exif=exif, icc_profile=_icc_marked())),
        ("anim.gif", _saved("GIF", picture, comment=MARKER)),
        (
            "photo.webp",
            _saved("WEBP", picture, exif=exif, xmp=XMP_WITH_MARKER, icc_profile=_icc_marked()),
        ),
    ]


def _exif_artist():
    exif = Image.Exif()
    exif[0x013B] = MARKER.decode()
    return exif.tobytes()


def _icc_marked():
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() + MARKER


@pytest.mark.parametrize(("filename", "data"), images_with_marked_metadata(),
                         ids=lambda v: v if isinstance(v, str) else "")  # fmt: skip
def test_a_prepared_image_is_new_bytes_with_no_metadata_of_the_upload(filename, data):
    assert MARKER in data  # the metadata really was written
    prepared = media.prepare_image(data, filename=filename)
    assert prepared.data != data
    assert MARKER not in prepared.data
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert not stored.info.get("icc_profile")
        assert not stored.info.get("exif")
        assert not stored.info.get("xmp")
        assert stored.format == media.inspect_image(data, filename=filename).format


def _create(data, filename):
    from django.core.files.base import ContentFile

    from sitecontent.models import Image as ImageRecord

    return ImageRecord.objects.create(title="t", alt_text="a", file=ContentFile(data, filename))


def _save_on_the_field(data, filename):
    """``image.file.save(name, content)`` (seed_demo, a shell) stores and saves at once,
    never passing through pre_save with an uncommitted file."""
    from django.core.files.base import ContentFile

    from sitecontent.models import Image as ImageRecord

    record = ImageRecord(title="t", alt_text="a")
    record.file.save(filename, ContentFile(data, filename))
    record.refresh_from_db()
    return record


@pytest.mark.django_db
@pytest.mark.parametrize("store", [_create, _save_on_the_field], ids=["create", "field-save"])
def test_the_model_stores_an_image_only_re_encoded_whoever_saves_it(store):
    from django.core.files.storage import default_storage

    filename, data = images_with_marked_metadata()[0]
    record = store(data, filename)
    with default_storage.open(record.file.name, "rb") as stored:
        written = stored.read()
    assert written != data
    assert MARKER not in written
    assert (record.width, record.height) == (64, 48)


@pytest.mark.django_db
def test_the_model_refuses_hostile_bytes_whoever_saves_them():
    from django.core.exceptions import ValidationError
    from django.core.files.base import ContentFile
    from django.db import transaction

    from sitecontent.models import Image as ImageRecord

    hostile = {case[0]: case[4] for case in HOSTILE}["jpeg-zip-after-eoi"]
    with pytest.raises(ValidationError, match="data after the end"), transaction.atomic():
        ImageRecord.objects.create(title="t", alt_text="a", file=ContentFile(hostile, "x.jpg"))
    assert not ImageRecord.objects.exists()


def test_exif_orientation_is_applied_to_the_pixels_and_the_tag_dropped():
    picture = Image.new("RGB", (40, 30), "white")
    picture.paste((255, 0, 0), (0, 0, 10, 10))  # top-left as stored
    data = _saved("JPEG", picture, exif=_orientation(6), quality=95)
    prepared = media.prepare_image(data, filename="turned.jpg")
    assert (prepared.info.width, prepared.info.height) == (30, 40)
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert stored.size == (30, 40)
        assert 0x0112 not in stored.getexif()
        red, green, _ = stored.convert("RGB").getpixel((25, 5))  # 6: turned 90° clockwise
        assert red > 200
        assert green < 80


def _orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize(
    ("fmt", "filename"), [("GIF", "a.gif"), ("WEBP", "a.webp"), ("PNG", "a.png")]
)
def test_an_animation_keeps_its_frames_durations_and_loop(fmt, filename):
    frames = [Image.new("RGBA", (30, 20), (80 * i, 0, 0, 255)) for i in range(3)]
    data = _saved(fmt, frames[0], save_all=True, append_images=frames[1:],
                  duration=[100, 200, 300], loop=2)  # fmt: skip
    prepared = media.prepare_image(data, filename=filename)
    assert prepared.info.frames == 3
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert stored.n_frames == 3
        assert stored.info.get("loop") == 2
        durations, reds = [], []
        for index in range(3):
            stored.seek(index)
            stored.load()
            durations.append(stored.info["duration"])
            reds.append(stored.convert("RGBA").getpixel((5, 5))[0])
    assert durations == [100, 200, 300]
    assert reds[0] < reds[1] < reds[2]


def test_an_embedded_colour_profile_is_converted_to_srgb_not_copied():
    data = _saved("PNG", Image.new("RGB", (20, 20), (255, 0, 0)),
                  icc_profile=_swapped_primaries_profile())  # fmt: skip
    prepared = media.prepare_image(data, filename="red.png")
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert "icc_profile" not in stored.info
        red, _green, blue = stored.convert("RGB").getpixel((10, 10))
    assert blue > 200
    assert red < 60


def test_jpeg_keeps_the_source_quantization_tables():
    data = valid_jpeg((300, 200))
    source_low = _saved("JPEG", Image.open(io.BytesIO(data)), quality=40)
    prepared = media.prepare_image(source_low, filename="low.jpg")
    with Image.open(io.BytesIO(source_low)) as source, Image.open(io.BytesIO(prepared.data)) as out:
        assert out.quantization == source.quantization


def test_png_is_re_encoded_losslessly():
    picture = Image.frombytes("RGBA", (50, 40), bytes((i * 7919) % 251 for i in range(50 * 40 * 4)))
    prepared = media.prepare_image(_saved("PNG", picture), filename="noise.png")
    with Image.open(io.BytesIO(prepared.data)) as stored:
        assert stored.tobytes() == picture.tobytes()


def test_renditions_of_a_prepared_animation_are_made_from_its_first_frame():
    frames = [Image.new("RGB", (400, 200), colour) for colour in ("red", "blue")]
    data = _saved("GIF", frames[0], save_all=True, append_images=frames[1:], duration=100)
    prepared = media.prepare_image(data, filename="a.gif")
    [rendition] = media.make_renditions(prepared.data, [(320, "PNG")])
    with Image.open(io.BytesIO(rendition.data)) as small:
        assert small.convert("RGB").getpixel((10, 10))[0] > 200


def test_zero_padding_after_the_end_is_allowed_but_not_more_than_a_block():
    jpeg = valid_jpeg((100, 80))
    media.inspect_image(jpeg + b"\x00" * 512, filename="padded.jpg")
    with pytest.raises(media.Rejected, match="after the end"):
        media.inspect_image(jpeg + b"\x00" * 5000, filename="padded.jpg")


def test_ordinary_xmp_and_exif_are_accepted():
    picture = Image.new("RGB", (64, 48), "#336699")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D <Mark IV>"  # a "<" alone is not markup
    data = _saved("JPEG", picture, exif=exif.tobytes(), xmp=XMP_WITH_MARKER)
    assert media.inspect_image(data, filename="camera.jpg").format == "JPEG"


def test_the_frame_cap_comes_from_settings(settings):
    frames = [Image.new("RGB", (4, 4), (i * 40, 0, 0)) for i in range(6)]
    data = _saved("GIF", frames[0], save_all=True, append_images=frames[1:])
    settings.IMAGE_MAX_FRAMES = 5
    with pytest.raises(media.Rejected, match="more than 5 frames"):
        media.inspect_image(data, filename="a.gif")
    settings.IMAGE_MAX_FRAMES = 6
    assert media.inspect_image(data, filename="a.gif").frames == 6


def test_pillows_own_limit_is_ours_so_its_refusals_quote_it(settings):
    import PIL.Image

    settings.IMAGE_MAX_PIXELS = 1_000_000
    with pytest.raises(media.Rejected, match="the limit is 1 megapixels"):
        media.inspect_image(valid_jpeg((3000, 1000)), filename="a.jpg")
    assert PIL.Image.MAX_IMAGE_PIXELS == 1_000_000


# -- PDFs ---------------------------------------------------------------------------


def test_a_pdf_with_ordinary_links_and_an_open_destination_is_accepted():
    from tests.media_corpus import pdf

    link = b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://x/) >> >>"
    data = pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99 99] /Annots [" + link + b"] >>",
        }
    )
    assert media.inspect_document(data, filename="links.pdf").content_type == "application/pdf"


def test_a_pdf_restricted_by_an_owner_password_only_is_opened_and_checked():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert media.inspect_document(out.getvalue(), filename="restricted.pdf")
