"""Platform tasks. The records of their runs are cms.task_runs.

Tasks take JSON arguments (ids, paths), are enqueued after commit, and are safe to run
twice.
"""

from django.tasks import task

from cms import purge_queue
from cms.models import CdnPurge


@task(takes_context=True)
def purge_cdn_paths(context, paths: list[str] | None = None) -> str:
    """Send every pending CDN purge (cms.purge_queue.purge_pending), as few invalidations.

    ``paths``, when given, are added to the pending ones first (on the first delivery
    only: a redelivery finds this run's record and adds nothing). Every delivery of one
    run uses the same CallerReference, ``purge-<task id>``. Returns the CDN's ids of the
    invalidations sent, space-separated.
    """
    reference = f"purge-{context.task_result.id}"
    if paths and not CdnPurge.objects.filter(reference=reference).exists():
        purge_queue.pending_add(paths)
    return " ".join(purge_queue.purge_pending(reference=reference))
