"""Writing, applying, comparing and restoring revisions (model: models/revisions.py).

Who may change what (``saves_as_draft``, the one encoding the admin and services use):
- an unpublished item (a draft) is changed directly by anyone who may change it, and
  each save is recorded as an applied revision;
- changes to a published item (live, scheduled or expired) go live only through a
  publisher: an Editor's save becomes a draft revision; a publisher saves directly,
  saves a draft, or publishes or schedules a draft.

Putting a revision into a live item announces it (``sitecontent.signals.
content_published``); a changed address is announced by the item's save itself
(sitecontent.publishing.receivers).
"""

import difflib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from cms.purging import scheduled as scheduled_purge
from sitecontent import roles
from sitecontent.models import AuditEvent, Revision
from sitecontent.publishing.validators import validate_future
from sitecontent.roles import can_publish, require_change
from sitecontent.signals import content_published

logger = logging.getLogger(__name__)


def _value(item, field: models.Field):
    if field.many_to_many:
        return sorted(item.pk for item in getattr(item, field.name).all()) if item.pk else []
    return getattr(item, field.attname)


def normalized(model, data: dict) -> dict:
    """``data`` as the model's fields would store it: rich text sanitized, control
    characters out of plain text. Every revision is written (``revision_create``) and read back
    (``overlay``) through this, so no draft, snapshot or preview holds or shows what the
    item itself could not."""
    clean = {}
    for name, value in data.items():
        normalize = getattr(model._meta.get_field(name), "normalize", None)
        clean[name] = normalize(value) if normalize else value
    return clean


def snapshot(item) -> dict:
    """The item's content as stored now (relations as ids)."""
    return {name: _value(item, item._meta.get_field(name)) for name in item.REVISION_FIELDS}


def snapshot_from_form(form, item) -> dict:
    """The content a validated admin form holds, without saving it."""
    data = snapshot(item)  # fields the form lacks keep the item's values
    for name in item.REVISION_FIELDS:
        if name not in form.cleaned_data:
            continue
        field, value = item._meta.get_field(name), form.cleaned_data[name]
        if field.many_to_many:
            data[name] = sorted(obj.pk for obj in value)
        elif field.is_relation:
            data[name] = value.pk if value is not None else None
        else:
            data[name] = value
    return data


def latest(item) -> Revision | None:
    return Revision.objects.for_item(item).first()


def pending_draft(item) -> Revision | None:
    """The draft of changes waiting to go live, if the newest revision is one."""
    newest = latest(item)
    return newest if newest is not None and newest.is_draft else None


_LOOK_UP = object()


def revision_create(*, item, user, data=None, applied=True, previous=_LOOK_UP) -> Revision:
    """Keep a revision of ``item``: what it now holds, or (``applied=False``) a draft.
    ``previous``: the newest revision, when the caller has read it already (None: none)."""
    data = normalized(type(item), snapshot(item) if data is None else data)
    if previous is _LOOK_UP:
        previous = latest(item)
    changed = [
        n for n in item.REVISION_FIELDS if previous is None or previous.data.get(n) != data[n]
    ]
    return Revision.objects.create(
        item=item,
        data=data,
        changed_fields=changed,
        created_by=user,
        applied_at=timezone.now() if applied else None,
    )


def first_revision_ensure(stored) -> Revision:
    """The newest revision of ``stored`` (an item as the database holds it), keeping its
    current content as an applied revision first if it has none: content made before
    revisions existed, or by code that skipped them, can then always be restored to what
    it was before the change about to be made. Its author is unknown (``created_by``
    empty); migration 0015_audit did the same for the content that existed then."""
    newest = latest(stored)
    if newest is None:
        newest = revision_create(item=stored, user=None, previous=None)
    return newest


@transaction.atomic
def _ids(value) -> set:
    """A revision's value of a media field as a set of ids (a key or a list of them)."""
    if value is None or value == "":
        return set()
    return {int(v) for v in value} if isinstance(value, list | tuple) else {int(value)}


def revision_save_draft(*, item, user, data: dict) -> Revision:
    """Keep ``data`` (what a form holds) as a draft of changes to ``item``, leaving the
    item as it is. The version stored is kept first if the item has no revision yet, so
    what was there before the draft can be restored."""
    stored = type(item).objects.get(pk=item.pk)
    require_change(user, stored)
    fields = roles.media_fields(type(stored))
    roles.require_media_choices(
        user,
        type(stored),
        {f.name: _ids(data.get(f.name)) for f in fields if f.name in data},
        {f.name: roles.media_chosen(stored, f) for f in fields},
    )
    previous = first_revision_ensure(stored)
    draft = revision_create(item=stored, user=user, data=data, applied=False, previous=previous)
    AuditEvent.objects.record(
        AuditEvent.Action.DRAFT,
        user=user,
        item=stored,
        revision=draft.pk,
        changed=draft.changed_fields,
    )
    return draft


def overlay(item, data: dict):
    """Put revision ``data`` on ``item`` in memory (nothing saved), for forms and previews."""
    prefetched = {}
    for name, value in normalized(type(item), data).items():
        field = item._meta.get_field(name)
        if field.many_to_many:
            prefetched[name] = field.related_model.objects.filter(pk__in=value)
        else:
            setattr(item, field.attname, value)
    item._prefetched_objects_cache = {
        **getattr(item, "_prefetched_objects_cache", {}),
        **prefetched,
    }
    return item


def _revision_apply(revision: Revision, user):
    """Put ``revision``'s content into its item and mark it applied (callers check who
    may). Applying never changes whether the item is published (publication fields are
    not revision fields), so a live item's change is a new public version."""
    item = type(revision.item).objects.select_for_update().get(pk=revision.object_id)
    m2m = {}
    for name, value in normalized(type(item), revision.data).items():
        field = item._meta.get_field(name)
        if field.many_to_many:
            m2m[name] = value
        else:
            setattr(item, field.attname, value)
    item.full_clean()
    item.save()
    for name, ids in m2m.items():
        getattr(item, name).set(ids)
    revision.applied_at = timezone.now()
    revision.approved_by = user
    revision.save(update_fields=["applied_at", "approved_by"])
    if item.is_live():
        content_published.send(sender=type(item), instance=item)
    return item


def _require_publisher(user, revision):
    if not can_publish(user, type(revision.item)):
        raise PermissionDenied(_("Only publishers can put changes live."))


@transaction.atomic
def revision_publish(*, revision: Revision, user) -> Revision:
    """Make a draft's changes live now."""
    _require_publisher(user, revision)
    if not revision.is_draft:
        raise ValidationError(_("This revision is already applied."))
    item = _revision_apply(revision, user)
    AuditEvent.objects.record(AuditEvent.Action.PUBLISH, user=user, item=item, revision=revision.pk)
    return revision


@transaction.atomic
def revision_schedule(*, revision: Revision, user, at: datetime) -> Revision:
    """Approve a draft to go live at ``at`` (the minute tick applies it)."""
    _require_publisher(user, revision)
    if not revision.is_draft:
        raise ValidationError(_("This revision is already applied."))
    validate_future(at, field="go_live_at")
    revision.go_live_at, revision.approved_by = at, user
    revision.save(update_fields=["go_live_at", "approved_by"])
    AuditEvent.objects.record(
        AuditEvent.Action.SCHEDULE,
        user=user,
        item=revision.item,
        revision=revision.pk,
        at=at.isoformat(),
    )
    return revision


def saves_as_draft(*, user, item, draft_requested: bool = False) -> bool:
    """Whether a save of ``item`` by ``user`` becomes a draft revision, leaving the item
    as it is (else it goes straight into the item).

    Changes to a published item (live, scheduled or expired) wait as a draft unless a
    publisher makes them; a publisher may still ask for a draft (``draft_requested``:
    the admin's "Save draft"). Whether the item is published is read from the database,
    not from ``item``: a form may have changed the flag in memory. A new item is always
    saved directly.
    """
    if item.pk is None:
        return False
    published = type(item).objects.filter(pk=item.pk, is_published=True).exists()
    return draft_rule(
        user=user, model=type(item), published=published, draft_requested=draft_requested
    )


def draft_rule(*, user, model, published: bool, draft_requested: bool = False) -> bool:
    """``saves_as_draft`` for a caller that has read the stored row already
    (``published``: whether it is published as stored)."""
    return published and (draft_requested or not can_publish(user, model))


@transaction.atomic
def revision_restore(*, revision: Revision, user) -> Revision:
    """Bring back an older version as the newest revision: applied at once when the user
    may change the item directly, otherwise a draft for a publisher."""
    item = revision.item
    require_change(user, item)
    restored = revision_create(item=item, user=user, data=dict(revision.data), applied=False)
    if not saves_as_draft(user=user, item=item):
        item = _revision_apply(restored, user)
    AuditEvent.objects.record(
        AuditEvent.Action.RESTORE,
        user=user,
        item=item,
        revision=revision.pk,
        restored_as=restored.pk,
        live=not restored.is_draft,
    )
    return restored


def restore_outcome(*, revision: Revision, user) -> dict:
    """What restoring ``revision`` would do, for the confirmation asked before it:
    whether the content goes into the item now (``applied``; ``live`` if the public site
    shows it; ``goes_live_at`` if it is scheduled) or waits as a draft for a publisher,
    and the fields that would change from what the item holds now (FieldChange list)."""
    item = revision.item
    current = Revision(
        content_type_id=revision.content_type_id,
        object_id=revision.object_id,
        data=normalized(type(item), snapshot(item)),
    )
    applied = not saves_as_draft(user=user, item=item)
    # Approved but before its go-live time: what is restored goes live then.
    scheduled = item.is_published and item.publish_at and item.publish_at > timezone.now()
    return {
        "applied": applied,
        "live": applied and item.is_live(),
        "goes_live_at": item.publish_at if applied and scheduled else None,
        "changes": compare(current, revision),
    }


def revisions_apply_due(*, now: datetime) -> int:
    """Apply drafts whose scheduled time has come (called by the minute tick).

    A draft that no longer fits (say its slug was taken meanwhile) is logged and taken
    off the schedule, so it neither blocks the others nor fails every minute.
    """
    applied = 0
    with transaction.atomic():
        due = Revision.objects.due(now).select_for_update(skip_locked=True).order_by("go_live_at")
        for revision in due:
            try:
                # Its purge carries the scheduled time, as the tick's go-lives do: the
                # publish lag is measured when the purge is sent (metrics.PUBLISH_LAG).
                with transaction.atomic(), scheduled_purge(revision.go_live_at):
                    item = _revision_apply(revision, revision.approved_by)
                    # The clock did it; who approved it is its own record (SCHEDULE).
                    AuditEvent.objects.record(
                        AuditEvent.Action.PUBLISH,
                        item=item,
                        by="schedule",
                        revision=revision.pk,
                    )
            except ValidationError as exc:
                logger.error("Scheduled revision %s not applied: %s", revision.pk, exc.messages)
                Revision.objects.filter(pk=revision.pk).update(go_live_at=None)
            else:
                applied += 1
    return applied


# -- comparing ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: str
    after: str
    diff: str  # HTML, every piece of content escaped


def _display(item, name: str, value) -> str:
    field = item._meta.get_field(name)
    if field.is_relation:
        ids = value if field.many_to_many else ([value] if value is not None else [])
        names = [str(obj) for obj in field.related_model.objects.filter(pk__in=ids)]
        return ", ".join(sorted(names)) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(field, models.TextField) and name == "body":
        # Compare what readers read; markup changes show in the word diff below anyway.
        return strip_tags(str(value or ""))
    return "" if value is None else str(value)


def word_diff(before: str, after: str) -> str:
    """``before`` and ``after`` word by word, as escaped HTML with <del> and <ins>: the
    revision comparison's and the refused stale save's."""
    old, new = before.split(), after.split()
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if op in {"delete", "replace"}:
            pieces.append(format_html("<del>{}</del>", " ".join(old[i1:i2])))
        if op in {"insert", "replace"}:
            pieces.append(format_html("<ins>{}</ins>", " ".join(new[j1:j2])))
        if op == "equal":
            pieces.append(escape(" ".join(old[i1:i2])))
    return mark_safe(" ".join(pieces))  # noqa: S308 - each piece is escaped above


def compare(older: Revision, newer: Revision) -> list[FieldChange]:
    """Field-by-field differences between two revisions of the same item."""
    if (older.content_type_id, older.object_id) != (newer.content_type_id, newer.object_id):
        raise ValidationError(_("Those revisions belong to different items."))
    item = newer.item
    changes = []
    for name in item.REVISION_FIELDS:
        a, b = older.data.get(name), newer.data.get(name)
        if a == b:
            continue
        before, after = _display(item, name, a), _display(item, name, b)
        changes.append(
            FieldChange(
                name,
                str(item._meta.get_field(name).verbose_name),
                before,
                after,
                word_diff(before, after),
            )
        )
    return changes
