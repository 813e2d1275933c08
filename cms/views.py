from django.conf import settings
from django.http import Http404
from django.views.static import serve

from . import media_headers


def local_media(request, path):
    """Uploads from MEDIA_ROOT, where SERVE_MEDIA_FILES is on (laptops, browser tests),
    with the headers S3 and CloudFront send for the same file (cms.media_headers). The
    CSP set here is kept: Django's CSP middleware leaves a view's own header alone."""
    if not getattr(settings, "SERVE_MEDIA_FILES", False):
        raise Http404("Media is not served here.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    return media_headers.apply(response, path)
