"""Checks on the times editors give, shared by the admin's forms and the services (so a
forged POST or a command meets the same rule, in the same words)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FUTURE_MESSAGE = _("Choose a time in the future.")


def validate_future(value: datetime, *, field: str | None = None) -> None:
    """A go-live time (an item's or a draft's) must still be to come. A form field uses
    this as a validator; a service passes ``field`` so the error names it."""
    if value <= timezone.now():
        error = ValidationError(FUTURE_MESSAGE, code="past")
        raise ValidationError({field: error}) if field else error
