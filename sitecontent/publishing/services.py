"""Writes to articles and pages that carry business rules: publishing, scheduling,
unpublishing, saving and deleting. Admin actions and commands call these; each checks
who may (sitecontent.roles) so a forged POST or a command meets the same rule.

Each records what it did in the audit log (sitecontent.models.AuditEvent), once, so the
admin, the API, tasks and commands leave the same trail.

They announce what the public site sees (sitecontent.signals): content_published when a
version of an item goes live, content_unpublished when it leaves the site. Scheduling
an item that is not live sends nothing: the minute tick sends content_published when
its time comes.
"""

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sitecontent import roles
from sitecontent.models import AuditEvent, Publishable, Revision, Status
from sitecontent.publishing.revisions import draft_rule, first_revision_ensure, revision_create
from sitecontent.publishing.validators import validate_future
from sitecontent.signals import content_published, content_unpublished


def _require_publish_permission(user, item: Publishable) -> None:
    if not roles.can_publish(user, type(item)):
        raise PermissionDenied(
            _("You may not publish %(kind)s.") % {"kind": item._meta.verbose_name_plural}
        )


def _save(item: Publishable) -> Publishable:
    item.full_clean()
    item.save()
    return item


def _announce(item: Publishable, *, was_live: bool) -> None:
    """Tell listeners how the public site's view of ``item`` changed, if it did."""
    if item.is_live():
        content_published.send(sender=type(item), instance=item)
    elif was_live:
        content_unpublished.send(sender=type(item), instance=item)


@transaction.atomic
def content_publish(*, item: Publishable, user) -> Publishable:
    """Make ``item`` visible now (cancelling a future schedule or a past expiry)."""
    _require_publish_permission(user, item)
    now = timezone.now()
    item.is_published = True
    if item.publish_at is None or item.publish_at > now:
        item.publish_at = now
    if item.unpublish_at is not None and item.unpublish_at <= now:
        item.unpublish_at = None
    _save(item)
    AuditEvent.objects.record(AuditEvent.Action.PUBLISH, user=user, item=item)
    content_published.send(sender=type(item), instance=item)
    return item


@transaction.atomic
def content_schedule(*, item: Publishable, user, publish_at: datetime) -> Publishable:
    """Approve ``item`` to go live at ``publish_at``, which must be in the future.

    A live item rescheduled leaves the site until then (content_unpublished); the tick
    announces the go-live.
    """
    _require_publish_permission(user, item)
    validate_future(publish_at, field="publish_at")
    was_live = item.is_live()
    item.is_published = True
    item.publish_at = publish_at
    _save(item)
    AuditEvent.objects.record(
        AuditEvent.Action.SCHEDULE, user=user, item=item, at=publish_at.isoformat()
    )
    _announce(item, was_live=was_live)
    return item


@transaction.atomic
def content_unpublish(*, item: Publishable, user) -> Publishable:
    """Take ``item`` off the public site; it keeps its content and times as a draft."""
    _require_publish_permission(user, item)
    was_live = item.is_live()
    item.is_published = False
    _save(item)
    AuditEvent.objects.record(AuditEvent.Action.UNPUBLISH, user=user, item=item)
    _announce(item, was_live=was_live)
    return item


@transaction.atomic
def content_publication_update(*, item: Publishable, user, changes: dict) -> Publishable:
    """Set publication fields (``changes``: is_published, publish_at, unpublish_at) on
    the stored ``item``, leaving its content alone: the admin's "Save draft" by a
    publisher, whose draft keeps the content but whose new times apply at once."""
    _require_publish_permission(user, item)
    stored = type(item).objects.get(pk=item.pk)
    was_live, was_published = stored.is_live(), stored.is_published
    for name, value in changes.items():
        if name not in stored.PUBLICATION_FIELDS:
            raise ValueError(f"{name} is not a publication field")
        setattr(stored, name, value)
    stored.full_clean()
    # Approving with no go-live time means "from now on": cleaning set publish_at.
    defaulted = ["publish_at"] if "is_published" in changes else []
    stored.save(update_fields={*changes, *defaulted, "updated_at"})
    AuditEvent.objects.record(
        _publication_action(stored, was_live=was_live, was_published=was_published),
        user=user,
        item=stored,
        fields=sorted(changes),
    )
    _announce(stored, was_live=was_live)
    return stored


def _publication_action(item: Publishable, *, was_live: bool, was_published: bool):
    """How the audit log names a change of publication times: what it did to the item."""
    if was_published and not item.is_published:
        return AuditEvent.Action.UNPUBLISH
    if item.is_live() and not was_live:
        return AuditEvent.Action.PUBLISH
    if item.status == Status.SCHEDULED:
        return AuditEvent.Action.SCHEDULE
    return AuditEvent.Action.EDIT


@transaction.atomic
def content_save(
    *, item: Publishable, user, save_relations: Callable[[], None] | None = None
) -> Revision:
    """Save ``item`` as it now is, straight into the item (not as a draft), and keep the
    applied revision. ``save_relations`` saves what needs the row first (the admin's
    many-to-many fields and inlines). The caller has validated ``item`` (the admin's
    model form ran ``full_clean`` on the fields it shows; again here would re-check
    fields the form leaves out and run the uniqueness queries twice).

    Only for a save ``saves_as_draft`` lets through, and only a publisher may save an
    item approved for the public site. A save that changes what the public site shows
    (a publisher's save of a live item, or one putting it live or taking it off) is
    announced like publishing.

    An item with no revision yet (made before revisions, or by code that skipped them)
    first gets one of its stored content, so its original can be restored.
    """
    model = type(item)
    created = item.pk is None
    if created:
        if not user.has_perm(f"{model._meta.app_label}.add_{model._meta.model_name}"):
            raise PermissionDenied(
                _("You may not add %(kind)s.") % {"kind": model._meta.verbose_name_plural}
            )
        was_live = was_published = False
        previous = None
        shown_before = {}
    else:
        stored = model.objects.get(pk=item.pk)
        roles.require_change(user, stored)
        was_live, was_published = stored.is_live(), stored.is_published
        shown_before = {f.name: roles.media_chosen(stored, f) for f in roles.media_fields(model)}
    if draft_rule(user=user, model=model, published=was_published) or (
        item.is_published and not roles.can_publish(user, model)
    ):
        raise PermissionDenied(_("Only publishers can put changes live; save a draft."))
    if not created:
        # Before the save: ``stored`` is the version about to be replaced.
        previous = first_revision_ensure(stored)
    item.save()
    if save_relations is not None:
        save_relations()
    # After the relations are saved (inside this transaction, undone if refused).
    roles.require_media_choices(
        user,
        model,
        {f.name: roles.media_chosen(item, f) for f in roles.media_fields(model)},
        shown_before,
    )
    revision = revision_create(item=item, user=user, previous=previous)
    AuditEvent.objects.record(
        AuditEvent.Action.CREATE if created else AuditEvent.Action.EDIT,
        user=user,
        item=item,
        revision=revision.pk,
        changed=revision.changed_fields,
        live=item.is_live(),
    )
    _announce(item, was_live=was_live)
    return revision


@transaction.atomic
def content_delete(*, item: Publishable, user) -> None:
    """Delete an article or page: the delete permission, and for a live one the publish
    permission too (roles.can_delete). Deleting a live item takes it off the site."""
    if not roles.can_delete(user, item):
        raise PermissionDenied(
            _("You may not delete this %(kind)s.") % {"kind": item._meta.verbose_name}
        )
    if item.is_live():
        # Sent before the row goes, while the item still has its links (tags, parent):
        # listeners see what the public site showed. Nothing leaves the CDN before commit.
        content_unpublished.send(sender=type(item), instance=item)
    # Before the row goes: the record keeps its title and id (AuditEvent has no link).
    AuditEvent.objects.record(AuditEvent.Action.DELETE, user=user, item=item)
    item.delete()
