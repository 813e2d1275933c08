"""Reads for the editors: what the schedule holds next."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, F, IntegerField, OuterRef, Subquery, Value, When
from django.utils import timezone

from sitecontent.models import Article, Page, Revision

UPCOMING = ("goes live", "expires", "changes go live")


def item_title(types: dict) -> Case:
    """The title of the item a row's (content_type_id, object_id) names, read in the
    same query (None once the item is gone); ``types``: model -> its ContentType."""
    return Case(
        *(
            When(
                content_type_id=ct.id,
                then=Subquery(model.objects.filter(pk=OuterRef("object_id")).values("title")[:1]),
            )
            for model, ct in types.items()
        ),
        default=None,
        output_field=CharField(),
    )


def upcoming_changes(*, days: int = 7, now=None, limit: int = 25) -> list[dict]:
    """What goes live, expires or has scheduled changes in the next ``days`` (admin),
    soonest first, in one query. Each event's ``item`` is its model's instance with the
    pk and title the dashboard shows (not loaded, and not to be saved); scheduled changes
    of an item deleted since are left out."""
    now = now or timezone.now()
    until = now + timedelta(days=days)
    types = ContentType.objects.get_for_models(Article, Page)
    by_type = {ct.id: model for model, ct in types.items()}
    columns = ("event", "event_type", "event_pk", "event_title", "event_at")

    def integer(value):
        return Value(value, output_field=IntegerField())

    parts = [
        model.objects.filter(is_published=True, **{f"{field}__gt": now, f"{field}__lte": until})
        .order_by()
        .annotate(
            event=integer(kind),
            event_type=integer(types[model].id),
            event_pk=F("pk"),
            event_title=F("title"),
            event_at=F(field),
        )
        .values_list(*columns)
        for model in (Article, Page)
        for kind, field in enumerate(("publish_at", "unpublish_at"))
    ]
    title = item_title(types)
    parts.append(
        Revision.objects.drafts()
        .filter(go_live_at__gt=now, go_live_at__lte=until, content_type_id__in=list(by_type))
        .order_by()
        .annotate(
            event=integer(2),
            event_type=F("content_type_id"),
            event_pk=F("object_id"),
            event_title=title,
            event_at=F("go_live_at"),
        )
        .values_list(*columns)
    )
    rows = parts[0].union(*parts[1:], all=True).order_by("event_at")
    events = [
        {"at": at, "what": UPCOMING[kind], "item": by_type[type_id](pk=pk, title=title)}
        for kind, type_id, pk, title, at in rows
        if title is not None
    ]
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
