"""Writes to the media library that carry rules."""

from datetime import datetime, timedelta
from functools import partial

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from sitecontent import roles
from sitecontent.models import AuditEvent, Document, Image

# An image still without renditions is asked for them again after this long (the task
# may have been lost, or failed on a worker that went away).
REQUEST_AGAIN_AFTER = timedelta(minutes=10)
# At most this many images are asked again per minute tick.
RETRY_BATCH = 50


@transaction.atomic
def media_save(*, item, user):
    """Save an image or document ``user`` changed (or added): only their own, in a
    collection they may use, and only while no live page shows it, unless they are a
    publisher (sitecontent.roles). The rule is checked against what is stored, not what
    the form holds; and the collection it goes to against the user's."""
    created = item.pk is None
    if not created:
        stored = type(item).objects.select_for_update().filter(pk=item.pk).first()
        roles.require_change(user, stored or item)
    elif not user.has_perm(f"sitecontent.add_{item._meta.model_name}"):
        raise PermissionDenied(
            _("You may not add %(kind)s.") % {"kind": item._meta.verbose_name_plural}
        )
    roles.require_collection(user, item)
    item.save()
    AuditEvent.objects.record(
        AuditEvent.Action.CREATE if created else AuditEvent.Action.EDIT, user=user, item=item
    )
    return item


@transaction.atomic
def media_delete(*, item, user) -> None:
    """Delete an image or document: the delete permission, and for one the public site
    shows the publish permission too (roles.can_delete), checked against what is stored.
    Its files and their CDN paths go once the delete commits (media.receivers)."""
    stored = type(item).objects.select_for_update().filter(pk=item.pk).first()
    if stored is None:
        return  # deleted meanwhile: nothing left to refuse or remove
    if not roles.can_delete(user, stored):
        raise PermissionDenied(
            _("You may not delete this %(kind)s.") % {"kind": item._meta.verbose_name}
        )
    # Before the row goes: the record keeps its title and id (AuditEvent has no link).
    AuditEvent.objects.record(AuditEvent.Action.DELETE, user=user, item=stored)
    stored.delete()


def document_describe(document: Document, *, size: int) -> None:
    """Set the type and size a document's file is stored and served with, from its name
    (whose extension inspection.inspect_document checked the bytes against) and its
    length in bytes: for the admin's form and for accepted direct uploads alike."""
    # The byte checks load with uploads and saves, not on each cold start (the admin
    # imports this module).
    from sitecontent.media import inspection

    document.content_type = inspection.document_type(document.file.name)
    document.size = size


def image_renditions_request(*, image_ids, now: datetime) -> None:
    """Ask, after commit, for the renditions of these images to be made, and note when
    (image_renditions_retry_stale asks again if they are still missing later)."""
    # The task framework is imported when something is enqueued, not on each cold start.
    from sitecontent.tasks import image_create_renditions

    image_ids = list(image_ids)
    Image.objects.filter(pk__in=image_ids).update(renditions_requested_at=now)
    for image_id in image_ids:
        transaction.on_commit(
            partial(image_create_renditions.enqueue, image_id=image_id), robust=True
        )


def image_renditions_retry_stale(*, now: datetime) -> list[int]:
    """Ask again for the renditions of images that still have none (or no crops: images
    from before focal points get theirs this way), last asked for more than
    REQUEST_AGAIN_AFTER ago (or never). Called from the minute tick; returns the ids
    asked for. Safe to run twice: a second run finds them asked just now."""
    stale = (
        Image.objects.filter(Q(renditions=[]) | Q(crops={}))
        .exclude(file="")
        .filter(
            Q(renditions_requested_at__isnull=True)
            | Q(renditions_requested_at__lt=now - REQUEST_AGAIN_AFTER)
        )
        .order_by("renditions_requested_at", "pk")
    )
    image_ids = list(stale.values_list("pk", flat=True)[:RETRY_BATCH])
    if image_ids:
        image_renditions_request(image_ids=image_ids, now=now)
    return image_ids
