"""Making the resized copies of images (their sizes and formats: sitecontent.media.inspection)
and the crops cut around their focal points (CROPS).

Renditions are made by a task after an image arrives, never while a page renders; pages
read the list stored on the image (sitecontent.media.renditions chooses from it). The
task calls this module, which therefore enqueues nothing (sitecontent.media.services does).
"""

import io
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import transaction

from cms.purging import purge_after_commit
from sitecontent.caching.paths import paths_showing_image
from sitecontent.caching.version import content_changed
from sitecontent.media import inspection as media
from sitecontent.models import Image

logger = logging.getLogger(__name__)

# Copies cut to a fixed shape, centred as near the image's focal point as the edges allow.
# "share": link previews (og:image, JSON-LD), the 1.91:1 card sharing sites show.
CROPS = {"share": (1200, 630)}


def rendition_name(image: Image, width: int, extension: str) -> str:
    return f"{image.folder}/renditions/{width}.{extension}"


def crop_name(image: Image, crop: str, width: int, height: int, extension: str) -> str:
    """The focal point is part of the name: a moved point makes a new file, so no CDN or
    browser cache can go on serving the old cut under the same address."""
    x, y = (round(v * 1000) for v in image.focal_point)
    return f"{image.folder}/renditions/{crop}-{width}x{height}-{x}-{y}.{extension}"


def crop_box(width: int, height: int, shape: tuple[int, int], focal: tuple[float, float]):
    """The largest box of ``shape``'s proportions inside a ``width`` x ``height`` image,
    centred on the focal point (fractions of width and height) unless that would cross
    an edge, where it stops. (left, top, right, bottom) in pixels, as Pillow crops."""
    ratio = shape[0] / shape[1]
    box_w, box_h = (round(height * ratio), height) if width / height > ratio else (
        width, round(width / ratio))  # fmt: skip
    box_w, box_h = max(1, min(box_w, width)), max(1, min(box_h, height))
    left = min(max(round(focal[0] * width - box_w / 2), 0), width - box_w)
    top = min(max(round(focal[1] * height - box_h / 2), 0), height - box_h)
    return (left, top, left + box_w, top + box_h)


def crops_current(image: Image) -> bool:
    """Whether the image's crops were cut from its file at its present focal point."""
    return set(image.crops or {}) == set(CROPS) and all(
        c.get("source") == image.file.name and tuple(c.get("focal", ())) == image.focal_point
        for c in image.crops.values()
    )


def _renditions_current(image: Image) -> bool:
    return bool(image.renditions) and all(
        r.get("source") == image.file.name for r in image.renditions
    )


def make_crops(image: Image, data: bytes, info) -> dict:
    """Cut and store CROPS from the original's bytes, as renditions are (upright, sRGB,
    without metadata), in the format its fallback renditions use."""
    from PIL import ImageOps

    Pillow = media._pillow()
    fmt = media.RENDITION_FALLBACK_FORMAT[info.format] or "JPEG"
    store = storages["renditions"]
    made = {}
    with Pillow.open(io.BytesIO(data)) as original:
        original.seek(0)
        upright = ImageOps.exif_transpose(original)
        if icc := original.info.get("icc_profile"):
            upright = media._to_srgb(upright, icc)
        for crop, shape in CROPS.items():
            box = crop_box(upright.width, upright.height, shape, image.focal_point)
            cut = upright.crop(box)
            # Never enlarged: a small original gives a smaller card of the same shape.
            if cut.width > shape[0]:
                cut = cut.resize(shape, Pillow.Resampling.LANCZOS)
            if fmt == "JPEG" and cut.mode != "RGB":
                cut = cut.convert("RGB")
            elif cut.mode not in {"RGB", "RGBA", "L", "LA"}:
                cut = cut.convert("RGBA")
            cut.info = {}
            out = io.BytesIO()
            cut.save(out, fmt, quality=media.RENDITION_QUALITY.get(fmt, 90), optimize=True)
            extension = media.Rendition(cut.width, cut.height, fmt, b"").extension
            name = crop_name(image, crop, cut.width, cut.height, extension)
            store.save(name, ContentFile(out.getvalue()))
            made[crop] = {
                "name": name,
                "width": cut.width,
                "height": cut.height,
                "format": fmt,
                "source": image.file.name,
                "focal": list(image.focal_point),
                "box": list(box),
            }
    return made


def image_renditions_create(*, image_id: int) -> str:
    """Make the image's renditions (again, if its file changed) and its crops (again, if
    its file or focal point changed). Safe to run twice."""
    image = Image.objects.filter(pk=image_id).first()
    if image is None:
        return "gone"
    renditions_ok, crops_ok = _renditions_current(image), crops_current(image)
    if renditions_ok and crops_ok:
        return "exists"
    with default_storage.open(image.file.name, "rb") as original:
        data = original.read()
    info = media.describe_image(data)
    store = storages["renditions"]
    made = image.renditions
    if not renditions_ok:
        made = []
        for rendition in media.make_renditions(data, media.rendition_specs(info)):
            name = rendition_name(image, rendition.width, rendition.extension)
            store.save(name, ContentFile(rendition.data))
            made.append(
                {
                    "name": name,
                    "width": rendition.width,
                    "height": rendition.height,
                    "format": rendition.format,
                    "source": image.file.name,
                }
            )
    crops = make_crops(image, data, info)
    with transaction.atomic():
        # Only if the file and focal point are still those these were made from.
        updated = Image.objects.filter(
            pk=image.pk, file=image.file.name, focal_x=image.focal_x, focal_y=image.focal_y
        ).update(renditions=made, crops=crops, renditions_requested_at=None)
        if updated:
            # Pages cached while the image had no renditions showed the bare original,
            # and pages name the crops by their focal point.
            purge_after_commit(paths_showing_image(image))
            content_changed()  # an update(), which sends no signal
            # The cuts at the old focal point (same file: a new file's folder goes whole).
            current = {c["name"] for c in crops.values()}
            stale = [
                c["name"]
                for c in (image.crops or {}).values()
                if c.get("source") == image.file.name and c["name"] not in current
            ]
            if stale:
                transaction.on_commit(lambda: [store.delete(name) for name in stale])
    logger.info("Image %s: %d renditions, %d crops", image.pk, len(made), len(crops))
    return "made" if updated else "stale"
