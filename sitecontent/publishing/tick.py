"""The minute tick of scheduled publishing: the side effects of go-live and expiry
times that passed, exactly once each.

Each transition is announced as content_published (went live) or content_unpublished
(expired), sitecontent.signals; the CDN purge listens to those
(sitecontent.caching.receivers). Approved drafts due now are applied, which announces
them too. Images still waiting for renditions are asked for again
(sitecontent.media.services.image_renditions_retry_stale), and editing presence and
autosaves nobody will come back for are pruned (sitecontent.publishing.editing).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cms.cdn import collapse_paths
from cms.purging import purge_overdue
from cms.purging import scheduled as scheduled_purge
from sitecontent.caching.paths import paths_for_item
from sitecontent.media.services import image_renditions_retry_stale
from sitecontent.models import Article, AuditEvent, ContentTransition, Page, SchedulerState
from sitecontent.publishing.editing import editing_rows_prune
from sitecontent.publishing.revisions import revisions_apply_due
from sitecontent.signals import content_published, content_unpublished

# The first tick ever looks this far back for transitions it may have to announce.
FIRST_TICK_LOOKBACK = timedelta(hours=1)


# Each tick re-reads a little of the previous window, in case a row was committed late
# with a time inside it; the unique transition key makes the re-read free.
TICK_OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True)
class TickOutcome:
    ran: bool
    window_start: datetime | None = None
    window_end: datetime | None = None
    transitions: int = 0
    paths: tuple[str, ...] = ()
    renditions_requested: tuple[int, ...] = ()
    editing_rows_pruned: int = 0

    def as_dict(self) -> dict:
        return {
            "ran": self.ran,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "transitions": self.transitions,
            "paths": list(self.paths),
            "renditions_requested": list(self.renditions_requested),
            "editing_rows_pruned": self.editing_rows_pruned,
        }


def scheduled_publishing_tick(*, now: datetime | None = None) -> TickOutcome:
    """Do the side effects of go-live and expiry times that passed since the last tick.

    Visibility itself never waits for this (it is decided at query time). For each item
    whose time came, record the transition once and announce it (the CDN purge of the
    paths that show it listens); then note how far the tick got. Overlapping ticks: the
    second finds the state row locked and returns without doing anything. Missed ticks:
    the next one covers the whole gap.
    """
    now = now or timezone.now()
    SchedulerState.objects.get_or_create(pk=SchedulerState.SINGLETON_ID)
    with transaction.atomic():
        state = (
            SchedulerState.objects.select_for_update(skip_locked=True)
            .filter(pk=SchedulerState.SINGLETON_ID)
            .first()
        )
        if state is None:
            return TickOutcome(ran=False)
        since = (state.window_end - TICK_OVERLAP) if state.window_end else now - FIRST_TICK_LOOKBACK
        state.last_started_at = timezone.now()
        paths: set[str] = set()
        count = 0
        for item, kind, at in _due_transitions(since, now):
            item_paths = paths_for_item(item)
            _, created = ContentTransition.objects.get_or_create(
                content_type=ContentType.objects.get_for_model(item),
                object_id=item.pk,
                kind=kind,
                at=at,
                defaults={"paths": sorted(item_paths)},
            )
            if created:
                paths |= item_paths
                count += 1
                went_live = kind == ContentTransition.Kind.WENT_LIVE
                AuditEvent.objects.record(
                    AuditEvent.Action.PUBLISH if went_live else AuditEvent.Action.UNPUBLISH,
                    item=item,
                    by="schedule",
                    at=at.isoformat(),
                )
                announce = content_published if went_live else content_unpublished
                # The purge it causes carries the scheduled time: its publish lag is
                # measured when the purge is sent (cms.purging, metrics.PUBLISH_LAG).
                with scheduled_purge(at):
                    announce.send(sender=type(item), instance=item)
        # Scheduled changes to live items (approved draft revisions) go in now; saving
        # them purges what showed the item.
        count += revisions_apply_due(now=now)
        # Images whose renditions task was lost or failed are asked for again here, not
        # by the page that shows them (templates only read). Under the tick's lock, so
        # two ticks never ask twice; only full ticks do it, so an idle stage's skipped
        # ticks still open no database connection (publishing.tick_gate).
        renditions = image_renditions_retry_stale(now=now)
        # Presence and autosaves nobody will come back for (publishing.editing).
        pruned = editing_rows_prune(now=now)
        state.window_end = max(now, state.window_end or now)
        state.last_finished_at = timezone.now()
        state.last_transition_count = count
        state.runs = F("runs") + 1
        state.save()
    # Safety net for purges whose task was lost (cms.purging): sent by a task, not here.
    purge_overdue(now=now)
    return TickOutcome(
        ran=True,
        window_start=since,
        window_end=now,
        transitions=count,
        paths=tuple(collapse_paths(paths)),
        renditions_requested=tuple(renditions),
        editing_rows_pruned=pruned,
    )


def _due_transitions(since: datetime, now: datetime):
    """(item, kind, time) for every time in (since, now] that no save has covered.

    A save at or after the time already purged what changed, so only items last saved
    before their go-live or expiry time are the clock's doing.
    """
    querysets = {
        Article: Article.objects.select_related("category").prefetch_related("tags", "attachments"),
        Page: Page.objects.select_related("parent").prefetch_related("attachments"),
    }
    for queryset in querysets.values():
        for kind, field in (
            (ContentTransition.Kind.WENT_LIVE, "publish_at"),
            (ContentTransition.Kind.EXPIRED, "unpublish_at"),
        ):
            due = (
                queryset.filter(is_published=True)
                .filter(**{f"{field}__gt": since, f"{field}__lte": now})
                .filter(**{f"{field}__gt": F("updated_at")})
            )
            for item in due:
                yield item, kind, getattr(item, field)
