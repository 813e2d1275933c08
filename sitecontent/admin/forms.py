"""The forms behind admin actions that are not a model's change form."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Go-live time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_publish_at(self):
        value = self.cleaned_data["publish_at"]
        if value <= timezone.now():
            raise ValidationError(_("Choose a time in the future."))
        return value


class ScheduleChangesForm(forms.Form):
    go_live_at = forms.DateTimeField(
        label=_("Publish the changes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
