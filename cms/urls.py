import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from sitecontent.admin_operations import operations_urls

admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    *operations_urls(),
    path("admin/", admin.site.urls),
]

if getattr(settings, "SERVE_MEDIA_FILES", False):
    # Laptops only: uploads served from MEDIA_ROOT even with DEBUG off. On AWS media is
    # on S3 behind CloudFront and never passes through Django.
    from django.views.static import serve

    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

# Last: pages are served from a catch-all path, so every other route must come first.
urlpatterns += [path("", include("sitecontent.urls"))]
