"""Hostile files, made here so the corpus is reviewable: (id, kind, filename, declared
content type, bytes). Each one must be refused, whichever way it arrives."""

import io
import struct
import zipfile
import zlib

from PIL import Image


def _image(fmt, size=(40, 30), mode="RGB", **save):
    out = io.BytesIO()
    Image.new(mode, size, "#336699").save(out, fmt, **save)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_bomb(width=30_000, height=30_000) -> bytes:
    """A small PNG that decodes to 900 megapixels of 1-bit black."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressed = zlib.compress(row * 200, 9)  # only the first rows; the header is the lie
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", compressed) + _png_chunk(b"IEND", b""))  # fmt: skip


def _gif_with_size(width, height) -> bytes:
    data = bytearray(_image("GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def _jpeg_with_size(width, height) -> bytes:
    data = bytearray(_image("JPEG"))
    marker = data.index(b"\xff\xc0")  # baseline frame header: height then width
    data[marker + 5 : marker + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _corrupt_png_crc() -> bytes:
    data = bytearray(_image("PNG", size=(64, 64)))
    idat = data.index(b"IDAT")
    data[idat + 8] ^= 0xFF  # a byte of compressed data changes; its CRC no longer matches
    return bytes(data)


def _zip(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _docx_bomb() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": b"\x00" * 50_000_000})


PDF_OK_TAIL = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
              b"<script>alert(document.cookie)</script></svg>")  # fmt: skip
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"

HOSTILE = [
    # id, kind, filename, declared type, bytes
    ("empty-image", "image", "empty.jpg", JPEG, b""),
    ("text-as-jpeg", "image", "notes.jpg", JPEG, b"just some text, not a picture"),
    ("html-as-png", "image", "page.png", PNG, HTML),
    ("svg-script-as-png", "image", "logo.png", PNG, SVG_SCRIPT),
    ("svg-script-as-webp", "image", "logo.webp", WEBP, SVG_SCRIPT),
    ("php-as-jpeg", "image", "shell.jpg", JPEG, b"<?php system($_GET['c']); ?>"),
    ("elf-as-gif", "image", "tool.gif", GIF, b"\x7fELF\x02\x01\x01" + b"\x00" * 200),
    ("exe-as-png", "image", "setup.png", PNG, b"MZ\x90\x00" + b"\x00" * 300),
    ("truncated-jpeg", "image", "half.jpg", JPEG, _image("JPEG", size=(400, 300))[:900]),
    ("truncated-png", "image", "half.png", PNG, _image("PNG", size=(300, 300))[:-40]),
    ("truncated-webp", "image", "half.webp", WEBP, _image("WEBP", size=(300, 300))[:60]),
    ("png-bad-crc", "image", "crc.png", PNG, _corrupt_png_crc()),
    ("png-bomb", "image", "bomb.png", PNG, _png_bomb()),
    ("gif-huge-dimensions", "image", "huge.gif", GIF, _gif_with_size(65_000, 65_000)),
    ("jpeg-huge-dimensions", "image", "huge.jpg", JPEG, _jpeg_with_size(60_000, 60_000)),
    ("tiff-not-allowed", "image", "scan.tiff", PNG, _image("TIFF")),
    ("bmp-not-allowed", "image", "old.png", PNG, _image("BMP")),
    ("ico-not-allowed", "image", "favicon.png", PNG, _image("ICO", size=(32, 32))),
    ("pdf-as-png", "image", "doc.png", PNG, b"%PDF-1.7\n1 0 obj<<>>endobj" + PDF_OK_TAIL),
    ("png-declared-jpeg", "image", "photo.jpg", JPEG, _image("PNG")),
    ("jpeg-named-png", "image", "photo.png", PNG, _image("JPEG")),
    ("gif-declared-webp", "image", "anim.webp", WEBP, _image("GIF")),
    ("jpeg-as-pdf", "document", "report.pdf", PDF, _image("JPEG")),
    ("html-as-pdf", "document", "report.pdf", PDF, HTML),
    ("pdf-with-javascript", "document", "form.pdf", PDF,
     b"%PDF-1.7\n1 0 obj<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>endobj"
     + PDF_OK_TAIL),
    ("pdf-with-launch", "document", "open.pdf", PDF,
     b"%PDF-1.7\n1 0 obj<< /OpenAction << /S /Launch /F (cmd.exe) >> >>endobj" + PDF_OK_TAIL),
    ("pdf-truncated", "document", "cut.pdf", PDF, b"%PDF-1.7\n1 0 obj<<>>endobj\n"),
    ("docx-random-zip", "document", "letter.docx", DOCX, _zip({"hello.txt": "hi"})),
    ("docx-not-a-zip", "document", "letter.docx", DOCX, b"PK\x03\x04 broken"),
    ("docx-zip-bomb", "document", "huge.docx", DOCX, _docx_bomb()),
    ("docx-with-macros", "document", "macro.docx", DOCX,
     _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>",
           "word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})),
    ("xlsx-that-is-docx", "document", "sheet.xlsx", XLSX,
     _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"})),
    ("odt-wrong-mimetype", "document", "text.odt", ODT,
     _zip({"mimetype": "application/x-evil", "content.xml": "<x/>"}, zipfile.ZIP_STORED)),
    ("html-as-text", "document", "readme.txt", "text/plain", HTML),
    ("svg-as-text", "document", "drawing.txt", "text/plain", SVG_SCRIPT),
    ("binary-as-csv", "document", "data.csv", "text/csv", b"a,b\n\x00\x01\x02\x03"),
    ("latin1-as-text", "document", "old.txt", "text/plain", "café crème".encode("latin-1")),
    ("pdf-declared-docx", "document", "report.docx", DOCX, b"%PDF-1.7\n" + PDF_OK_TAIL),
]  # fmt: skip


def valid_jpeg(size=(1600, 1000)) -> bytes:
    return _image("JPEG", size=size, quality=85)


def valid_png(size=(500, 400)) -> bytes:
    return _image("PNG", size=size, mode="RGBA")


def valid_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj" + PDF_OK_TAIL


def valid_docx() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
