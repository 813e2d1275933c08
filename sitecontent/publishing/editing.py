"""No lost work: who else is editing an item, refusing a save based on an outdated
version, and autosaves of unsaved forms (models: models/editing.py).

**The version a form is based on** is a fingerprint: for each field the form shows, a
short hash of the value it showed (``fingerprint``), carried by the form in a hidden
input. When the form comes back, the item as it now stands is hashed again, field by
field (``edit_check``): a field whose value changed since is someone else's change,
and if the save would change it once more (the editor's value is not theirs) the save
is refused with a field-by-field comparison (``StaleEdit``). So a change nobody
contests passes (someone fixed a typo in the summary while you wrote the body), while
a save that would undo someone's work is never silent. "As it now stands" includes a
pending draft: the form shows an item's draft when it has one, so an Editor's draft
based on an outdated draft is refused too. Images and documents need no extra column:
their fields are hashed the same way.

**Presence** is one row per person and item, touched by each heartbeat of an open
form; whoever touched it within ``PRESENCE_WINDOW`` is "also editing".

**Autosaves** keep a form's fields as posted, per person and item (per person and
model on an add form), without validating, publishing or touching the item. They are
only ever shown back inside the same form's fields; rich and plain text are sanitized
by the model's own fields (sitecontent.richtext) before they are given back.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from sitecontent import roles
from sitecontent.models import NEW_ITEM, AuditEvent, Autosave, EditingPresence, Revision
from sitecontent.publishing.revisions import overlay, pending_draft, word_diff
from sitecontent.richtext import RichTextField

HEARTBEAT_SECONDS = 15
# Three missed heartbeats: a closed tab drops out within a minute, a slow one stays.
PRESENCE_WINDOW = timedelta(seconds=45)
# Rows nobody will come back for: presence left by a tab that crashed (its beacon never
# came), autosaves of forms abandoned for a month. The minute tick prunes them.
PRESENCE_KEPT = timedelta(days=1)
AUTOSAVES_KEPT = timedelta(days=30)
AUTOSAVE_MAX_BYTES = 1024 * 1024
AUTOSAVE_MAX_FIELDS = 200


def shown_time(value: datetime) -> str:
    # The admin's one format (DATETIME_FORMAT in cms/formats/en/formats.py: Y-m-d H:i in
    # the site's zone, the zone named), as sitecontent.admin.content.local_time shows it.
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _person(user) -> str:
    if user is None:
        return _("Someone")
    return getattr(user, "display_name", "") or user.get_full_name() or user.get_username()


# -- the version a form is based on -------------------------------------------------


def _field(model, name: str) -> models.Field | None:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    concrete = getattr(field, "concrete", False) or field.many_to_many
    return field if concrete and not field.auto_created and field.editable else None


def _canonical(field: models.Field, value):
    """One spelling per value, whether it came from the database or a form."""
    if value is None or (value is False and isinstance(field, models.FileField)):
        return None
    if field.many_to_many:
        return sorted(getattr(v, "pk", v) for v in value)
    if field.is_relation:
        return getattr(value, "pk", value)
    if isinstance(field, models.FileField):
        if isinstance(value, FieldFile):
            return value.name or None
        # A newly chosen file: never the same as what is stored.
        return f"upload:{getattr(value, 'name', '')}:{getattr(value, 'size', '')}"
    if isinstance(value, datetime):
        # To the second: the admin's time inputs carry no fractions, stored times may.
        value = value.replace(microsecond=0)
        return value.astimezone(UTC).isoformat() if timezone.is_aware(value) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    normalize = getattr(field, "normalize", None)
    if normalize and isinstance(value, str):
        value = normalize(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value if isinstance(value, bool | int | float) else str(value)


def _hash(field: models.Field, value) -> str:
    encoded = json.dumps(_canonical(field, value), sort_keys=True, default=str)
    return hashlib.blake2b(encoded.encode(), digest_size=6).hexdigest()


def _stored_value(item, field: models.Field):
    if field.many_to_many:
        return list(getattr(item, field.name).all()) if item.pk else []
    if field.is_relation:
        return getattr(item, field.attname)
    return getattr(item, field.attname)


def editable_state(model, pk, *, lock: bool = False):
    """The item as its change form shows it: stored, with its pending draft on top.
    ``lock`` holds the row until the transaction ends, so two saves are checked one
    after the other, never both against the same version."""
    manager = model._default_manager
    item = (manager.select_for_update() if lock else manager).filter(pk=pk).first()
    return _with_draft(item) if item is not None else None


def _with_draft(item):
    if getattr(item, "REVISION_FIELDS", None):
        draft = pending_draft(item)
        if draft is not None:
            overlay(item, draft.data)
    return item


def fingerprint(item, names) -> str:
    """The version of ``item`` a form showing the fields ``names`` is based on."""
    pairs = []
    for name in names:
        field = _field(type(item), name)
        if field is not None:
            pairs.append(f"{name}={_hash(field, _stored_value(item, field))}")
    return ";".join(pairs)


def _parse(model, base: str) -> dict[str, str]:
    parsed = {}
    for pair in base.split(";"):
        name, sep, digest = pair.partition("=")
        if not sep or _field(model, name) is None or len(digest) != 12:
            raise ValidationError(
                _("This form's version could not be read; reload the page."), code="bad_base"
            )
        parsed[name] = digest
    return parsed


@dataclass(frozen=True)
class FieldConflict:
    name: str
    label: str
    theirs: str
    yours: str
    diff: str  # HTML: their text struck out, yours inserted, every piece escaped


class StaleEdit(ValidationError):
    """The save is based on an outdated version and would undo someone's changes."""

    def __init__(self, *, conflicts, base, by, at):
        self.conflicts, self.base, self.by, self.at = conflicts, base, by, at
        super().__init__(
            _(
                "%(who)s saved changes to this item at %(when)s, after you opened it. "
                "Your changes are not saved yet: they are still in the form. Compare them "
                "with theirs, then choose “Save anyway” to keep yours (change the form "
                "first to keep parts of both)."
            )
            % {"who": by, "when": shown_time(at) if at else _("a moment ago")},
            code="stale",
        )


def _display(field: models.Field, value) -> str:
    if field.many_to_many:
        return ", ".join(sorted(str(v) for v in value)) or "—"
    if field.is_relation:
        if value is not None and not isinstance(value, models.Model):
            value = field.related_model._default_manager.filter(pk=value).first()
        return str(value) if value is not None else "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return shown_time(value)
    if isinstance(field, models.FileField):
        return getattr(value, "name", "") or "—"
    if isinstance(field, RichTextField):
        # Compare what readers read; the word diff shows the text, not the markup.
        return strip_tags(field.normalize(value or ""))
    return "" if value is None else str(value)


def last_change(item) -> tuple[str, datetime | None]:
    """Who last saved ``item`` (or a draft of it), and when, as far as the history says."""
    if getattr(item, "REVISION_FIELDS", None):
        newest = Revision.objects.for_item(item).select_related("created_by").first()
        if newest is not None:
            return _person(newest.created_by), newest.created_at
    event = AuditEvent.objects.for_item(item).select_related("actor").order_by("-at").first()
    if event is not None:
        return (_person(event.actor) if event.actor else event.actor_name), event.at
    return _person(None), getattr(item, "updated_at", None)


def edit_check(*, model, pk, base: str, submitted: dict) -> None:
    """Refuse (``StaleEdit``) a save of ``submitted`` (a form's cleaned values) based on
    version ``base`` when it would change again a field someone changed since.

    An empty ``base`` (a client that sends none) is not checked. Call inside the save's
    transaction: the row stays locked until it commits.
    """
    if not base:
        return
    expected = _parse(model, base)
    # Locked when a save's transaction holds it (the admin's change view); a check made
    # outside one (the live preview validating the form) only reads.
    current = editable_state(model, pk, lock=transaction.get_connection().in_atomic_block)
    if current is None:
        return  # deleted meanwhile: the save itself says so
    conflicts = []
    for name, digest in expected.items():
        field = _field(model, name)
        if name not in submitted:
            continue
        stored = _stored_value(current, field)
        now = _hash(field, stored)
        if now == digest or _hash(field, submitted[name]) == now:
            continue  # nobody else changed it, or the editor agrees with them
        theirs, yours = _display(field, stored), _display(field, submitted[name])
        conflicts.append(
            FieldConflict(
                name, str(field.verbose_name).capitalize(), theirs, yours, word_diff(theirs, yours)
            )
        )
    if conflicts:
        by, at = last_change(current)
        raise StaleEdit(conflicts=conflicts, base=fingerprint(current, expected), by=by, at=at)


def base_is_current(*, item, base: str) -> bool:
    """Whether ``item`` (as just loaded, not changed in memory) still stands as the
    form based on ``base`` showed it."""
    if not base:
        return True
    try:
        expected = _parse(type(item), base)
    except ValidationError:
        return False
    return fingerprint(_with_draft(item), expected) == base


# -- presence -------------------------------------------------------------------


def _key(model_or_item):
    return ContentType.objects.get_for_model(model_or_item)


def presence_touch(*, user, item) -> list[dict]:
    """Note that ``user`` has ``item``'s form open now; the others who have it open."""
    roles.require_change(user, item)
    now = timezone.now()
    content_type = _key(item)
    # One statement whether the row exists or not (INSERT ... ON CONFLICT DO UPDATE).
    EditingPresence.objects.bulk_create(
        [EditingPresence(user=user, content_type=content_type, object_id=item.pk, last_seen=now)],
        update_conflicts=True,
        unique_fields=["content_type", "object_id", "user"],
        update_fields=["last_seen"],
    )
    others = (
        EditingPresence.objects.filter(
            content_type=content_type, object_id=item.pk, last_seen__gte=now - PRESENCE_WINDOW
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("last_seen")
    )
    return [{"id": p.user_id, "name": _person(p.user)} for p in others]


def presence_leave(*, user, item) -> None:
    EditingPresence.objects.filter(content_type=_key(item), object_id=item.pk, user=user).delete()


# -- autosaves ------------------------------------------------------------------


def _require_add(user, model) -> None:
    opts = model._meta
    if not user.has_perm(f"{opts.app_label}.add_{opts.model_name}"):
        raise PermissionDenied(_("You may not add %(kind)s.") % {"kind": opts.verbose_name_plural})


def _autosave_filter(user, model, item):
    return Autosave.objects.filter(
        user=user, content_type=_key(model), object_id=item.pk if item else NEW_ITEM
    )


def autosave_store(*, user, model, item=None, data: dict, base: str = "") -> Autosave:
    """Keep a form's posted ``data`` (name to list of values) for ``user``: of ``item``'s
    change form, or of ``model``'s add form. Touches nothing else."""
    if item is not None:
        roles.require_change(user, item)
    else:
        _require_add(user, model)
    if len(data) > AUTOSAVE_MAX_FIELDS:
        raise ValidationError(_("Too many fields to autosave."), code="too_many")
    clean = {
        str(name): [str(v) for v in values]
        for name, values in data.items()
        if not str(name).startswith("_") and name != "csrfmiddlewaretoken"
    }
    row = Autosave(
        user=user,
        content_type=_key(model),
        object_id=item.pk if item else NEW_ITEM,
        data=clean,
        base=base if item is not None else "",
        saved_at=timezone.now(),
    )
    Autosave.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["content_type", "object_id", "user"],
        update_fields=["data", "base", "saved_at"],
    )
    return row


def autosave_find(*, user, model, item=None) -> Autosave | None:
    return _autosave_filter(user, model, item).first()


def autosave_clear(*, user, model, item=None) -> None:
    _autosave_filter(user, model, item).delete()


def saved_since(*, autosave: Autosave, item) -> bool:
    """Whether ``item`` was saved (by anyone) after ``autosave`` was taken."""
    if item is None:
        return False
    _by, at = last_change(item)
    return at is not None and at > autosave.saved_at


def autosave_restorable(*, user, model, item=None) -> dict | None:
    """What the form needs to put an autosave back into its fields: the values (text
    sanitized by the model's fields), names for related ids the user may see, the
    version it was based on."""
    if item is not None:
        roles.require_change(user, item)
    else:
        _require_add(user, model)
    autosave = autosave_find(user=user, model=model, item=item)
    if autosave is None:
        return None
    fields, labels = {}, {}
    for name, values in autosave.data.items():
        field = _field(model, name)
        normalize = getattr(field, "normalize", None)
        fields[name] = [normalize(v) if normalize else v for v in values]
        if field is not None and field.is_relation:
            related = field.related_model
            opts = related._meta
            if user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
                f"{opts.app_label}.change_{opts.model_name}"
            ):
                ids = [v for v in values if v.isdigit()]
                labels[name] = {
                    str(obj.pk): str(obj) for obj in related._default_manager.filter(pk__in=ids)
                }
    return {
        "saved_at": shown_time(autosave.saved_at),
        "base": autosave.base,
        "fields": fields,
        "labels": labels,
    }


def editing_rows_prune(*, now: datetime) -> int:
    """Delete presence rows not seen for PRESENCE_KEPT and autosaves older than
    AUTOSAVES_KEPT (two DELETEs); how many rows went."""
    presence, _ = EditingPresence.objects.filter(last_seen__lt=now - PRESENCE_KEPT).delete()
    autosaves, _ = Autosave.objects.filter(saved_at__lt=now - AUTOSAVES_KEPT).delete()
    return presence + autosaves
