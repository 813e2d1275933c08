"""Versions of articles' and pages' content.

Every save keeps a revision. A revision that was applied is what the item held after a
save; one not applied yet is a *draft*: changes to a live item that wait for a
publisher, who may publish them now or schedule them (the minute tick applies them).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RevisionQuerySet(models.QuerySet):
    def for_item(self, item):
        return self.filter(content_type=ContentType.objects.get_for_model(item), object_id=item.pk)

    def drafts(self):
        return self.filter(applied_at__isnull=True)

    def due(self, at):
        return self.drafts().filter(go_live_at__lte=at)


class Revision(models.Model):
    """One version of an item's editable content (publication times excluded)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("content_type", "object_id")
    data = models.JSONField(help_text=_("Field values; relations as ids."))
    changed_fields = models.JSONField(
        default=list, help_text=_("Fields that differ from the revision before.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    applied_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When this content went into the item; empty for a draft."),
    )
    go_live_at = models.DateTimeField(
        null=True, blank=True, help_text=_("A publisher scheduled this draft for this time.")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-created_at"]),
            models.Index(
                fields=["go_live_at"],
                name="sitecontent_revision_due",
                condition=Q(applied_at__isnull=True, go_live_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Revision {self.pk} of {self.content_type.model} {self.object_id}"

    @property
    def is_draft(self) -> bool:
        return self.applied_at is None
