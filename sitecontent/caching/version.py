"""The content version: one number every content write raises, which every warm
process's page cache is keyed by (see sitecontent.caching.middleware).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sitecontent.caching.compiled import FixedQuery
from sitecontent.models import ContentVersion
from sitecontent.publishing import selectors

# Read by every request, cached page or not: its SQL is compiled once per process.
_version_row = FixedQuery(
    lambda: (
        ContentVersion.objects.filter(pk=ContentVersion.SINGLETON_ID)
        .values_list("number", "next_change_known", "next_change_at")
        .order_by("pk")[:1]
    ),
    timed=False,
)


@dataclass(frozen=True)
class Version:
    number: int
    next_change_at: datetime | None


def current_version(now: datetime) -> Version:
    """One primary-key read; the next scheduled change is recomputed (one more query)
    only by the first request after a write or after that change has passed."""
    rows = _version_row()
    row = rows[0] if rows else None
    if row is None:  # a database emptied since its migration made the row (flush)
        ContentVersion.objects.get_or_create(pk=ContentVersion.SINGLETON_ID)
        row = (0, False, None)
    number, known, next_change_at = row
    if not known or (next_change_at is not None and next_change_at <= now):
        next_change_at = selectors.next_scheduled_change(now=now)
        # Only if no write came in meanwhile: that write's request will recompute.
        ContentVersion.objects.filter(pk=ContentVersion.SINGLETON_ID, number=number).update(
            next_change_known=True, next_change_at=next_change_at
        )
    return Version(number, next_change_at)


def _bump():
    updated = ContentVersion.objects.filter(pk=ContentVersion.SINGLETON_ID).update(
        number=F("number") + 1, next_change_known=False, changed_at=timezone.now()
    )
    if not updated:
        ContentVersion.objects.get_or_create(pk=ContentVersion.SINGLETON_ID)


def content_changed() -> None:
    """Something a visitor may see (or its schedule) changed: once the transaction
    commits, every process's cached pages are out of date. Robust: the content is
    committed by then; a failed bump is logged, and entries still expire on their own
    within PAGE_CACHE_SECONDS."""
    transaction.on_commit(_bump, robust=True)
