"""Reads for the editors: what the schedule holds next."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from sitecontent.models import Article, Page, Revision


def upcoming_changes(*, days: int = 7, now=None, limit: int = 25) -> list[dict]:
    """What goes live, expires or has scheduled changes in the next ``days`` (admin)."""
    now = now or timezone.now()
    until = now + timedelta(days=days)
    events = []
    for model in (Article, Page):
        published = model.objects.filter(is_published=True)
        for item in published.filter(publish_at__gt=now, publish_at__lte=until):
            events.append({"at": item.publish_at, "what": "goes live", "item": item})
        for item in published.filter(unpublish_at__gt=now, unpublish_at__lte=until):
            events.append({"at": item.unpublish_at, "what": "expires", "item": item})
    for revision in Revision.objects.drafts().filter(go_live_at__gt=now, go_live_at__lte=until):
        events.append({"at": revision.go_live_at, "what": "changes go live", "item": revision.item})
    events.sort(key=lambda event: event["at"])
    return events[:limit]


def next_scheduled_change(*, now=None):
    """The soonest future moment when any public page's content changes by itself: a
    go-live, an expiry or scheduled changes. One query; None when nothing is scheduled."""
    now = now or timezone.now()

    def times(queryset, field):
        return (
            queryset.filter(**{f"{field}__gt": now})
            .order_by()
            .annotate(moment=F(field))
            .values_list("moment", flat=True)
        )

    parts = [
        times(model.objects.filter(is_published=True), field)
        for model in (Article, Page)
        for field in ("publish_at", "unpublish_at")
    ]
    parts.append(times(Revision.objects.drafts(), "go_live_at"))
    return parts[0].union(*parts[1:], all=True).order_by("moment").first()
