"""Every URL: the admin's, then the public site's (cms.public_urls). The admin's
requests, management commands and tests resolve against this one.

Importing it registers every app's ModelAdmins (cms.apps.AdminConfig does not at
start-up), so public pages, which resolve against cms.public_urls, never load them."""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from cms import public_urls
from sitecontent.admin.operations import operations_urls

admin.autodiscover()

admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    *operations_urls(),
    path("admin/", admin.site.urls),
    *public_urls.urlpatterns,
]

# Chosen by path: a 404 or 403 under /admin/ gets the admin's branded page, any other
# the site's own. cms.public_urls names the same views (public requests resolve there).
handler404 = "cms.views.page_not_found"
handler403 = "cms.views.permission_denied"
# A database outage answers 503, anything else the 500 page (cms.db.unavailable).
handler500 = "cms.db.unavailable.server_error"
