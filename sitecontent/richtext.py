"""Rich text: HTML that editors write, cleaned on the server with an allow-list.

Two rules, each kept in one place:

- **Stored**: whatever the browser sends, only these tags, attributes and URL schemes
  are stored: in the item (``RichTextField.pre_save``) and in every revision, draft and
  snapshot (``sitecontent.publishing.revisions`` normalizes revision data through the model's
  fields, which call ``sanitize_html``).
- **Rendered**: templates, the API and anything else that outputs rich text go through
  ``render`` (the ``richtext`` template filter), which sanitizes again, so a value that
  reached the database some other way (``QuerySet.update()``, SQL, a restored backup,
  rows from before a rule changed) is still inert. Nothing else marks editor HTML safe;
  tests/sitecontent/test_richtext.py fails on a template that uses ``|safe``.
"""

import functools
import re

from django.db import models
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    # data-file: the media library id the editor's image picker records.
    "img": {"src", "alt", "width", "height", "data-file"},
    "ol": {"start", "type"},
}
# Classes the editor may set, and nothing else.
ALLOWED_CLASSES = {"figure": {"figure"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize_html(value: str) -> str:
    """Return ``value`` with everything outside the allow-list removed (idempotent)."""
    if not value:
        return ""
    value = str(value)
    return _clean_remembered(value) if len(value) <= _REMEMBER_UP_TO else _clean(value)


# A warm container renders the same bodies over and over: remember the last few hundred
# (a 20 KB body costs about 1 ms to clean and 20 µs to look up), up to a size that keeps
# the memory bounded (256 bodies of at most 64 KB, kept as sent and as cleaned: 32 MB).
_REMEMBER_UP_TO = 64 * 1024


@functools.lru_cache(maxsize=256)
def _clean_remembered(value: str) -> str:
    return _clean(value)


# An image with no address shows as a broken box. The editor made them when text was
# typed over a just-inserted figure's image (fixed in static/js/prose-image-chooser.js);
# bodies saved before the fix still hold them, and a figure left with nothing in it.
# Matched on nh3's own output, whose attributes are always double-quoted.
_IMAGE_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=\")[^>]*>")
_EMPTY_FIGURE = re.compile(r"<figure[^>]*>\s*</figure>")


def _clean(value: str) -> str:
    import nh3  # when rich text is saved or shown, not on every cold start

    cleaned = _clean_markup(nh3, value)
    if "<img" in cleaned:
        cleaned = _EMPTY_FIGURE.sub("", _IMAGE_WITHOUT_SRC.sub("", cleaned))
    return cleaned


def _clean_markup(nh3, value: str) -> str:
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        allowed_classes=ALLOWED_CLASSES,
    )


def render(value) -> SafeString:
    """Editor HTML ready to print: the one path from rich text to a page."""
    return mark_safe(sanitize_html(value or ""))  # noqa: S308 - sanitized on this line


class RichTextField(models.TextField):
    """A TextField holding HTML that is sanitized on every save, whatever the caller."""

    def normalize(self, value):
        """The value as it may be stored (revisions call this for their copies too)."""
        return sanitize_html(value)

    def pre_save(self, model_instance, add):
        value = self.normalize(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value


def editor_config() -> dict:
    """The admin editor's extensions: what editors can make is what the sanitizer keeps
    (tests/sitecontent/test_richtext.py checks each one survives ``sanitize_html``)."""
    from django.urls import reverse_lazy

    return {
        "extensions": {
            "Bold": True,
            "Italic": True,
            "Strike": True,
            "Subscript": True,
            "Superscript": True,
            "Heading": {"levels": [2, 3, 4]},
            "BulletList": True,
            "OrderedList": True,
            "ListItem": True,
            "Blockquote": True,
            "Code": True,
            "CodeBlock": True,
            "HorizontalRule": True,
            "HardBreak": True,
            "Link": {"enableTarget": False, "protocols": sorted(ALLOWED_URL_SCHEMES)},
            # Images come from the media library: "Insert image from the library" opens
            # the chooser dialog in the page (static/js/prose-image-chooser.js, which
            # also keeps a figure's image when typing follows it). Figure's own dialog
            # edits an inserted image's alt text and caption.
            "Figure": True,
            "Image": True,
            "Caption": True,
            "ImageChooser": {"chooserUrl": reverse_lazy("admin:sitecontent_image_chooser")},
            "History": True,
        }
    }
