import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from cms.views import local_media
from sitecontent.admin_operations import operations_urls
from sitecontent.views import api

admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    *operations_urls(),
    path("admin/", admin.site.urls),
    re_path(r"^api/", api),  # the content API, loaded on first use (see the view)
]

if settings.MEDIA_URL.startswith("/"):
    # Laptops and tests: uploads served from MEDIA_ROOT (see cms.views.local_media).
    # On AWS media is on S3 behind CloudFront and never passes through Django.
    urlpatterns += [
        re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", local_media)
    ]

# Last: pages are served from a catch-all path, so every other route must come first.
urlpatterns += [path("", include("sitecontent.urls"))]
