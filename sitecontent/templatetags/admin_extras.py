from django import template
from django.urls import reverse

from sitecontent.publishing import selectors

register = template.Library()


@register.simple_tag
def upcoming_changes(days=7):
    """What the schedule holds next, each with ``change_url``: where to edit its item."""
    events = selectors.upcoming_changes(days=days)
    for event in events:
        opts = event["item"]._meta
        event["change_url"] = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[event["item"].pk]
        )
    return events


@register.simple_tag
def audit_history_url(item):
    """The audit log filtered to ``item``'s records, for the kinds of item the services
    record (else empty); the caller checks the permission."""
    from sitecontent.admin.audit import AUDITED_MODELS, history_query  # loaded with the admin

    if item._meta.model_name not in AUDITED_MODELS:
        return ""
    return reverse("admin:sitecontent_auditevent_changelist") + history_query(item)
