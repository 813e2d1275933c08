"""The container structure of the image formats we accept, walked without decoding pixels.

Pillow decodes images but does not say whether bytes follow the format's end marker
(an appended zip or script makes a polyglot), how many frames an animation holds before
it has decoded them, or what the metadata segments contain. These walkers answer that
for JPEG, PNG, GIF and WebP, each in one pass over the bytes, in C-speed slices. They
raise ``Malformed`` (with a reason for the log, not for editors) and ``TooManyFrames``;
sitecontent.media.inspection turns those into editor messages.
"""

import re
import zlib
from dataclasses import dataclass, field

# Bytes allowed after the end marker: zero bytes only, as some cameras and encoders pad a
# file to a block size. Zeros carry nothing (no polyglot or script can be made of them),
# the stored copy is re-encoded without them, and more than a block is not padding.
MAX_PADDING = 4096
# Largest metadata item read (after decompression): ICC profiles and XMP packets are
# rarely more than a few hundred kilobytes; a zTXt chunk inflating past this is a bomb.
MAX_METADATA_BYTES = 4 * 1024 * 1024


class Malformed(ValueError):
    """The bytes do not follow the format, or continue past its end."""


class DataAfterEnd(Malformed):
    """Bytes other than padding follow the format's end marker."""


class MetadataTooLarge(Malformed):
    """A compressed metadata item inflates past MAX_METADATA_BYTES."""


class TooManyFrames(ValueError):
    """The animation has more frames than allowed (counting stopped there)."""


@dataclass
class Layout:
    frames: int = 1
    # Every metadata payload (EXIF, XMP, ICC, comments, text chunks, unknown chunks),
    # decompressed where the format compresses it.
    metadata: list[bytes] = field(default_factory=list)
    # WebP only: every image is VP8L (lossless) rather than VP8 (lossy).
    lossless: bool = True


def walk(image_format: str, data: bytes, *, max_frames: int) -> Layout:
    walker = {"JPEG": _jpeg, "PNG": _png, "GIF": _gif, "WEBP": _webp}[image_format]
    layout, end = walker(data, max_frames)
    tail = data[end:]
    if tail and (len(tail) > MAX_PADDING or tail.strip(b"\x00")):
        raise DataAfterEnd(f"{len(tail)} bytes after the end of the {image_format} data")
    return layout


def _need(data: bytes, end: int, what: str) -> None:
    if end > len(data):
        raise Malformed(f"truncated in {what}")


# JPEG: SOI, then segments (marker, big-endian length, payload); after each start of scan,
# entropy-coded data up to the next marker that is neither a stuffed 0xFF00 nor a restart.
_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg(data: bytes, max_frames: int) -> tuple[Layout, int]:
    if not data.startswith(b"\xff\xd8"):
        raise Malformed("no start-of-image marker")
    layout, pos, size = Layout(), 2, len(data)
    while True:
        if pos >= size or data[pos] != 0xFF:
            raise Malformed("no end-of-image marker")
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        _need(data, pos + 1, "a marker")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # end of image
            return layout, pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length, no payload
            continue
        _need(data, pos + 2, "a segment length")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise Malformed("segment length below 2")
        _need(data, pos + length, "a segment")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APP0-APP15, COM
            layout.metadata.append(data[pos + 2 : pos + length])
        pos += length
        if marker == 0xDA:  # start of scan
            found = _MARKER_AFTER_SCAN.search(data, pos)
            if found is None:
                raise Malformed("scan data runs to the end of the file")
            pos = found.start()


# PNG: signature, then chunks (length, type, data, CRC) up to IEND.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks holding pixels or fixed-size binary facts about them: nothing to read there.
_PNG_IMAGE_CHUNKS = {
    b"IHDR", b"PLTE", b"IDAT", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
    b"hIST", b"pHYs", b"tIME", b"cICP", b"mDCv", b"cLLI", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def _png(data: bytes, max_frames: int) -> tuple[Layout, int]:
    if not data.startswith(PNG_SIGNATURE):
        raise Malformed("no PNG signature")
    layout, pos = Layout(), len(PNG_SIGNATURE)
    declared_frames = frame_controls = 0
    while True:
        _need(data, pos + 8, "a chunk header")
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        _need(data, end, f"a {kind!r} chunk")
        body = data[pos + 8 : end - 4]
        if zlib.crc32(kind + body) != int.from_bytes(data[end - 4 : end], "big"):
            raise Malformed(f"bad CRC in a {kind!r} chunk")
        pos = end
        if kind == b"IEND":
            return layout, pos
        if kind == b"acTL":
            declared_frames = int.from_bytes(body[:4], "big")
        elif kind == b"fcTL":
            frame_controls += 1
        elif kind not in _PNG_IMAGE_CHUNKS:
            layout.metadata.extend(_png_text(kind, body))
        layout.frames = max(1, declared_frames, frame_controls)
        if layout.frames > max_frames:
            raise TooManyFrames(layout.frames)


def _png_text(kind: bytes, body: bytes) -> list[bytes]:
    """A metadata chunk's readable parts: keywords as they are, compressed text inflated."""
    keyword, _, rest = body.partition(b"\x00")
    if kind in (b"zTXt", b"iCCP"):  # keyword, method, zlib data
        return [keyword, _inflate(rest[1:])]
    if kind == b"iTXt":  # keyword, flag, method, language, translated keyword, text
        compressed, language_etc = rest[:1] == b"\x01", rest[2:]
        language, _, rest = language_etc.partition(b"\x00")
        translated, _, text = rest.partition(b"\x00")
        return [keyword, language, translated, _inflate(text) if compressed else text]
    return [body]  # tEXt, eXIf and any chunk we do not know


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_METADATA_BYTES + 1)
    except zlib.error as exc:
        raise Malformed("compressed metadata does not inflate") from exc
    if len(out) > MAX_METADATA_BYTES:
        raise MetadataTooLarge("compressed metadata inflates past the limit")
    return out


# GIF: header, logical screen, optional colour table, then extensions (0x21) and images
# (0x2C), each followed by data sub-blocks, up to the trailer (0x3B).
def _gif(data: bytes, max_frames: int) -> tuple[Layout, int]:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise Malformed("no GIF header")
    _need(data, 13, "the logical screen descriptor")
    layout, pos = Layout(frames=0), 13 + _colour_table_size(data[10])
    while True:
        _need(data, pos + 1, "a block")
        introducer = data[pos]
        if introducer == 0x3B:
            layout.frames = max(layout.frames, 1)
            return layout, pos + 1
        if introducer == 0x21:
            _need(data, pos + 2, "an extension")
            label, start = data[pos + 1], pos + 2
            pos, payload = _sub_blocks(data, start, keep=label != 0xF9)
            if label != 0xF9:  # all but graphic control: comments, application data, text
                layout.metadata += [payload, data[start:pos]]
        elif introducer == 0x2C:
            layout.frames += 1
            if layout.frames > max_frames:
                raise TooManyFrames(layout.frames)
            _need(data, pos + 10, "an image descriptor")
            pos += 10 + _colour_table_size(data[pos + 9]) + 1  # + LZW minimum code size
            pos, _ = _sub_blocks(data, pos, keep=False)
        else:
            raise Malformed(f"unknown block 0x{introducer:02x}")


def _colour_table_size(flags: int) -> int:
    return 3 * (2 << (flags & 7)) if flags & 0x80 else 0


def _sub_blocks(data: bytes, pos: int, *, keep: bool) -> tuple[int, bytes]:
    parts = []
    while True:
        _need(data, pos + 1, "a data sub-block")
        length = data[pos]
        pos += 1
        if length == 0:
            return pos, b"".join(parts)
        _need(data, pos + length, "a data sub-block")
        if keep:
            parts.append(data[pos : pos + length])
        pos += length


# WebP: a RIFF container whose declared size is the end of the file, holding chunks
# (fourcc, little-endian length, data, a pad byte to even length).
def _webp(data: bytes, max_frames: int) -> tuple[Layout, int]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Malformed("no RIFF WEBP header")
    end = 8 + int.from_bytes(data[4:8], "little")
    _need(data, end, "the RIFF container")
    layout, frames, lossy = Layout(), 0, False
    for kind, body in _riff_chunks(data, 12, end):
        if kind == b"ANMF":
            frames += 1
            if frames > max_frames:
                raise TooManyFrames(frames)
            for sub_kind, sub_body in _riff_chunks(body, 16, len(body)):
                lossy |= sub_kind == b"VP8 "
                if sub_kind not in (b"VP8 ", b"VP8L", b"ALPH"):
                    layout.metadata.append(sub_body)
        elif kind in (b"VP8 ", b"VP8L"):
            lossy |= kind == b"VP8 "
        elif kind not in (b"VP8X", b"ANIM", b"ALPH"):
            layout.metadata.append(body)  # EXIF, XMP, ICCP and unknown chunks
    layout.frames, layout.lossless = max(frames, 1), not lossy
    return layout, end


def _riff_chunks(data: bytes, pos: int, end: int):
    while pos < end:
        _need(data, pos + 8, "a chunk header")
        if pos + 8 > end:
            raise Malformed("chunk header past the container's end")
        kind, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body_end = pos + 8 + length
        if body_end > end:
            raise Malformed(f"{kind!r} chunk past the container's end")
        yield kind, data[pos + 8 : body_end]
        pos = body_end + (length & 1)
    if pos != end:
        raise Malformed("chunks do not fill the container")
