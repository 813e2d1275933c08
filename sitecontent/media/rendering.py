"""Making the resized copies of images (their sizes and formats: sitecontent.media.inspection).

Renditions are made by a task after an image arrives, never while a page renders; pages
read the list stored on the image (sitecontent.media.renditions chooses from it). The
task calls this module, which therefore enqueues nothing (sitecontent.media.services does).
"""

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


def rendition_name(image: Image, width: int, extension: str) -> str:
    return f"{image.folder}/renditions/{width}.{extension}"


def image_renditions_create(*, image_id: int) -> str:
    """Make the image's renditions (again, if its file changed). Safe to run twice."""
    image = Image.objects.filter(pk=image_id).first()
    if image is None:
        return "gone"
    if image.renditions and all(r.get("source") == image.file.name for r in image.renditions):
        return "exists"
    with default_storage.open(image.file.name, "rb") as original:
        data = original.read()
    info = media.describe_image(data)
    store = storages["renditions"]
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
    with transaction.atomic():
        # Only if the file is still the one these were made from.
        updated = Image.objects.filter(pk=image.pk, file=image.file.name).update(
            renditions=made, renditions_requested_at=None
        )
        if updated:
            # Pages cached while the image had no renditions showed the bare original.
            purge_after_commit(paths_showing_image(image))
            content_changed()  # an update(), which sends no signal
    logger.info("Image %s: %d renditions", image.pk, len(made))
    return "made" if updated else "stale"
