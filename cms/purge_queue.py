"""The queue of pending CDN purges: paths wait as PendingPurge rows, and ``purge_pending``
sends everything waiting as few invalidations, within the per-purge cap and the month's
path budget (cms.cdn.plan_purge widens to wildcards past them).

Gathering the paths a transaction touches and enqueuing the task that sends them is
cms.purging; the task is cms.tasks.purge_cdn_paths; the design is in docs/caching.md.

Idempotent: the claim is a CdnPurge record with a CallerReference (``purge-<task id>``)
written before anything is sent; a redelivered task sends its own claimed record again
with the same reference (CloudFront answers with the invalidation it already made), and
a record is marked sent once, by whoever flips ``sent_at``.

Concurrency: rows are claimed with ``select_for_update(skip_locked=True)`` on PostgreSQL
under a transaction-level advisory lock (so two claimers never read the month's budget
at once; safe behind a transaction pooler); on SQLite, which has no row locks, the claim
starts with a write (the record's insert), which takes SQLite's database write lock
before anything is read. Either way a row is claimed by a conditional update (``batch``
still empty), so it is never claimed twice.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from cms import cdn, metrics

logger = logging.getLogger(__name__)

# A sender that took a record more than this long ago and did not mark it sent or give
# it back died on the way (its Lambda timed out): another sender may take it.
SEND_LEASE = timedelta(minutes=2)
# At most this many pending rows per claim (memory); the rest go in the next one.
CLAIM_LIMIT = 10_000
# Any key, the same in every process: PostgreSQL's advisory lock serialising claims.
_CLAIM_LOCK_KEY = 0x43444E50  # "CDNP"


def monthly_budget() -> int:
    return int(getattr(settings, "CDN_MONTHLY_PATH_BUDGET", 1000))


def per_purge_cap() -> int:
    return int(getattr(settings, "CDN_MAX_PATHS_PER_PURGE", 100))


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s calendar month in UTC (CloudFront bills by it)."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def paths_used_this_month(*, now: datetime | None = None) -> int:
    """Paths sent (or claimed to be sent) since the month began, a wildcard as one."""
    from cms.models import CdnPurge

    since = month_start(now or timezone.now())
    used = CdnPurge.objects.filter(created_at__gte=since).aggregate(n=Sum("path_count"))["n"]
    return used or 0


def month_summary(*, now: datetime | None = None) -> dict:
    """What the operations panel shows of this month's purging."""
    from cms.models import CdnPurge, PendingPurge

    now = now or timezone.now()
    this_month = CdnPurge.objects.filter(created_at__gte=month_start(now))
    totals = this_month.aggregate(paths=Sum("path_count"), requested=Sum("requested_path_count"))
    used, budget = totals["paths"] or 0, monthly_budget()
    return {
        "paths": used,
        "requested": totals["requested"] or 0,
        "budget": budget,
        "over_budget": used > budget,
        "percent": round(100 * used / budget) if budget else 100,
        "invalidations": this_month.count(),
        "wildcard_fallbacks": this_month.filter(widened=True).count(),
        "waiting_paths": PendingPurge.objects.count(),
        "unsent": CdnPurge.objects.filter(sent_at=None).count(),
        "cap": per_purge_cap(),
    }


def pending_add(paths, *, scheduled_at: datetime | None = None, using=None) -> int:
    """Write ``paths`` as pending rows (in the current transaction, if any)."""
    from cms.models import PendingPurge

    rows = [PendingPurge(path=path, scheduled_at=scheduled_at) for path in sorted(set(paths))]
    PendingPurge.objects.using(using).bulk_create(rows)
    return len(rows)


# -- sending --------------------------------------------------------------------------


def purge_pending(*, reference: str) -> list[str]:
    """Send what is pending; ``reference`` names this run (``purge-<task id>``) and is
    the CallerReference of the first invalidation it claims. Returns the CDN's ids of
    the invalidations sent.

    First the records already claimed but not sent: this run's own (an earlier delivery
    of it died or failed) and any whose sender gave up; then everything waiting.
    """
    from cms.models import CdnPurge, PendingPurge

    sent = []
    now = timezone.now()
    resumable = CdnPurge.objects.filter(sent_at=None).filter(
        Q(reference=reference)
        | Q(reference__startswith=f"{reference}-")
        | Q(sending_since=None)
        | Q(sending_since__lt=now - SEND_LEASE)
    )
    for batch in resumable.order_by("pk"):
        if _take(batch, reference):
            sent.append(_send(batch))
    number = CdnPurge.objects.filter(
        Q(reference=reference) | Q(reference__startswith=f"{reference}-")
    ).count()
    while PendingPurge.objects.filter(batch=None).exists():
        number += 1
        batch = _claim(reference if number == 1 else f"{reference}-{number}")
        if batch is None:
            break
        sent.append(_send(batch))
    return sent


def _take(batch, reference: str) -> bool:
    """Take the send lease on ``batch``: False when another sender holds it."""
    from cms.models import CdnPurge

    now = timezone.now()
    own = batch.reference == reference or batch.reference.startswith(f"{reference}-")
    free = Q(sending_since=None) | Q(sending_since__lt=now - SEND_LEASE)
    taken = (
        CdnPurge.objects.filter(pk=batch.pk, sent_at=None)
        .filter(Q() if own else free)
        .update(sending_since=now)
    )
    return bool(taken)


def _claim(reference: str):
    """Claim every waiting row into one new record; None when there was nothing to claim
    (or a concurrent delivery of this run claimed under this reference first)."""
    from cms.models import CdnPurge, PendingPurge

    backend = cdn.get_backend()
    now = timezone.now()
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLAIM_LOCK_KEY])
            # First a write: on SQLite it takes the database's write lock, so no other
            # claimer reads the rows (or the budget) until this one commits.
            batch = CdnPurge.objects.create(
                paths=[],
                backend=type(backend).__name__,
                reference=reference,
                sent_at=None,
                sending_since=now,
            )
            waiting = PendingPurge.objects.filter(batch=None).order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                waiting = waiting.select_for_update(skip_locked=True)
            rows = list(waiting.values_list("pk", "path", "scheduled_at")[:CLAIM_LIMIT])
            claimed = PendingPurge.objects.filter(pk__in=[r[0] for r in rows], batch=None).update(
                batch=batch
            )
            if not claimed:
                batch.delete()
                return None
            rows = PendingPurge.objects.filter(batch=batch).values_list("path", "scheduled_at")
            paths = {path for path, _ in rows}
            moments = sorted({at for _, at in rows if at is not None})
            used = paths_used_this_month(now=now)  # this record's paths are still []
            plan = cdn.plan_purge(paths, used=used, budget=monthly_budget(), cap=per_purge_cap())
            batch.paths = plan.paths
            batch.widened = plan.widened
            batch.requested_path_count = plan.requested
            batch.scheduled_for = [at.isoformat() for at in moments]
            batch.save(
                update_fields=[
                    "paths",
                    "widened",
                    "requested_path_count",
                    "path_count",
                    "scheduled_for",
                ]
            )
    except IntegrityError:
        logger.info("CDN purge %s claimed by another delivery", reference)
        return None
    if plan.widened:
        metrics.put(metrics.CDN_WILDCARD_FALLBACKS, 1)
        logger.warning(
            "CDN purge %s widened to wildcards: %d paths asked, %d sent (%s); %d of %d paths "
            "used this month, at most %d per purge",
            reference,
            plan.requested,
            len(plan.paths),
            " ".join(plan.paths),
            used,
            monthly_budget(),
            per_purge_cap(),
        )
    return batch


def _send(batch) -> str:
    """Send a claimed record; on failure give the lease back (so a retry, any retry,
    sends it at once) and raise."""
    from cms.models import CdnPurge, PendingPurge

    backend = cdn.get_backend()
    try:
        response_id = backend.purge(batch.paths, reference=batch.reference)
    except Exception:
        CdnPurge.objects.filter(pk=batch.pk, sent_at=None).update(sending_since=None)
        logger.exception(
            "CDN purge %s not sent; its %d paths stay pending", batch.reference, len(batch.paths)
        )
        raise
    sent_at = timezone.now()
    with transaction.atomic():
        marked = CdnPurge.objects.filter(pk=batch.pk, sent_at=None).update(
            sent_at=sent_at, response_id=response_id, backend=type(backend).__name__
        )
        PendingPurge.objects.filter(batch=batch).delete()
    if marked:  # once per record, however many senders raced to send it
        metrics.put(metrics.CDN_PATHS_PURGED, len(batch.paths))
        for moment in batch.scheduled_for:
            lag = (sent_at - datetime.fromisoformat(moment)).total_seconds()
            metrics.put(metrics.PUBLISH_LAG, max(lag, 0.0), unit="Seconds")
        logger.info(
            "CDN purge %s sent (%s): %d paths", batch.reference, response_id, len(batch.paths)
        )
    return response_id
