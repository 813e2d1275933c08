from django.conf import settings
from django.http import Http404
from django.views.static import serve


def local_media(request, path):
    """Uploads from MEDIA_ROOT, where SERVE_MEDIA_FILES is on (laptops, browser tests)."""
    if not getattr(settings, "SERVE_MEDIA_FILES", False):
        raise Http404("Media is not served here.")
    return serve(request, path, document_root=settings.MEDIA_ROOT)
