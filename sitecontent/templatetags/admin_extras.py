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


@register.simple_tag(takes_context=True)
def review_dashboard(context):
    """The dashboard's review lists for the signed-in user: ``awaiting`` (what they may
    decide on) and ``mine`` (their own submissions), each review with ``url``."""
    # Here, not at the top: every template engine imports this library at start-up, and
    # the review module brings the publishing services, which pages never need.
    from sitecontent.publishing import review

    user = context["request"].user
    lists = review.dashboard_reviews(user=user)  # one query for both
    for entries in lists.values():
        for entry in entries:
            opts = entry.item._meta
            name = "review" if entry.is_pending or entry.state == "approved" else "change"
            args = [entry.object_id, entry.pk] if name == "review" else [entry.object_id]
            entry.url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)
    return lists


@register.filter
def verbose_name_of(obj) -> str:
    return obj._meta.verbose_name
