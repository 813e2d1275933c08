"""The editorial roles and the permissions each one holds.

Editors write: they create and edit content, images and documents but cannot publish,
schedule or unpublish, and cannot touch items that are live or scheduled. Publishers hold
everything Editors do plus publishing and deleting.

Changing ROLE_PERMISSIONS needs a migration that calls ``sync_role_groups`` again with a
copy of the new mapping (see 0005_media_roles); a test checks the two agree.
"""

EDITORS = "Editors"
PUBLISHERS = "Publishers"

_WRITE = ("add", "change", "view")
_CONTENT = ("article", "page", "image", "document", "category", "tag")

ROLE_PERMISSIONS = {
    EDITORS: [*(f"{action}_{model}" for model in _CONTENT for action in _WRITE), "view_upload"],
    PUBLISHERS: [
        *(f"{action}_{model}" for model in _CONTENT for action in (*_WRITE, "delete")),
        "view_upload",
        "publish_article",
        "publish_page",
    ],
}


def sync_role_groups(group_model, permission_model, roles, *, app_label="sitecontent"):
    """Create the role groups and set exactly their permissions (idempotent).

    Migrations pass their own frozen copy of ``roles``: a migration must keep meaning
    what it meant when written, whatever ROLE_PERMISSIONS says later.
    """
    for name, codenames in roles.items():
        group, _ = group_model.objects.get_or_create(name=name)
        perms = permission_model.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise LookupError(f"Permissions not found for {name}: {sorted(missing)}")
        group.permissions.set(perms)
