"""Who may do what: the editorial roles, the permissions each holds, and the policy
functions the admin, services, views, API and events all call.

The roles (ROLE_PERMISSIONS below, and what the policy functions make of it):

Editors write. They add articles, pages, images, documents, categories and tags; they
change their own articles, pages, images and documents (and any category or tag), but
not those of others. They cannot publish, schedule or unpublish: their changes to a
published item wait as drafts, and an image or document that live pages show is
read-only to them. They delete nothing of the site's content (no ``delete_*``
permission). They add, change and delete redirects to addresses on this site, but
cannot make one to another site nor change or delete one that points there. They see
their own direct uploads (``view_upload``) and nothing of the operations panel.

Publishers hold everything Editors do, to anyone's items, and also publish, schedule
and unpublish; change images and documents live pages show; delete articles, pages,
images, documents, categories and tags (live ones included); make, change and delete
redirects to other sites; and see the operations panel (task runs, retrying them, CDN
purges). Direct uploads stay each uploader's own, for them as for Editors: only
superusers, who pass every permission check, see everyone's.

Changing ROLE_PERMISSIONS needs a migration that calls ``sync_role_groups`` again with a
copy of the new mapping (see 0005_media_roles); a test checks the two agree.

The policy (what the permissions mean for one item):

- **Publishing** an article or page (publish, schedule, unpublish, put a draft live)
  needs its model's ``publish_*`` permission: Publishers.
- **Changing** an item needs the model's ``change_*`` permission, and then either the
  ``publish_*`` permission (Publishers change anyone's) or being its owner: the
  author of an article, whoever created a page, uploaded an image or a document.
- Articles and pages that are published change only through a publisher: an Editor's
  save becomes a draft (``saves_as_draft`` in sitecontent.publishing.revisions). Images
  and documents have no drafts, so one that the public site shows (``in_live_use``) is
  read-only to Editors: its alt text or file would otherwise change on live pages at
  once. They upload a new one and choose it in a draft instead.
- **Deleting** needs the model's ``delete_*`` permission, and deleting something live
  (a live article or page, or media the public site shows) the ``publish_*`` one too
  (``can_delete``; the admin and sitecontent.publishing.services.content_delete ask it).
- **Collections** (folders of the media library) may name the groups that use them:
  then only those groups' members see, choose, add and change the images and documents
  in them (``collections_for``); one naming no group follows its parent's, and at the
  top is open to all. Publishers (who manage collections) and superusers use every
  collection.
- **Redirects** to an address on this site are anyone's with the redirect permissions;
  one that sends visitors to another site needs ``redirects.redirect_offsite``
  (Publishers), since a public, cached 301 to anywhere is a publishing act.

Admin ``has_*_permission`` methods only delegate here; the services check again, so a
forged POST, a management command or a task meets the same rule.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from sitecontent.models import Collection, visibility

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
        # Who did what (sitecontent.models.audit): read-only for everyone.
        "view_auditevent",
        # The media library's collections, and which groups may use each.
        *(f"{action}_collection" for action in (*_WRITE, "delete")),
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


# -- the policy ------------------------------------------------------------------

# Whose item it is: Editors change only their own.
OWNER_FIELDS = {
    "article": "author",
    "page": "owner",
    "image": "uploaded_by",
    "document": "uploaded_by",
}
MEDIA = {"image", "document"}
REDIRECT_OFFSITE = "redirects.redirect_offsite"


def _perm(model, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def can_publish(user, model) -> bool:
    """Whether ``user`` may publish items of ``model`` (and change anyone's)."""
    return user.has_perm(_perm(model, "publish"))


def owns(user, item) -> bool:
    field = OWNER_FIELDS.get(item._meta.model_name)
    return bool(field) and user.pk is not None and getattr(item, f"{field}_id") == user.pk


def in_live_use(item) -> bool:
    """Whether the public site shows this image or document right now."""
    if item.pk is None:
        return False
    # The admin asks several times while it builds one form: ask the database once per
    # instance (an instance lives for one request; services check a freshly loaded one).
    if "_in_live_use" not in item.__dict__:
        public = (
            visibility.image_is_public
            if item._meta.model_name == "image"
            else visibility.document_is_public
        )
        item.__dict__["_in_live_use"] = public(item)
    return item.__dict__["_in_live_use"]


def why_read_only(user, item) -> str | None:
    """Why ``user`` may look at ``item`` but not change it (None: they may change it)."""
    model = type(item)
    if not user.has_perm(_perm(model, "change")):
        return _("You may not change %(kind)s.") % {"kind": model._meta.verbose_name_plural}
    if can_publish(user, model) or item.pk is None:
        return None
    if model._meta.model_name in MEDIA and not may_use_collection(user, item):
        return _(
            "This %(kind)s is in a collection your groups may not use; a publisher may "
            "change it or move it."
        ) % {"kind": model._meta.verbose_name}
    if not owns(user, item):
        return _("Only its owner or a publisher may change this %(kind)s.") % {
            "kind": model._meta.verbose_name
        }
    if model._meta.model_name in MEDIA and in_live_use(item):
        return _(
            "Published pages show this %(kind)s, so only a publisher may change it. To use a "
            "different one, upload it and choose it in a draft."
        ) % {"kind": model._meta.verbose_name}
    return None


def can_change(user, item) -> bool:
    return why_read_only(user, item) is None


def require_change(user, item) -> None:
    """Raise PermissionDenied, saying why, unless ``user`` may change ``item``."""
    reason = why_read_only(user, item)
    if reason:
        raise PermissionDenied(reason)


def can_delete(user, item) -> bool:
    """Deleting needs the delete permission; deleting something live (an item, or media
    the public site shows) needs the publish permission too."""
    model = type(item)
    if not user.has_perm(_perm(model, "delete")):
        return False
    live = getattr(item, "is_published", False) or (
        model._meta.model_name in MEDIA and in_live_use(item)
    )
    return not live or can_publish(user, model)


# -- collections -------------------------------------------------------------------


def uses_every_collection(user, model) -> bool:
    """Publishers of ``model`` (Image or Document) and superusers use every collection."""
    return user.is_active and (user.is_superuser or can_publish(user, model))


def collections_for(user, model):
    """The collections whose ``model`` media (images or documents) ``user`` may see,
    choose, add and change: every one for a publisher; else each whose groups (or, if it
    names none, its nearest ancestor's that names some) include one of the user's, and
    those where no collection up the tree names any. Asks the database once (the
    collections are a short list; the tree is walked here), then once per instance."""
    collections = Collection.objects.all()
    if user.pk is None or not user.is_active:
        return collections.none()
    if uses_every_collection(user, model):
        return collections
    if "_usable_collections" not in user.__dict__:
        named = Collection.editor_groups.through.objects.filter(collection=OuterRef("pk"))
        rows = collections.annotate(
            restricted=Exists(named), mine=Exists(named.filter(group__user=user))
        ).values_list("pk", "parent_id", "restricted", "mine")
        tree = {pk: (parent, restricted, mine) for pk, parent, restricted, mine in rows}
        user.__dict__["_usable_collections"] = frozenset(pk for pk in tree if _may_use(tree, pk))
    return collections.filter(pk__in=user.__dict__["_usable_collections"])


def _may_use(tree, pk) -> bool:
    """Up the tree to the first collection naming groups: whether the user is in one."""
    seen = set()
    while pk is not None and pk not in seen:
        seen.add(pk)
        parent, restricted, mine = tree[pk]
        if restricted:
            return mine
        pk = parent
    return True  # nothing up the tree names a group: open to all


def media_visible_to(user, media):
    """The images or documents (of the queryset ``media``) ``user`` may see and choose:
    those in their collections. The admin's lists, the choosers and the services ask."""
    if uses_every_collection(user, media.model):
        return media
    return media.filter(collection__in=collections_for(user, media.model))


def may_use_collection(user, item, collection_id=None) -> bool:
    """Whether ``user`` may use the collection ``item`` is in (or ``collection_id``)."""
    model = type(item)
    if uses_every_collection(user, model):
        return True
    wanted = collection_id or item.collection_id
    collections_for(user, model)  # works out (once per user instance) which they may use
    return wanted in user.__dict__.get("_usable_collections", ())


def require_collection(user, item) -> None:
    """Raise PermissionDenied unless ``user`` may put ``item`` in its (new) collection."""
    if not may_use_collection(user, item):
        raise PermissionDenied(
            _("You may not put media in the collection “%(name)s”.") % {"name": item.collection}
        )


def media_fields(model) -> list:
    """The fields of an article or page that show media: foreign keys and many-to-many
    relations to images or documents (the hero image, attachments)."""
    from sitecontent.models import Document, Image

    return [
        field
        for field in model._meta.get_fields()
        if (field.many_to_many or field.many_to_one)
        and not field.auto_created  # the model's own fields, not reverse relations
        and field.related_model in (Image, Document)
    ]


def media_chosen(item, field) -> set:
    """The ids of the media ``item`` shows through ``field`` (a saved item's relations
    are read; the caller passes a draft's ids itself)."""
    if field.many_to_many:
        return set(getattr(item, field.name).values_list("pk", flat=True)) if item.pk else set()
    value = getattr(item, field.attname)
    return {value} if value is not None else set()


def require_media_choices(user, model, chosen: dict, before: dict) -> None:
    """Raise PermissionDenied if an article or page is to show an image or document
    ``user`` may not choose (one outside their collections: media_visible_to). ``chosen``
    and ``before`` map each media field's name to the ids it shows now and showed before:
    what it already showed stays allowed, so a publisher's choice from a closed collection
    does not stop an editor saving the rest. Forms offer only what may be chosen; this is
    for what they are sent anyway, and for every other caller of the services."""
    for field in media_fields(model):
        added = set(chosen.get(field.name, ())) - set(before.get(field.name, ()))
        if not added:
            continue
        media = field.related_model._default_manager.filter(pk__in=added)
        if media_visible_to(user, media).count() != len(added):
            raise PermissionDenied(
                _("You may not choose that %(kind)s: it is in a collection you cannot use.")
                % {"kind": field.related_model._meta.verbose_name}
            )


def can_redirect_offsite(user) -> bool:
    return user.has_perm(REDIRECT_OFFSITE)


# -- uploads ----------------------------------------------------------------------


def uploads_visible_to(user, uploads):
    """The direct uploads (of the queryset ``uploads``) whose fate ``user`` may follow:
    their own; a superuser, everyone's. The admin's list and the upload page's status
    requests both ask this."""
    if user.is_superuser:
        return uploads
    if user.pk is None:
        return uploads.none()
    return uploads.filter(uploaded_by=user)
