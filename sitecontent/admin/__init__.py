"""The editors' workspace in the Django admin, one module per area. Django's admin
autodiscovery imports this package, which registers every area's ModelAdmins."""

from sitecontent.admin import content, media, operations, redirects, revisions, uploads, users  # noqa: F401
