"""The audit log: who did what to which item, and when.

Rows name their item by content type, id and a copy of its title, never by a foreign
key, so the history of an item outlives the item (a deleted article's record stays).
The actor is kept both as a link and as a copied username, for the same reason.
Records are only ever added: the admin shows them read-only.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sitecontent.models.fields import PlainCharField, PlainTextField


class AuditEventQuerySet(models.QuerySet):
    def for_item(self, item):
        return self.filter(
            content_type=ContentType.objects.get_for_model(item), object_id=str(item.pk)
        )

    def record(self, action, *, user=None, item=None, message="", **details):
        """Add one record. ``user`` is who acted (None for the clock or the system);
        ``details`` must be JSON-serialisable (ids, times as ISO strings, addresses)."""
        actor = user if getattr(user, "pk", None) is not None else None
        return self.create(
            action=action,
            actor=actor,
            actor_name=actor.get_username() if actor else "",
            content_type=ContentType.objects.get_for_model(item) if item is not None else None,
            object_id=str(item.pk) if item is not None and item.pk is not None else "",
            object_repr=str(item)[:200] if item is not None else "",
            message=message,
            details=details,
        )


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("created")
        EDIT = "edit", _("edited")
        DRAFT = "draft", _("saved a draft")
        SUBMIT = "submit", _("submitted for review")
        REQUEST_CHANGES = "request_changes", _("requested changes")
        APPROVE = "approve", _("approved")
        PUBLISH = "publish", _("published")
        SCHEDULE = "schedule", _("scheduled")
        UNPUBLISH = "unpublish", _("unpublished")
        RESTORE = "restore", _("restored a revision")
        MOVE = "move", _("moved")
        DELETE = "delete", _("deleted")
        LOCKOUT = "lockout", _("locked out of signing in")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = PlainCharField(
        max_length=150, blank=True, help_text=_("The username when it happened.")
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    object_id = PlainCharField(max_length=64, blank=True)
    object_repr = PlainCharField(
        max_length=200, blank=True, help_text=_("The item's title when it happened.")
    )
    message = PlainTextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"]),
            models.Index(fields=["actor", "-at"]),
            models.Index(fields=["action", "-at"]),
        ]

    def __str__(self):
        who = self.actor_name or _("the system")
        what = self.object_repr or ""
        return f"{who} {self.get_action_display()} {what}".strip()


# Without a cool-off, one record per username and address per day of refused tries.
NO_COOL_OFF_WINDOW = timedelta(days=1)


def record_lockout(sender, *, request=None, username=None, ip_address=None, **kwargs):
    """django-axes' ``user_locked_out`` (connected in sitecontent.apps): one LOCKOUT per
    username and address for as long as the lockout lasts (axes sends it on every
    refused try). Never the password: only the username typed and the client address
    (cms.client_ip, the address the lockout itself counts by). Here, not in the admin
    package, so that connecting it at start-up loads no ModelAdmin."""
    from axes.attempts import get_cool_off_threshold

    username = (username or "")[:150]
    try:
        since = get_cool_off_threshold(request)
    except TypeError:  # no cool-off (AXES_COOLOFF_TIME None): locked until reset
        since = timezone.now() - NO_COOL_OFF_WINDOW
    recent = AuditEvent.objects.filter(
        action=AuditEvent.Action.LOCKOUT,
        at__gte=since,
        details__username=username,
        details__ip_address=ip_address,
    )
    if recent.exists():
        return
    AuditEvent.objects.record(
        AuditEvent.Action.LOCKOUT,
        message=gettext("Sign-in locked out for “%(username)s” from %(address)s")
        % {"username": username, "address": ip_address or gettext("an unknown address")},
        username=username,
        ip_address=ip_address,
        path=getattr(request, "path", "")[:200],
    )
