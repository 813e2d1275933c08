"""``{% picture image sizes="…" %}``: an image with WebP and fallback ``srcset``.

Reads only the renditions listed on the image (no storage calls: URLs are built, not
fetched). An image without renditions yet is shown as its original while a task makes
them.
"""

from django import template
from django.core.files.storage import default_storage
from django.utils.html import format_html

register = template.Library()


def _srcset(renditions) -> str:
    return ", ".join(f"{default_storage.url(r['name'])} {r['width']}w" for r in renditions)


@register.simple_tag
def picture(image, sizes="100vw", lazy=True, css_class=""):
    if image is None:
        return ""
    loading = "lazy" if lazy else "eager"
    webp = sorted((r for r in image.renditions if r["format"] == "WEBP"), key=lambda r: r["width"])
    fallback = sorted(
        (r for r in image.renditions if r["format"] != "WEBP"), key=lambda r: r["width"]
    )
    if not webp:
        from sitecontent.media.renditions import request_renditions

        request_renditions(image)
        return format_html(
            '<img src="{}" alt="{}" width="{}" height="{}" loading="{}" decoding="async"{}>',
            image.file.url,
            image.alt_text,
            image.width,
            image.height,
            loading,
            format_html(' class="{}"', css_class) if css_class else "",
        )
    src = default_storage.url(fallback[-1]["name"]) if fallback else image.file.url
    return format_html(
        '<picture><source type="image/webp" srcset="{}" sizes="{}">'
        '<img src="{}"{} sizes="{}" alt="{}" width="{}" height="{}" loading="{}" '
        'decoding="async"{}></picture>',
        _srcset(webp),
        sizes,
        src,
        format_html(' srcset="{}"', _srcset(fallback)) if fallback else "",
        sizes,
        image.alt_text,
        image.width,
        image.height,
        loading,
        format_html(' class="{}"', css_class) if css_class else "",
    )
