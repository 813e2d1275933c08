"""What uploaded bytes really are, and the renditions made from images.

The bytes decide: a file's name and declared content type are only checked against what
the bytes turn out to be. Pure functions on bytes, shared by the admin form and the S3
upload handler; nothing here touches storage or the database.
"""

import io
import warnings
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

# Pillow format name -> the content type it is stored and served with.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "GIF": {".gif"}, "WEBP": {".webp"}}

DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": "text/plain",
    ".csv": "text/csv",
}
# What must be inside an Office Open XML zip of each kind.
OOXML_PARTS = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
# PDF features that run code or open other things when the file is opened.
PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia")
# Unpacked size a zip-based document may claim, against a zip bomb.
MAX_UNPACKED_RATIO = 100

# Rendition widths (pixels) and the formats each is made in besides WebP.
RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)
RENDITION_FALLBACK_FORMAT = {"JPEG": "JPEG", "PNG": "PNG", "GIF": "PNG", "WEBP": None}
RENDITION_QUALITY = {"JPEG": 82, "WEBP": 80}


class Rejected(Exception):
    """The upload cannot be accepted; the message is for the editor."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class DocumentInfo:
    content_type: str
    extension: str


def extension_of(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def inspect_image(data: bytes, *, filename: str = "", declared_type: str = "") -> ImageInfo:
    """Open ``data`` with Pillow, within the pixel limit, and check it is whole."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise Rejected(_("The file is empty."))
    max_pixels = settings.IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between the limit and twice the limit; refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if image_format not in IMAGE_TYPES:
                    raise Rejected(
                        _("This is a %(format)s file; images must be JPEG, PNG, GIF or WebP.")
                        % {"format": image_format}
                    )
                if width * height > max_pixels:
                    raise _too_many_pixels(width, height, max_pixels)
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # verify() misses truncated pixel data; decoding does not
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected(_("The image is too large to process (%(why)s).") % {"why": exc}) from exc
    except UnidentifiedImageError as exc:
        raise Rejected(_("This file is not an image in a format we accept.")) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Rejected(_("The image is damaged or incomplete.")) from exc
    content_type = IMAGE_TYPES[image_format]
    if declared_type and declared_type != content_type:
        raise Rejected(
            _("The file claims to be %(declared)s but is %(actual)s.")
            % {"declared": declared_type, "actual": content_type}
        )
    if filename and extension_of(filename) not in IMAGE_EXTENSIONS[image_format]:
        raise Rejected(
            _("The file is named “%(name)s” but is a %(format)s image.")
            % {"name": filename, "format": image_format}
        )
    return ImageInfo(image_format, content_type, width, height)


def _too_many_pixels(width, height, limit):
    return Rejected(
        _("The image is %(w)d × %(h)d pixels; the limit is %(mp)d megapixels.")  # noqa: RUF001
        % {"w": width, "h": height, "mp": limit // 1_000_000}
    )


def inspect_document(data: bytes, *, filename: str, declared_type: str = "") -> DocumentInfo:
    """Accept only the document kinds in DOCUMENT_TYPES, recognised by their bytes."""
    extension = extension_of(filename)
    if not data:
        raise Rejected(_("The file is empty."))
    if extension not in DOCUMENT_TYPES:
        raise Rejected(
            _("“%(ext)s” files are not accepted. Accepted: %(list)s.")
            % {"ext": extension or filename, "list": ", ".join(DOCUMENT_TYPES)}
        )
    content_type = DOCUMENT_TYPES[extension]
    if declared_type and declared_type != content_type:
        raise Rejected(
            _("The file claims to be %(declared)s but is named as %(actual)s.")
            % {"declared": declared_type, "actual": content_type}
        )
    checks = {".pdf": _check_pdf, ".txt": _check_text, ".csv": _check_text}
    check = checks.get(extension) or (_check_ooxml if extension in OOXML_PARTS else _check_odf)
    check(data, extension)
    return DocumentInfo(content_type, extension)


def _check_pdf(data: bytes, extension: str) -> None:
    if not data.startswith(b"%PDF-"):
        raise Rejected(_("The file is named .pdf but is not a PDF."))
    if b"%%EOF" not in data[-2048:]:
        raise Rejected(_("The PDF is damaged or incomplete."))
    if any(marker in data for marker in PDF_ACTIVE_CONTENT):
        raise Rejected(_("The PDF contains scripts, launch actions or embedded files."))


def _check_text(data: bytes, extension: str) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(_("Text files must be UTF-8 text.")) from exc
    if "\x00" in text:
        raise Rejected(_("The file is named as text but holds binary data."))
    head = text.lstrip("\ufeff \t\r\n")[:256].lower()
    if head.startswith(("<", "<!doctype")) or "<script" in text.lower():
        raise Rejected(_("The file holds HTML or SVG markup, which is not accepted as text."))


def _open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise Rejected(_("The file is named %(kind)s but is not one.") % {"kind": kind}) from exc
    if unpacked > max(len(data), 1) * MAX_UNPACKED_RATIO:
        raise Rejected(_("The file unpacks to far more than its size (a zip bomb?)."))
    if archive.testzip() is not None:
        raise Rejected(_("The file is damaged or incomplete."))
    return archive


def _check_ooxml(data: bytes, extension: str) -> None:
    archive = _open_zip(data, extension)
    names = archive.namelist()
    if "[Content_Types].xml" not in names or not any(
        name.startswith(OOXML_PARTS[extension]) for name in names
    ):
        raise Rejected(_("The file is named %(ext)s but is not one.") % {"ext": extension})
    if any(name.lower().endswith(".bin") and "vba" in name.lower() for name in names):
        raise Rejected(_("Documents with macros are not accepted."))


def _check_odf(data: bytes, extension: str) -> None:
    archive = _open_zip(data, extension)
    try:
        mimetype = archive.read("mimetype").decode("ascii").strip()
    except (KeyError, UnicodeDecodeError) as exc:
        raise Rejected(_("The file is named %(ext)s but is not one.") % {"ext": extension}) from exc
    if mimetype != DOCUMENT_TYPES[extension]:
        raise Rejected(_("The file is named %(ext)s but is not one.") % {"ext": extension})


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str  # Pillow format name
    data: bytes

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[self.format]

    @property
    def content_type(self) -> str:
        return IMAGE_TYPES[self.format]


def rendition_specs(info: ImageInfo) -> list[tuple[int, str]]:
    """(width, format) pairs for an image: each declared width up to the original's,
    in WebP and in a fallback every browser shows."""
    widths = [w for w in RENDITION_WIDTHS if w < info.width] or [info.width]
    if info.width not in widths and info.width < RENDITION_WIDTHS[-1]:
        widths.append(info.width)
    formats = ["WEBP"]
    if fallback := RENDITION_FALLBACK_FORMAT[info.format]:
        formats.append(fallback)
    return [(width, fmt) for width in widths for fmt in formats]


def make_renditions(data: bytes, specs) -> list[Rendition]:
    """Resized copies, upright (EXIF orientation applied) and without metadata."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as original:
        original.seek(0)  # the first frame of an animation
        upright = ImageOps.exif_transpose(original)
        results = []
        for width, fmt in specs:
            height = max(1, round(upright.height * width / upright.width))
            resized = upright.resize((width, height), Image.Resampling.LANCZOS)
            if fmt == "JPEG" and resized.mode != "RGB":
                resized = resized.convert("RGB")
            elif resized.mode not in {"RGB", "RGBA", "L", "LA"}:
                resized = resized.convert("RGBA")
            out = io.BytesIO()
            resized.save(out, fmt, quality=RENDITION_QUALITY.get(fmt, 90), optimize=True)
            results.append(Rendition(width, height, fmt, out.getvalue()))
    return results
