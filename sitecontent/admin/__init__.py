"""The editors' workspace in the Django admin, one module per area. Django's admin
autodiscovery imports this package, which registers every area's ModelAdmins."""

from sitecontent.admin import (  # noqa: F401
    audit,
    content,
    media,
    operations,
    redirects,
    revisions,
    uploads,
    users,
)
