"""Writes that carry business rules. Admin actions and commands call these."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sitecontent import roles
from sitecontent.models import Publishable


def _require_publish_permission(user, item: Publishable) -> None:
    if not roles.can_publish(user, type(item)):
        raise PermissionDenied(
            _("You may not publish %(kind)s.") % {"kind": item._meta.verbose_name_plural}
        )


def _save(item: Publishable) -> Publishable:
    item.full_clean()
    item.save()
    return item


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
    return _save(item)


@transaction.atomic
def content_schedule(*, item: Publishable, user, publish_at: datetime) -> Publishable:
    """Approve ``item`` to go live at ``publish_at``, which must be in the future."""
    _require_publish_permission(user, item)
    if publish_at <= timezone.now():
        raise ValidationError({"publish_at": _("Choose a go-live time in the future.")})
    item.is_published = True
    item.publish_at = publish_at
    return _save(item)


@transaction.atomic
def content_unpublish(*, item: Publishable, user) -> Publishable:
    """Take ``item`` off the public site; it keeps its content and times as a draft."""
    _require_publish_permission(user, item)
    item.is_published = False
    return _save(item)


# -- scheduled publishing ------------------------------------------------------------
