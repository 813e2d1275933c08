"""Platform tasks, and the records operators see of every task run.

Tasks take JSON arguments (ids, paths), are enqueued after commit, and are safe to run
twice.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.tasks import TaskResultStatus, task
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone

logger = logging.getLogger(__name__)


@task(takes_context=True)
def purge_cdn_paths(context, paths: list[str]) -> str:
    """Purge ``paths`` from the CDN once: every delivery of this task uses one reference."""
    from . import cdn
    from .models import CdnPurge

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


# -- records of task runs ------------------------------------------------------


def task_retry(*, run_id: str, user) -> str:
    """Enqueue a failed task again with the same arguments; returns the new run's id."""
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.tasks import Task
    from django.utils.module_loading import import_string

    from .models import TaskRun

    if not user.has_perm("cms.retry_taskrun"):
        raise PermissionDenied("You may not retry tasks.")
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().get(pk=run_id)
        if run.status != TaskResultStatus.FAILED or run.retried_as:
            raise ValidationError("Only a failed run that was not retried yet can be retried.")
        task_object = import_string(run.task_path)
        if not isinstance(task_object, Task):
            raise ValidationError(f"{run.task_path} is not a task.")
        result = task_object.enqueue(*run.args, **run.kwargs)
        run.retried_as = result.id
        run.save(update_fields=["retried_as"])
    logger.info("Task run %s retried as %s by %s", run_id, result.id, user)
    return result.id


def record_enqueued(task_result) -> None:
    from .models import TaskRun

    TaskRun.objects.get_or_create(
        id=task_result.id,
        defaults={
            "task_path": task_result.task.module_path,
            "backend": task_result.backend,
            "args": task_result.args,
            "kwargs": task_result.kwargs,
        },
    )


def record_started(task_result) -> None:
    from .models import TaskRun

    TaskRun.objects.filter(pk=task_result.id).update(
        status=TaskResultStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=task_result.started_at or timezone.now(),
    )


def record_finished(task_result) -> None:
    from .models import TaskRun

    error = task_result.errors[-1].traceback if task_result.errors else ""
    TaskRun.objects.filter(pk=task_result.id).update(
        status=task_result.status,
        finished_at=task_result.finished_at or timezone.now(),
        error=error if task_result.status == TaskResultStatus.FAILED else "",
    )


def connect_run_recording() -> None:
    """Record runs of Django's immediate backend too, so failures show up locally."""
    task_enqueued.connect(_on_enqueued, sender=ImmediateBackend, dispatch_uid="cms-enqueued")
    task_started.connect(_on_started, sender=ImmediateBackend, dispatch_uid="cms-started")
    task_finished.connect(_on_finished, sender=ImmediateBackend, dispatch_uid="cms-finished")


def _on_enqueued(sender, task_result, **kwargs):
    record_enqueued(task_result)


def _on_started(sender, task_result, **kwargs):
    record_started(task_result)


def _on_finished(sender, task_result, **kwargs):
    record_finished(task_result)
