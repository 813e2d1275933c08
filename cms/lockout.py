"""Sign-in lockout: per username and address, and per username from any address.

django-axes locks a username and address pair out after ``AXES_FAILURE_LIMIT`` wrong
passwords (5). An attacker with many addresses gets five tries from each, so a username
also has a limit of its own over every address, ``AXES_USERNAME_FAILURE_LIMIT`` (20),
counted over the same cool-off. It is higher because anyone can spend those tries, and
reaching it locks the username's owner out too, until the cool-off ends or an operator
resets it (``manage axes_reset_username NAME``). Another user is never affected.

axes has one limit: its database handler compares ``get_failures()`` (the highest count
over the lockout parameter combinations) with ``AXES_FAILURE_LIMIT``, both to refuse a
sign-in and to lock out after a failure. This handler reports a username past its own
limit as having reached that one.
"""

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.db.models import Sum


class UsernameLimitHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if not username:
            return failures
        attempts = AccessAttempt.objects.filter(username=username)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        everywhere = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
        if everywhere >= settings.AXES_USERNAME_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures
