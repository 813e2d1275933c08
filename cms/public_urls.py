"""The public site's URLs: every address but the admin's.

Public requests resolve and reverse against this URLconf alone (cms.middleware), so
a cold start serving a page never builds the admin's hundreds of URL patterns, which
any first ``reverse()`` against the full URLconf (cms.urls) does.
"""

import re

from django.conf import settings
from django.urls import include, path, re_path

from cms.views import favicon, local_media
from sitecontent.public.views import api

urlpatterns = [
    re_path(r"^api/", api),  # the content API, loaded on first use (see the view)
    path("favicon.ico", favicon),
]

if settings.MEDIA_URL.startswith("/"):
    # Laptops and tests: uploads served from MEDIA_ROOT (see cms.views.local_media).
    # On AWS media is on S3 behind CloudFront and never passes through Django.
    urlpatterns += [
        re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", local_media)
    ]

# As in cms.urls: errors under /admin/ in the admin's frame, the site's own elsewhere.
handler404 = "cms.views.page_not_found"
handler403 = "cms.views.permission_denied"
# A database outage answers 503, anything else the 500 page (cms.db.unavailable).
handler500 = "cms.db.unavailable.server_error"

# Last: pages are served from a catch-all path, so every other route must come first.
urlpatterns += [path("", include("sitecontent.public.urls"))]
