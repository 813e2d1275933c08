"""Which of an image's renditions to show: the one rule the templates' ``picture()``, link
previews (og:image, JSON-LD), the API, the admin's thumbnails and the editor's image
browser all read.

Reads only the list stored on the image (no storage calls: URLs are built, not
fetched), so it costs a page nothing. An image without renditions yet is shown as its
original; sitecontent.media.services asks again for them, and
sitecontent.media.rendering makes them.
"""

import posixpath
import re
from dataclasses import dataclass, field

from django.core.files.storage import default_storage

# Link previews (og:image, JSON-LD) use a JPEG or PNG at most this wide: what sharing
# sites display, at a fraction of the largest rendition's bytes.
SHARE_MAX_WIDTH = 1280


# A file name sitecontent.media.rendering gives a rendition ("640.webp",
# "share-1200x630-500-500.jpg"): nothing any storage quotes, and no dot segment.
_PLAIN_FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def rendition_url(rendition: dict) -> str:
    return default_storage.url(rendition["name"])


def _folder_urls(renditions) -> dict[str, str]:
    """The URLs of ``renditions`` by name, one storage call per folder rather than one
    per file: a plain file name's URL is its folder's URL with the name appended, in
    every storage the site uses (tests/sitecontent/media/test_rendition_urls.py holds
    that). A card's ``srcset`` names six to eight files of one folder, and the storage's
    ``url()`` (path checks, quoting, ``urljoin``) was a tenth of a list page's time."""
    urls, folders = {}, {}
    for rendition in renditions:
        name = rendition["name"]
        folder, file_name = posixpath.split(name)
        if not folder or not _PLAIN_FILE_NAME.fullmatch(file_name):
            urls[name] = default_storage.url(name)
            continue
        folder_url = folders.get(folder)
        if folder_url is None:
            folder_url = folders[folder] = default_storage.url(f"{folder}/")
        urls[name] = f"{folder_url}{file_name}"
    return urls


@dataclass(frozen=True)
class ImageSources:
    """The files to show for one image. ``webp`` and ``fallback`` (JPEG/PNG) are
    sorted by width, narrowest first; both are empty until the renditions are made."""

    original: str
    webp: list[dict]
    fallback: list[dict]
    crops: dict[str, dict]
    urls: dict[str, str] = field(default_factory=dict, repr=False)  # by rendition name

    def url(self, rendition: dict) -> str:
        known = self.urls.get(rendition["name"])
        return known if known is not None else rendition_url(rendition)

    @property
    def ready(self) -> bool:
        """Whether the renditions are made (else pages show the original)."""
        return bool(self.webp)

    @property
    def src(self) -> str:
        """``<img src>``: the widest fallback rendition, or the original."""
        return self.url(self.fallback[-1]) if self.fallback else self.original

    @property
    def share(self) -> str:
        """For link previews: the widest JPEG/PNG up to SHARE_MAX_WIDTH, or the original."""
        fitting = [r for r in self.fallback if r["width"] <= SHARE_MAX_WIDTH]
        return self.url(fitting[-1]) if fitting else self.original

    @property
    def share_card(self) -> str:
        """For link previews: the 1.91:1 crop around the focal point (sitecontent.media.
        rendering.CROPS), else as ``share``. Not for bodies: it cuts the image."""
        crop = self.crops.get("share")
        return self.url(crop) if crop else self.share

    def nearest(self, width: int) -> str:
        """The rendition closest to ``width``, JPEG or PNG if there is one (the original
        while none exist)."""
        best = min(self.fallback or self.webp, key=lambda r: abs(r["width"] - width), default=None)
        return self.url(best) if best else self.original

    @property
    def thumbnail(self) -> str:
        """For lists of images: the narrowest rendition of any format, or the original."""
        smallest = min([*self.webp, *self.fallback], key=lambda r: r["width"], default=None)
        return self.url(smallest) if smallest else self.original


def image_sources(image) -> ImageSources:
    """What to show of ``image`` (an Image with a file)."""
    by_width = sorted(image.renditions or [], key=lambda r: r["width"])
    crops = image.crops or {}
    return ImageSources(
        original=image.file.url,
        webp=[r for r in by_width if r["format"] == "WEBP"],
        fallback=[r for r in by_width if r["format"] != "WEBP"],
        crops=crops,
        urls=_folder_urls([*by_width, *crops.values()]),
    )
