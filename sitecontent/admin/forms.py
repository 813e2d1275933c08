"""The forms behind admin actions that are not a model's change form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sitecontent.publishing.validators import validate_future


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Go-live time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[validate_future],
    )


class ScheduleChangesForm(forms.Form):
    go_live_at = forms.DateTimeField(
        label=_("Publish the changes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        validators=[validate_future],
    )
