"""Sign-in lockouts in the audit log: django-axes' ``user_locked_out``, once per username
and address for as long as the lockout lasts (axes sends it on every refused try).

The password tried is never recorded: only the username typed and the client address
(cms.client_ip, the address the lockout itself counts by).
"""

from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.signals import user_locked_out
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from sitecontent.models import AuditEvent

# Without a cool-off, one record per username and address per day of refused tries.
NO_COOL_OFF_WINDOW = timedelta(days=1)


@receiver(user_locked_out, sender="axes", dispatch_uid="sitecontent-audit-lockout")
def record_lockout(sender, *, request=None, username=None, ip_address=None, **kwargs):
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
        message=_("Sign-in locked out for “%(username)s” from %(address)s")
        % {"username": username, "address": ip_address or _("an unknown address")},
        username=username,
        ip_address=ip_address,
        path=getattr(request, "path", "")[:200],
    )
