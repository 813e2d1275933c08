"""Records operators read: what background tasks did, and what the CDN was told to purge."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def task_status_choices():
    # Called when the choices are first needed (a form, a check), so that loading the
    # models on a cold start does not import django.tasks, which pages do not use.
    from django.tasks import TaskResultStatus

    return TaskResultStatus.choices


class TaskRun(models.Model):
    """One enqueued task and its outcome, whichever backend ran it.

    The id is the task result id; a repeated delivery of the same task finds its row and
    does not run the task again once it has succeeded.
    """

    id = models.CharField(primary_key=True, max_length=64)
    task_path = models.CharField(max_length=200, db_index=True)
    backend = models.CharField(max_length=50)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=task_status_choices, default="READY")
    attempts = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text=_("Traceback of the last failed attempt."))
    # Lambda gave up on the invocation after its retries and sent it to the stage's
    # dead-letter queue (cms.task_backends.record_dead_letters recorded it then).
    dead_lettered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When Lambda gave up on the run and sent it to the dead-letter queue."),
    )
    retried_as = models.CharField(
        max_length=64, blank=True, help_text=_("The run an operator started to retry this one.")
    )

    class Meta:
        ordering = ["-enqueued_at"]
        indexes = [models.Index(fields=["status", "-enqueued_at"])]
        permissions = [("retry_taskrun", "Can retry failed tasks")]

    def __str__(self):
        return f"{self.task_path} [{self.status}]"


class CdnPurge(models.Model):
    """One purge request for the CDN (a CloudFront invalidation in production).

    cms.purging writes it when it claims pending paths (``sent_at`` empty: claimed, not
    yet taken by the CDN) and stamps ``sent_at`` once the CDN answered. The month's
    budget counts ``path_count`` over every record, sent or in flight.
    """

    paths = models.JSONField()
    backend = models.CharField(max_length=100)
    reference = models.CharField(
        max_length=128, unique=True, help_text=_("Idempotency key sent to the CDN.")
    )
    response_id = models.CharField(
        max_length=128, blank=True, help_text=_("The CDN's id for this purge.")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Records written outside cms.purging (fixtures, older code) are sent ones.
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        default=timezone.now,
        help_text=_("When the CDN took the purge; empty while it is still to be sent."),
    )
    sending_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When a sender last took this purge to send it (a lease)."),
    )
    path_count = models.PositiveIntegerField(
        default=0, help_text=_("Paths as CloudFront bills them: a wildcard is one.")
    )
    requested_path_count = models.PositiveIntegerField(
        default=0, help_text=_("Distinct paths asked for, before collapsing and widening.")
    )
    widened = models.BooleanField(
        default=False,
        help_text=_("Widened to wildcards to stay under the per-purge cap or the monthly budget."),
    )
    scheduled_for = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Scheduled go-live or expiry times (ISO 8601) whose paths this purge sends."),
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{len(self.paths)} paths via {self.backend}"

    def save(self, *args, **kwargs):
        self.path_count = len(self.paths)
        if not self.requested_path_count:
            self.requested_path_count = self.path_count
        super().save(*args, **kwargs)


class PendingPurge(models.Model):
    """A path some committed change needs purged, waiting for cms.purging to send it.

    Written in the transaction of the change itself, so it exists exactly when the change
    does. A sender claims waiting rows into a CdnPurge (``batch``) and deletes them once
    the CDN took it; until then a failed send loses nothing.
    """

    path = models.CharField(max_length=1024)
    scheduled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The scheduled go-live or expiry that made this purge necessary, if any."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    batch = models.ForeignKey(
        CdnPurge,
        null=True,
        blank=True,
        # A purge record deleted by hand puts its paths back in the queue.
        on_delete=models.SET_NULL,
        related_name="pending_paths",
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.path
