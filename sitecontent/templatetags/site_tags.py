from django import template

from sitecontent.media.renditions import image_sources

register = template.Library()


@register.filter
def nav_state(current_path: str, link: str) -> str:
    """aria-current for a navigation link: "page" on it, "true" anywhere below it."""
    if current_path == link:
        return "page"
    if link != "/" and current_path.startswith(link):
        return "true"
    return ""


@register.filter
def richtext(value):
    """Editor HTML, sanitized, ready to print: the only way templates show rich text."""
    from sitecontent.richtext import render

    return render(value)


@register.filter
def absolute_url(url: str) -> str:
    """``url`` with the site's address in front when it is a path.

    SITE_URL holds any path the site lives under (dev: ``https://<api>…/dev``). A path
    reversed while answering a request on API Gateway's own host already starts with
    that stage (Zappa's SCRIPT_NAME), so the prefix is taken off rather than doubled.
    """
    from django.conf import settings
    from django.urls import get_script_prefix

    if not url.startswith("/"):
        return url
    prefix = get_script_prefix().rstrip("/")
    if prefix and (url == prefix or url.startswith(f"{prefix}/")):
        url = url[len(prefix) :] or "/"
    return f"{settings.SITE_URL}{url}"


def _json_for_html(data) -> str:
    """JSON safe inside a <script> element (as Django's json_script escapes it)."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    escapes = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
    return json.dumps(data, cls=DjangoJSONEncoder).translate(escapes)


@register.simple_tag
def article_json_ld(article, canonical_url: str):
    """schema.org Article data for search engines."""
    from django.conf import settings
    from django.templatetags.static import static
    from django.utils.html import format_html

    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": article.meta_title,
        "description": article.meta_description,
        "datePublished": article.publish_at,
        "dateModified": article.updated_at,
        "mainEntityOfPage": canonical_url,
        "author": {"@type": "Person", "name": article.author.public_name},
        "publisher": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "logo": {"@type": "ImageObject", "url": absolute_url(static("img/icon-192.png"))},
        },
    }
    if article.hero_image:
        data["image"] = [absolute_url(share_image_url(article.hero_image))]
    return format_html('<script type="application/ld+json">{}</script>', _mark(data))


def _mark(data):
    from django.utils.safestring import mark_safe

    return mark_safe(_json_for_html(data))  # noqa: S308 - escaped for <script> above


@register.filter
def share_image_url(image) -> str:
    """The image for link previews (sitecontent.media.renditions chooses which file)."""
    return image_sources(image).share_card
