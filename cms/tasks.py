"""Platform tasks. The records of their runs are cms.task_runs.

Tasks take JSON arguments (ids, paths), are enqueued after commit, and are safe to run
twice.
"""

from django.db import IntegrityError, transaction
from django.tasks import task

from cms import cdn
from cms.models import CdnPurge


@task(takes_context=True)
def purge_cdn_paths(context, paths: list[str]) -> str:
    """Purge ``paths`` from the CDN once: every delivery of this task uses one reference."""
    paths = cdn.collapse_paths(paths)
    if not paths:
        return ""
    reference = f"purge-{context.task_result.id}"
    existing = CdnPurge.objects.filter(reference=reference).first()
    if existing is not None:
        return existing.response_id
    backend = cdn.get_backend()
    response_id = backend.purge(paths, reference=reference)
    try:
        with transaction.atomic():
            CdnPurge.objects.create(
                paths=paths,
                backend=type(backend).__name__,
                reference=reference,
                response_id=response_id,
            )
    except IntegrityError:
        pass  # a concurrent delivery of the same task recorded it first
    return response_id
