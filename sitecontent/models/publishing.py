"""Bookkeeping of the scheduled-publishing tick.

Visibility never depends on these rows (see ``PublishableQuerySet.live``); they record
the side effects time caused, so each happens once however often the tick runs.
"""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class SchedulerState(models.Model):
    """The one row the tick locks while it runs, and where it notes how far it got."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    window_end = models.DateTimeField(
        null=True, help_text=_("Every transition up to this time has been handled.")
    )
    last_started_at = models.DateTimeField(null=True)
    last_finished_at = models.DateTimeField(null=True)
    last_transition_count = models.PositiveIntegerField(default=0)
    runs = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("scheduler state")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="sitecontent_scheduler_singleton")
        ]

    def __str__(self):
        return f"Scheduler (last finished {self.last_finished_at or 'never'})"


class ContentTransition(models.Model):
    """An item went live or expired because its time came (not because someone saved it)."""

    class Kind(models.TextChoices):
        WENT_LIVE = "went_live", _("went live")
        EXPIRED = "expired", _("expired")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(help_text=_("The go-live or expiry time that passed."))
    recorded_at = models.DateTimeField(auto_now_add=True)
    paths = models.JSONField(default=list, help_text=_("CDN paths purged for it."))

    class Meta:
        ordering = ["-at"]
        constraints = [
            # One transition per item, kind and time: replays and overlapping ticks
            # find the row already there and do nothing more.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "kind", "at"],
                name="sitecontent_transition_once",
            )
        ]
        indexes = [models.Index(fields=["recorded_at"])]

    def __str__(self):
        return f"{self.content_type.model} {self.object_id} {self.get_kind_display()} at {self.at}"


class ContentVersion(models.Model):
    """What every warm process checks before reusing a page it rendered earlier.

    ``number`` goes up whenever something a visitor can see changes (every change that
    purges the CDN: see sitecontent.caching.middleware.content_changed), so a page cached under an
    older number is never served again, in any process. ``next_change_at`` is when a
    public page next changes by itself (a go-live, expiry or scheduled edit): cached
    copies, here and in the CDN, must not outlive it. It is recomputed by the first
    request that finds it unknown or past.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    number = models.PositiveBigIntegerField(default=0)
    next_change_known = models.BooleanField(default=False)
    next_change_at = models.DateTimeField(null=True)
    changed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("content version")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1), name="sitecontent_content_version_singleton"
            )
        ]

    def __str__(self):
        return f"Content version {self.number}"
