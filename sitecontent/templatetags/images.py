"""``{% picture image sizes="…" %}``: an image with WebP and fallback ``srcset``.

Which files to show is sitecontent.media.renditions' rule. The tag only reads: an image
without renditions yet is shown as its original, and the minute tick asks again for
them (sitecontent.media.services.image_renditions_retry_stale).
"""

from django import template
from django.utils.html import format_html

from sitecontent.media.renditions import image_sources, rendition_url

register = template.Library()


def _srcset(renditions) -> str:
    return ", ".join(f"{rendition_url(r)} {r['width']}w" for r in renditions)


@register.simple_tag
def picture(image, sizes="100vw", lazy=True, css_class=""):
    if image is None:
        return ""
    loading = "lazy" if lazy else "eager"
    sources = image_sources(image)
    css = format_html(' class="{}"', css_class) if css_class else ""
    if not sources.ready:
        return format_html(
            '<img src="{}" alt="{}" width="{}" height="{}" loading="{}" decoding="async"{}>',
            sources.original,
            image.alt_text,
            image.width,
            image.height,
            loading,
            css,
        )
    return format_html(
        '<picture><source type="image/webp" srcset="{}" sizes="{}">'
        '<img src="{}"{} sizes="{}" alt="{}" width="{}" height="{}" loading="{}" '
        'decoding="async"{}></picture>',
        _srcset(sources.webp),
        sizes,
        sources.src,
        format_html(' srcset="{}"', _srcset(sources.fallback)) if sources.fallback else "",
        sizes,
        image.alt_text,
        image.width,
        image.height,
        loading,
        css,
    )
