"""CDN purges gathered per transaction: ``purge_after_commit(paths)`` writes the paths as
pending rows inside the caller's transaction (cms.purge_queue: they exist exactly when
the change does; a rollback drops them, a crash after the commit loses none) and, once it
commits, enqueues one cms.tasks.purge_cdn_paths task per transaction. That task sends
everything pending, whoever wrote it, as one invalidation (cms.purge_queue.purge_pending).

No fixed wait: a publish is purged as soon as its task runs. Saves arriving faster than
tasks run (a bulk edit, an import, a busy newsroom) coalesce on their own: the first task
to run sends everything pending and the others find nothing to send. The minute tick is
the safety net for a lost task (``purge_overdue``).
"""

import contextlib
import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cms.purge_queue import SEND_LEASE, pending_add

logger = logging.getLogger(__name__)

# -- gathering ------------------------------------------------------------------------


class _Flush:
    """An on-commit callback enqueuing the task that sends what is pending.

    Every call of ``purge_after_commit`` in a transaction registers one, all sharing one
    flag, raised by each call: the first to run enqueues, the others find it lowered.
    """

    def __init__(self, state: dict):
        self.state = state

    def __call__(self):
        # Imported when a purge is sent: production start-up need not import django.tasks
        # (cms.apps); a cold start serving a page sends none.
        from cms.tasks import purge_cdn_paths

        if self.state["added"]:
            self.state["added"] = False
            purge_cdn_paths.enqueue()


@contextlib.contextmanager
def scheduled(at: datetime, *, using=None):
    """Paths purged inside this block are due to a scheduled go-live or expiry at ``at``:
    its purge, once sent, records the publish lag (metrics.PUBLISH_LAG)."""
    conn = transaction.get_connection(using)
    previous = getattr(conn, "_cdn_scheduled_at", None)
    conn._cdn_scheduled_at = at
    try:
        yield
    finally:
        conn._cdn_scheduled_at = previous


def purge_after_commit(paths, *, using=None) -> None:
    """Purge ``paths`` once the current transaction commits (at once outside one).

    Everything a transaction touches (an article, then its tags) is one task; what all
    the transactions committed before that task runs is one invalidation.
    """
    paths = set(paths)
    if not paths:
        return
    conn = transaction.get_connection(using)
    pending_add(paths, scheduled_at=getattr(conn, "_cdn_scheduled_at", None), using=using)
    state = getattr(conn, "_pending_cdn_flush", None)
    # No flush waiting (none yet, or the transaction holding it rolled back): start afresh.
    if state is None or not any(
        isinstance(cb[1], _Flush) and cb[1].state is state for cb in conn.run_on_commit
    ):
        state = conn._pending_cdn_flush = {}
    state["added"] = True
    # robust: the content is already committed, and so are its pending paths; a failed
    # enqueue is logged (and on record as a failed task run), and the next purge task,
    # or an operator's retry, sends the paths.
    transaction.on_commit(_Flush(state), using=using, robust=True)


# Pending paths older than this, or a claimed record nobody is sending, mean a purge task
# was lost (an enqueue that failed, an invocation that never arrived): the minute tick
# enqueues one (``purge_overdue``).
OVERDUE_AFTER = timedelta(minutes=1)
OVERDUE_BACKOFF = timedelta(minutes=5)
PURGE_TASK = "cms.tasks.purge_cdn_paths"


def purge_overdue(*, now: datetime | None = None) -> bool:
    """The minute tick's safety net: enqueue a purge task when paths have waited longer
    than OVERDUE_AFTER, or a claimed record is unsent with no live sender; whether it did."""
    from cms.models import CdnPurge, PendingPurge, TaskRun

    now = now or timezone.now()
    waiting = PendingPurge.objects.filter(batch=None, created_at__lt=now - OVERDUE_AFTER)
    abandoned = CdnPurge.objects.filter(sent_at=None, created_at__lt=now - OVERDUE_AFTER).filter(
        Q(sending_since=None) | Q(sending_since__lt=now - SEND_LEASE)
    )
    if not (waiting.exists() or abandoned.exists()):
        return False
    # A purge run enqueued lately that did not succeed is on its way, or failed and is
    # being retried by Lambda: while CloudFront is down, one new run every
    # OVERDUE_BACKOFF rather than a failed run a minute on the operations page.
    recent = TaskRun.objects.filter(
        task_path=PURGE_TASK, enqueued_at__gte=now - OVERDUE_BACKOFF
    ).exclude(status="SUCCESSFUL")
    if recent.exists():
        return False
    from cms.tasks import purge_cdn_paths

    logger.warning("CDN purges overdue (a purge task was lost): enqueuing one")
    purge_cdn_paths.enqueue()
    return True
