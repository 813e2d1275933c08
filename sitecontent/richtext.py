"""Rich text: HTML that editors write, cleaned on the server with an allow-list.

Whatever the browser sends, only these tags, attributes and URL schemes are stored,
so templates may render the stored HTML as is.
"""

from django.db import models

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
    import nh3  # on a save, not on every cold start (the model imports this module)

    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        allowed_classes=ALLOWED_CLASSES,
    )


class RichTextField(models.TextField):
    """A TextField holding HTML that is sanitized on every save, whatever the caller."""

    def pre_save(self, model_instance, add):
        value = sanitize_html(getattr(model_instance, self.attname))
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
            # Images come from the media library: "Browse…" opens the image picker.
            "Figure": {"pickerUrl": reverse_lazy("admin:sitecontent_image_picker")},
            "Image": True,
            "Caption": True,
            "History": True,
        }
    }
