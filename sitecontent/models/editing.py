"""Who has a change form open, and the work they have not saved yet.

Both live in the database, not the cache: on Lambda each container has its own cache,
so two editors served by two containers would never see each other. Each is one row
per person and item, written with one upsert, so a heartbeat or an autosave costs a
single query. Rows name their item by content type and id (no foreign key): an item
deleted while someone edits it leaves rows that simply match nothing and age out.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from sitecontent.models.fields import PlainTextField

# object_id of an autosave from an "add" form: there is no item yet, and ids start at 1.
NEW_ITEM = 0


class EditingPresence(models.Model):
    """Someone has this item's change form open (their page's last heartbeat)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    last_seen = models.DateTimeField(help_text=_("The form's most recent heartbeat."))

    class Meta:
        verbose_name = _("editing presence")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="sitecontent_presence_once"
            )
        ]

    def __str__(self):
        return f"{self.user_id} on {self.content_type_id}/{self.object_id}"


class Autosave(models.Model):
    """A change form's fields as the editor last had them, not saved into the item.

    Kept as posted (field name to list of values) and only ever shown back inside the
    same form's fields; nothing publishes, validates or renders it elsewhere.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(
        help_text=_("The item; 0 for a new one still on its add form.")
    )
    data = models.JSONField(help_text=_("Field name to the list of values posted."))
    base = PlainTextField(
        blank=True, help_text=_("The version of the item the form was opened on.")
    )
    saved_at = models.DateTimeField()

    class Meta:
        verbose_name = _("autosave")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="sitecontent_autosave_once"
            )
        ]

    def __str__(self):
        return f"Autosave of {self.content_type_id}/{self.object_id} by {self.user_id}"
