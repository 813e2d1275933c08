from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from . import media_headers


def local_media(request, path):
    """Uploads from MEDIA_ROOT, where SERVE_MEDIA_FILES is on (laptops, browser tests),
    with the headers S3 and CloudFront send for the same file (cms.media_headers). The
    CSP set here is kept: Django's CSP middleware leaves a view's own header alone."""
    if not getattr(settings, "SERVE_MEDIA_FILES", False):
        raise Http404("Media is not served here.")
    from django.views.static import serve  # laptops and browser tests only

    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    return media_headers.apply(response, path)


def _under_admin(request) -> bool:
    path = request.path_info
    return path == "/admin" or path.startswith("/admin/")


def _admin_error_page(request, template_name: str, status: int):
    """An error under /admin/ in the admin's own frame: its header, and the user's
    links when signed in (admin.site.each_context), never the public site's page."""
    from django.contrib import admin
    from django.shortcuts import render

    context = {**admin.site.each_context(request), "title": _ADMIN_TITLES[status]}
    return render(request, template_name, context, status=status)


_ADMIN_TITLES = {404: _("Page not found"), 403: _("Access denied")}


def page_not_found(request, exception=None):
    """handler404 of both URLconfs (cms.urls, cms.public_urls): by path, the admin's
    branded page or the site's own templates/404.jinja."""
    if _under_admin(request):
        return _admin_error_page(request, "admin/404.html", 404)
    return defaults.page_not_found(request, exception, template_name="404.jinja")


def permission_denied(request, exception=None):
    """handler403 of both URLconfs, chosen by path as page_not_found is."""
    if _under_admin(request):
        return _admin_error_page(request, "admin/403.html", 403)
    return defaults.permission_denied(request, exception, template_name="403.jinja")


def favicon(request):
    """/favicon.ico, which browsers and crawlers ask for whatever the page links: the
    icon in static/ (hashed name, so the redirect is cached only for a day)."""
    from django.templatetags.static import static

    response = HttpResponseRedirect(static("img/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
