"""Reviews: an Editor hands an article's or page's draft to the Publishers.

One row is one *round*: a submission (who, when, a message, the revision submitted) and
its outcome (approved, now or for a time, or changes requested with a comment). A
resubmission after changes were requested is a new round, so the rows of an item are
its review history. At most one round of an item awaits review at a time.

The rules (who may submit, approve, ask for changes) are in
sitecontent.publishing.review; this module only stores.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sitecontent.models.fields import PlainTextField
from sitecontent.models.revisions import Revision


class ReviewQuerySet(models.QuerySet):
    def for_item(self, item):
        return self.filter(content_type=ContentType.objects.get_for_model(item), object_id=item.pk)

    def pending(self):
        return self.filter(state=ReviewRequest.State.PENDING)


class ReviewRequest(models.Model):
    """One round of review of an article or page."""

    class State(models.TextChoices):
        PENDING = "pending", _("awaiting review")
        CHANGES_REQUESTED = "changes_requested", _("changes requested")
        APPROVED = "approved", _("approved")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    round = models.PositiveSmallIntegerField(
        default=1, help_text=_("1 for the first submission, 2 for the next, and so on.")
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    revision = models.ForeignKey(
        Revision,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The version submitted."),
    )
    message = PlainTextField(blank=True, help_text=_("What the Editor asks the reviewer."))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = PlainTextField(blank=True, help_text=_("The reviewer's comment."))
    go_live_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Approved to go live at this time (empty: at once).")
    )
    # The notification task's marks: a second run of it (a retry after a partial
    # failure, a duplicate delivery) sends nothing twice.
    reviewers_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitter_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(state="pending"),
                name="sitecontent_review_one_pending_per_item",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "round"],
                name="sitecontent_review_round_unique",
            ),
        ]
        indexes = [models.Index(fields=["state", "-submitted_at"])]

    def __str__(self):
        return f"Review {self.round} of {self.content_type.model} {self.object_id}"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING
