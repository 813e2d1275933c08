"""What uploaded bytes really are, and the renditions made from images.

The bytes decide: a file's name and declared content type are only checked against what
the bytes turn out to be. Pure functions on bytes, shared by the admin form and the S3
upload handler; nothing here touches storage or the database.
"""

import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass, replace

from django.conf import settings
from django.utils.translation import gettext as _

from cms import media_headers
from sitecontent.media import imageformats

logger = logging.getLogger(__name__)

# Pillow format name -> the content type it is stored and served with.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "GIF": {".gif"}, "WEBP": {".webp"}}

# Extension -> the type a browser declares for it and Document.content_type records: the
# kinds cms.media_headers serves, with text under its own names (served as text/plain).
DOCUMENT_TYPES = {
    **media_headers.DOCUMENT_TYPES,
    ".txt": "text/plain",
    ".csv": "text/csv",
}
# What must be inside an Office Open XML zip of each kind.
OOXML_PARTS = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
# PDF names (as keys or values, after pypdf has decoded #xx escapes) for features that
# run code, open or submit to other files and sites, or carry files inside the PDF.
PDF_ACTIVE_NAMES = frozenset({
    "/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/EF", "/RichMedia",
    "/RichMediaExecute", "/XFA", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/AA",
})  # fmt: skip
# Link schemes a PDF's URI actions may use.
PDF_URI_SCHEMES = ("http:", "https:", "mailto:")
# Unpacked size a zip-based document may claim, against a zip bomb.
MAX_UNPACKED_RATIO = 100

# Rendition widths (pixels) and the formats each is made in besides WebP.
RENDITION_WIDTHS = (320, 640, 960, 1280, 1920)
RENDITION_FALLBACK_FORMAT = {"JPEG": "JPEG", "PNG": "PNG", "GIF": "PNG", "WEBP": None}
RENDITION_QUALITY = {"JPEG": 82, "WEBP": 80}


class Rejected(Exception):
    """The upload cannot be accepted; the message is for the editor."""


# Markup and code that have no business in an image's metadata: HTML and SVG elements
# a sniffing browser would run, event-handler attributes in any tag, script URLs, PHP,
# XML processing that fetches or transforms (stylesheets, entities). XMP is XML, so a bare
# "<" is fine. Checked on the raw bytes and with NULs removed (UTF-16 text, as in EXIF's
# UserComment). Each pattern is at least five bytes so compressed thumbnails inside EXIF
# do not match by chance.
DANGEROUS_METADATA = re.compile(
    rb"<(?:script|svg|html|body|head|iframe|frame|frameset|object|embed|applet|form|input"
    rb"|button|img|image|video|audio|source|math|style|link|meta|base|template|marquee"
    rb"|details|dialog|textarea|select|isindex)[\s/>]"
    rb"|<[a-z][^<>]{0,200}?[\s/\"']on[a-z]{3,}\s*="
    rb"|<!doctype|<!entity|<\?xml-stylesheet|<\?php|<\?=\s*[$\w(]"
    rb"|(?:java|vb)script\s*:|data\s*:\s*text/html|<%[@=]\s",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    width: int
    height: int
    frames: int = 1
    lossless: bool = True  # WebP: the original was VP8L (other formats: unused)


@dataclass(frozen=True)
class PreparedImage:
    """An accepted image re-encoded by us: the only bytes of it that are ever stored."""

    data: bytes
    info: ImageInfo  # of ``data``: size after orientation was applied


@dataclass(frozen=True)
class DocumentInfo:
    content_type: str
    extension: str


def extension_of(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def document_type(filename: str) -> str:
    """The content type a document named ``filename`` is stored and served as ("" for a
    kind not accepted): the one its extension names, which inspect_document checks
    its bytes against."""
    return DOCUMENT_TYPES.get(extension_of(filename), "")


def _pillow():
    """Pillow, imported on first use (cold starts), with its decompression-bomb limit set
    to ours so that every refusal, wherever Pillow opens a file, quotes the same limit."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
    return Image


def inspect_image(data: bytes, *, filename: str = "", declared_type: str = "") -> ImageInfo:
    """Check ``data`` is a whole image of a kind we accept, within every limit, with no
    bytes past its end and no markup or code in its metadata."""
    Image = _pillow()
    from PIL import UnidentifiedImageError

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
                layout = _layout(image_format, data)
                if layout.frames * width * height > max_pixels:
                    raise Rejected(
                        _(
                            "The animation has %(n)d frames of %(w)d × %(h)d pixels; all its "  # noqa: RUF001
                            "frames together may have at most %(mp)d megapixels."
                        )
                        % {"n": layout.frames, "w": width, "h": height, "mp": max_pixels // 10**6}
                    )
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # verify() misses truncated pixel data; decoding does not
    except Rejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected(
            _("The image is too large to process; the limit is %(mp)d megapixels.")
            % {"mp": max_pixels // 10**6}
        ) from exc
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
    return ImageInfo(image_format, content_type, width, height, layout.frames, layout.lossless)


def _layout(image_format: str, data: bytes) -> imageformats.Layout:
    """Frames, end marker and metadata, from the container alone (nothing decoded)."""
    max_frames = settings.IMAGE_MAX_FRAMES
    try:
        layout = imageformats.walk(image_format, data, max_frames=max_frames)
    except imageformats.TooManyFrames as exc:
        raise Rejected(
            _("The animation has more than %(n)d frames, the most we accept.") % {"n": max_frames}
        ) from exc
    except imageformats.DataAfterEnd as exc:
        raise Rejected(
            _(
                "The file has data after the end of the image (another file may be hidden "
                "in it). Export the image again and upload that."
            )
        ) from exc
    except imageformats.MetadataTooLarge as exc:
        raise Rejected(
            _("The image's metadata is larger than %(mb)d MB once unpacked.")
            % {"mb": imageformats.MAX_METADATA_BYTES // 2**20}
        ) from exc
    except imageformats.Malformed as exc:
        logger.info("Image refused: %s", exc)
        raise Rejected(_("The image is damaged or incomplete.")) from exc
    metadata = b"".join(layout.metadata)
    if DANGEROUS_METADATA.search(metadata) or DANGEROUS_METADATA.search(
        metadata.replace(b"\x00", b"")
    ):
        raise Rejected(
            _(
                "The image's metadata (EXIF, XMP, comments or colour profile) holds markup "
                "or code. Remove the metadata, or export the image again, and upload that."
            )
        )
    return layout


def describe_image(data: bytes) -> ImageInfo:
    """Format and size of an image already stored (our own bytes, or an original accepted
    before re-encoding began): for renditions, not a check of an upload."""
    Image = _pillow()
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        return ImageInfo(image.format, IMAGE_TYPES[image.format], width, height)


def _too_many_pixels(width, height, limit):
    return Rejected(
        _("The image is %(w)d × %(h)d pixels; the limit is %(mp)d megapixels.")  # noqa: RUF001
        % {"w": width, "h": height, "mp": limit // 1_000_000}
    )


# -- re-encoding: what is stored is what we wrote ----------------------------------------

# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}
# Lossy WebP records no quality setting; a second generation at 90 is not visibly worse.
WEBP_REENCODE_QUALITY = 90


def prepare_image(data: bytes, *, filename: str = "", declared_type: str = "") -> PreparedImage:
    """Check an uploaded image and re-encode it: the one way an original is stored.

    The pixels are made upright (EXIF orientation applied, the tag gone), converted to sRGB
    from any embedded colour profile, and written afresh in the same format with no
    metadata at all; an animation keeps its frames, durations and loop. JPEG keeps the
    source's quantization tables and subsampling (its quality), PNG stays lossless, WebP
    stays lossless if it was. Both the form and the S3 upload handler come through here,
    and so does every model save of a new file (sitecontent.models.media.ImageField)."""
    info = inspect_image(data, filename=filename, declared_type=declared_type)
    Image = _pillow()
    try:
        with Image.open(io.BytesIO(data)) as source:
            encoded = _reencode(Image, source, info)
        with Image.open(io.BytesIO(encoded)) as check:
            check.load()
            width, height = check.size
            frames = getattr(check, "n_frames", 1)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        logger.info("Image could not be re-encoded: %r", exc)
        raise Rejected(_("The image is damaged or incomplete.")) from exc
    return PreparedImage(encoded, replace(info, width=width, height=height, frames=frames))


def _reencode(Image, source, info: ImageInfo) -> bytes:
    transpose = _ORIENTATION_TRANSPOSE.get(source.getexif().get(0x0112))
    icc = source.info.get("icc_profile") or None
    animated = info.frames > 1
    frames, durations = [], []
    for index in range(info.frames):
        source.seek(index)
        frames.append(_upright_srgb(Image, source, icc, transpose, animated=animated))
        durations.append(source.info.get("duration", 0))
    source.seek(0)
    first, options = frames[0], {}
    if animated:
        options = {"save_all": True, "append_images": frames[1:], "duration": durations}
        if source.info.get("loop") is not None:
            options["loop"] = source.info["loop"]
    elif first.mode == source.mode and source.info.get("transparency") is not None:
        options["transparency"] = source.info["transparency"]  # a palette or tRNS colour
    if info.format == "JPEG":
        options.update(_jpeg_options(source, first))
    elif info.format == "WEBP":
        options.update({"lossless": True} if info.lossless else {"quality": WEBP_REENCODE_QUALITY})
    for frame in frames:
        frame.info = {}  # nothing of the uploader's metadata may be written back
    out = io.BytesIO()
    first.save(out, info.format, **options)
    return out.getvalue()


def _upright_srgb(Image, source, icc, transpose, *, animated: bool):
    """The current frame as a new image: upright, in sRGB; an animation's in RGBA (Pillow
    composites every frame after the first in RGB or RGBA; one mode keeps them alike)."""
    frame = source.copy()
    if animated or (icc and "transparency" in frame.info):
        frame = frame.convert("RGBA")  # applies palette transparency before info goes
    if icc:
        frame = _to_srgb(frame, icc)
    elif frame.mode == "CMYK":
        frame = frame.convert("RGB")
    if transpose:
        frame = frame.transpose(getattr(Image.Transpose, transpose))
    return frame


def _to_srgb(frame, icc: bytes):
    """Pixels converted from the embedded profile to sRGB (the profile is not kept). A
    profile lcms cannot use is dropped: the pixels are then taken as sRGB already."""
    from PIL import ImageCms

    if frame.mode not in ("RGB", "RGBA", "CMYK", "L"):
        frame = frame.convert("RGBA" if frame.mode in ("LA", "PA") else "RGB")
    try:
        return ImageCms.profileToProfile(
            frame,
            ImageCms.ImageCmsProfile(io.BytesIO(icc)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if frame.mode == "RGBA" else "RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        logger.info("Colour profile not usable, dropped: %s", exc)
        return frame.convert("RGB") if frame.mode == "CMYK" else frame


def _jpeg_options(source, frame) -> dict:
    """Save options that keep the source's quality: its quantization tables and chroma
    subsampling (Pillow's quality="keep" only works on the unmodified source image)."""
    from PIL import JpegImagePlugin

    tables = [table for _, table in sorted(getattr(source, "quantization", {}).items())]
    if frame.mode == "RGB" and len(tables) == 1:
        tables.append(tables[0])  # a greyscale source converted to colour by its profile
    options = {"optimize": True, "progressive": bool(source.info.get("progressive"))}
    if tables:
        options["qtables"] = tables[:2] if frame.mode != "CMYK" else tables
    else:
        options["quality"] = 90
    sampling = JpegImagePlugin.get_sampling(source)
    if sampling != -1 and frame.mode == "RGB":
        options["subsampling"] = sampling
    return options


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
    content_type = document_type(filename)
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
    # pypdf is imported here only: every import is paid on each Lambda cold start.
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _pdf_opens_without_password(reader):
            raise Rejected(
                _("The PDF is password-protected, so it cannot be checked. Upload it unprotected.")
            )
        if len(reader.pages) == 0:
            raise Rejected(_("The PDF has no pages."))
        found = _pdf_active_content(reader)
    except Rejected:
        raise
    except DependencyError as exc:  # encryption this runtime cannot undo (AES needs more)
        raise Rejected(
            _("The PDF is encrypted, so it cannot be checked. Upload it unprotected.")
        ) from exc
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        logger.info("PDF refused: %r", exc)
        raise Rejected(_("The PDF is damaged or could not be read.")) from exc
    if found:
        logger.info("PDF refused: %s", found)
        raise Rejected(
            _(
                "The PDF contains scripts, actions that open or send to other files or "
                "sites, forms that submit, or embedded files (%(what)s). Save it without "
                "them (for example, print it to PDF) and upload that."
            )
            % {"what": found}
        )


def _pdf_opens_without_password(reader) -> bool:
    """Encrypted with an empty user password (restrictions only): readable, so checkable."""
    from pypdf import PasswordType

    return reader.decrypt("") != PasswordType.NOT_DECRYPTED


def _pdf_active_content(reader) -> str:
    """The first active feature in any object of the file (those packed in compressed
    object streams included), or "". pypdf has decoded each name's #xx escapes, so
    ``/J#53`` is seen as ``/JS``."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    pending = [reader.trailer]
    for generation, numbers in reader.xref.items():
        pending += [IndirectObject(number, generation, reader) for number in numbers]
    pending += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    seen = set()
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams too: their dictionary
            if found := _pdf_active_entry(item):
                return found
            pending += dict.values(item)  # as stored: references stay references
        elif isinstance(item, ArrayObject):
            pending += list.__iter__(item)
        elif isinstance(item, NameObject) and item in PDF_ACTIVE_NAMES:
            return str(item)
    return ""


def _pdf_active_entry(dictionary) -> str:
    from pypdf.generic import ArrayObject

    for key in dict.keys(dictionary):
        if key in PDF_ACTIVE_NAMES:
            return str(key)
    if "/OpenAction" in dictionary:
        action = dictionary["/OpenAction"]
        # A destination (an array) or a GoTo action with no chained /Next is plain.
        plain = isinstance(action, ArrayObject) or (
            hasattr(action, "get") and action.get("/S") == "/GoTo" and "/Next" not in action
        )
        if not plain:
            kind = action.get("/S") if hasattr(action, "get") else None
            return str(kind) if kind in PDF_ACTIVE_NAMES else "/OpenAction"
    if dictionary.get("/S") == "/URI":
        uri = str(dictionary.get("/URI", "")).strip().lower()
        if not uri.startswith(PDF_URI_SCHEMES):
            return "/URI"
    return ""


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
    from PIL import ImageOps

    Image = _pillow()
    with Image.open(io.BytesIO(data)) as original:
        original.seek(0)  # the first frame of an animation
        upright = ImageOps.exif_transpose(original)
        if icc := original.info.get("icc_profile"):  # an original stored before re-encoding
            upright = _to_srgb(upright, icc)
        results = []
        for width, fmt in specs:
            height = max(1, round(upright.height * width / upright.width))
            resized = upright.resize((width, height), Image.Resampling.LANCZOS)
            if fmt == "JPEG" and resized.mode != "RGB":
                resized = resized.convert("RGB")
            elif resized.mode not in {"RGB", "RGBA", "L", "LA"}:
                resized = resized.convert("RGBA")
            resized.info = {}  # Pillow would write the original's XMP and profile back
            out = io.BytesIO()
            resized.save(out, fmt, quality=RENDITION_QUALITY.get(fmt, 90), optimize=True)
            results.append(Rendition(width, height, fmt, out.getvalue()))
    return results
