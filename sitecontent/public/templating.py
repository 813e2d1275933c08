"""The public site's templates (``templates/**/*.jinja``): their Jinja2 environment and
the functions and filters they call.

Visitors' pages are Jinja2 rather than Django templates because a page rendered from
the database (every CDN miss after a change) spends most of its time resolving
template variables, and Jinja2 compiles a template to Python where Django's engine
interprets it node by node: the same markup costs several times less
(docs/benchmarks.md). The admin, e-mails and the 500/503 pages stay Django templates.

Only names ending in ``.jinja`` are Jinja2's: the engine is listed first in TEMPLATES
and refuses every other name, so Django's engine keeps ``.html``.

Each helper here is the one rule for its markup, also called from Python (robots.txt,
the API's links and link previews).
"""

import json
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import dateformat, timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from cms.jinja_templates import COMPILED_DIR, TEMPLATE_SUFFIX, template_names
from sitecontent.media.renditions import image_sources


def environment(**options):
    """Django's Jinja2 backend calls this (TEMPLATES' OPTIONS["environment"])."""
    import jinja2

    class PublicLoader(jinja2.FileSystemLoader):
        def get_source(self, environment, template):
            if not template.endswith(TEMPLATE_SUFFIX):
                raise jinja2.TemplateNotFound(template)
            return super().get_source(environment, template)

    class CompiledLoader(jinja2.ModuleLoader):
        def load(self, environment, name, globals=None):
            if not name.endswith(TEMPLATE_SUFFIX):
                raise jinja2.TemplateNotFound(name)
            return super().load(environment, name, globals)

    searchpath = options["loader"].searchpath
    loader = PublicLoader(searchpath)
    compiled = [Path(p) / COMPILED_DIR for p in searchpath if (Path(p) / COMPILED_DIR).is_dir()]
    if compiled:
        # A cold start imports the first page's templates (bytecode in the package)
        # instead of compiling them: 69 ms for the list's six on the benchmark host.
        loader = jinja2.ChoiceLoader([CompiledLoader(compiled), loader])
    options["loader"] = loader
    # The same in DEBUG as in production: a missing variable prints nothing, and
    # anything read from it is an error the tests see (Django's backend would pick
    # DebugUndefined, which prints the variable's name into the page).
    options["undefined"] = jinja2.Undefined
    # Always escaped, whatever TEMPLATES says: editors' text is printed into every page.
    options.pop("autoescape", None)
    env = jinja2.Environment(autoescape=True, **options)
    env.globals.update(
        url=url,
        static=static,
        now=now,
        picture=picture,
        article_json_ld=article_json_ld,
    )
    env.filters.update(
        date=date,
        filesizeformat=filesizeformat,
        nav_state=nav_state,
        richtext=richtext,
        absolute_url=absolute_url,
        share_image_url=share_image_url,
    )
    return env


def url(name, *args, **kwargs) -> str:
    """``{{ url("sitecontent:search") }}``: Django's ``{% url %}``."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, fmt=None) -> str:
    """Django's ``date`` filter, in the current time zone as Django's templates show it."""
    if value in (None, ""):
        return ""
    value = template_localtime(value)
    if fmt is None:
        return date_format(value)  # the locale's DATE_FORMAT
    if fmt == "c":  # what Django's "c" is, without parsing the format for it
        return value.isoformat()
    # A literal format: what date_format() gives once it has looked the text up among
    # the locale's format names, on every call, and found it is none of them.
    return dateformat.format(value, fmt)


def now(fmt) -> str:
    """Django's ``{% now %}``."""
    return date(timezone.now(), fmt)


def filesizeformat(value) -> str:
    """Django's (1024-based, "KB"), not Jinja2's own (1000-based, "kB")."""
    from django.template.defaultfilters import filesizeformat as django_filesizeformat

    return django_filesizeformat(value)


def nav_state(current_path: str, link: str) -> str:
    """aria-current for a navigation link: "page" on it, "true" anywhere below it."""
    if current_path == link:
        return "page"
    if link != "/" and current_path.startswith(link):
        return "true"
    return ""


def richtext(value):
    """Editor HTML, sanitized, ready to print: the only way templates show rich text."""
    from sitecontent.richtext import render

    return render(value)


def absolute_url(url: str) -> str:
    """``url`` with the site's address in front when it is a path.

    SITE_URL holds any path the site lives under (dev: ``https://<api>…/dev``). A path
    reversed while answering a request on API Gateway's own host already starts with
    that stage (Zappa's SCRIPT_NAME), so the prefix is taken off rather than doubled.
    """
    if not url.startswith("/"):
        return url
    prefix = get_script_prefix().rstrip("/")
    if prefix and (url == prefix or url.startswith(f"{prefix}/")):
        url = url[len(prefix) :] or "/"
    return f"{settings.SITE_URL}{url}"


def share_image_url(image) -> str:
    """The image for link previews (sitecontent.media.renditions chooses which file)."""
    return image_sources(image).share_card


def _srcset(sources, renditions) -> str:
    return ", ".join(f"{sources.url(r)} {r['width']}w" for r in renditions)


def picture(image, sizes="100vw", lazy=True, css_class=""):
    """An image with WebP and fallback ``srcset``.

    Which files to show is sitecontent.media.renditions' rule. This only reads: an
    image without renditions yet is shown as its original, and the minute tick asks
    again for them (sitecontent.media.services.image_renditions_retry_stale).
    """
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
        _srcset(sources, sources.webp),
        sizes,
        sources.src,
        format_html(' srcset="{}"', _srcset(sources, sources.fallback)) if sources.fallback else "",
        sizes,
        image.alt_text,
        image.width,
        image.height,
        loading,
        css,
    )


def _json_for_html(data) -> str:
    """JSON safe inside a <script> element (as Django's json_script escapes it)."""
    from django.core.serializers.json import DjangoJSONEncoder

    escapes = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
    return json.dumps(data, cls=DjangoJSONEncoder).translate(escapes)


def article_json_ld(article, canonical_url: str):
    """schema.org Article data for search engines."""
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
    script = mark_safe(_json_for_html(data))  # noqa: S308 - escaped for <script> above
    return format_html('<script type="application/ld+json">{}</script>', script)


def compile_templates(templates: Path) -> list[str]:
    """Compile every public template under ``templates`` into ``templates/compiled/``
    with the site's own environment (the package build runs this); returns their names."""
    import jinja2

    env = environment(loader=jinja2.FileSystemLoader(str(templates)))
    names = template_names(templates)
    env.compile_templates(
        str(templates / COMPILED_DIR),
        zip=None,
        filter_func=names.__contains__,
        ignore_errors=False,
    )
    return names
