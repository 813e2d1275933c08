"""The editorial roles and the permissions each one holds.

Editors write: they create content, images and documents and change their own, but cannot
publish, schedule or unpublish; their changes to live items wait as drafts, and images and
documents that live pages show are read-only to them (sitecontent.permissions). They
manage redirects within the site. Publishers hold everything Editors do to anyone's
items, plus publishing, deleting and redirects to other sites.

Changing ROLE_PERMISSIONS needs a migration that calls ``sync_role_groups`` again with a
copy of the new mapping (see 0005_media_roles); a test checks the two agree.
"""

EDITORS = "Editors"
PUBLISHERS = "Publishers"

_WRITE = ("add", "change", "view")
_CONTENT = ("article", "page", "image", "document", "category", "tag")

_REDIRECTS = [f"redirects.{action}_redirect" for action in ("add", "change", "view", "delete")]

ROLE_PERMISSIONS = {
    EDITORS: [
        *(f"{action}_{model}" for model in _CONTENT for action in _WRITE),
        "view_upload",
        *_REDIRECTS,
    ],
    PUBLISHERS: [
        *(f"{action}_{model}" for model in _CONTENT for action in (*_WRITE, "delete")),
        "view_upload",
        "publish_article",
        "publish_page",
        "publish_image",
        "publish_document",
        *_REDIRECTS,
        "redirects.redirect_offsite",
        # The operations panel: task runs (and retrying them), CDN purges.
        "cms.view_taskrun",
        "cms.retry_taskrun",
        "cms.view_cdnpurge",
    ],
}


def sync_role_groups(group_model, permission_model, roles, *, app_label="sitecontent"):
    """Create the role groups and set exactly their permissions (idempotent).

    Migrations pass their own frozen copy of ``roles``: a migration must keep meaning
    what it meant when written, whatever ROLE_PERMISSIONS says later.
    """
    for name, entries in roles.items():
        # "codename" means one of app_label's; "app.codename" names another app's.
        wanted = {tuple(e.split(".", 1)) if "." in e else (app_label, e) for e in entries}
        group, _ = group_model.objects.get_or_create(name=name)
        perms = [
            perm
            for perm in permission_model.objects.filter(
                codename__in={codename for _app, codename in wanted}
            ).select_related("content_type")
            if (perm.content_type.app_label, perm.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in perms}
        if missing:
            raise LookupError(f"Permissions not found for {name}: {sorted(missing)}")
        group.permissions.set(perms)
