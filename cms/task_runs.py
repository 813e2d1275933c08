"""The records operators see of every task run (cms.models.TaskRun), kept in one place.

Two backends write them: Django's immediate backend (laptops, tests), whose signals are
received here, and ours on Lambda (cms.task_backends), which calls these functions as a
run is enqueued, claimed, fails, succeeds or is dead-lettered. The operations panel
reads the records and retries a failed run with ``task_retry``.

A run recorded failed counts one TASK_FAILURES, a dead letter recorded one DEAD_LETTERS
(cms.metrics; the alarms of infra/template.py watch both).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.tasks import Task, TaskResultStatus
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.module_loading import import_string

from cms import metrics
from cms.models import TaskRun

logger = logging.getLogger(__name__)


def record_enqueued(task_result) -> None:
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
    TaskRun.objects.filter(pk=task_result.id).update(
        status=TaskResultStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=task_result.started_at or timezone.now(),
    )


def record_finished(task_result) -> None:
    error = task_result.errors[-1].traceback if task_result.errors else ""
    failed = task_result.status == TaskResultStatus.FAILED
    TaskRun.objects.filter(pk=task_result.id).update(
        status=task_result.status,
        finished_at=task_result.finished_at or timezone.now(),
        error=error if failed else "",
    )
    if failed:
        _count_failure(task_result.id, task_result.task.module_path)


def record_failed(task_id: str, error: str) -> None:
    TaskRun.objects.filter(pk=task_id).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now(), error=error
    )
    _count_failure(task_id)


def _count_failure(task_id: str, task_path: str = "") -> None:
    logger.warning(
        "Task run %s %sfailed",
        task_id,
        f"({task_path}) " if task_path else "",
        extra={"task_id": task_id, **({"task": task_path} if task_path else {})},
    )
    metrics.put(metrics.TASK_FAILURES, 1)


def record_succeeded(task_id: str) -> None:
    TaskRun.objects.filter(pk=task_id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now(), error=""
    )


def claim(task_id: str, task_path: str, args, kwargs, *, backend: str) -> TaskRun | None:
    """Mark the run as started, unless another delivery has run or is running it; the
    run, or None when this delivery is to be skipped.

    A run left RUNNING longer than TASK_RUN_STALE_AFTER (the Lambda timeout, plus margin)
    died with its container and may be claimed again.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.TASK_RUN_STALE_AFTER)
    claimable = Q(status__in=[TaskResultStatus.READY, TaskResultStatus.FAILED]) | Q(
        status=TaskResultStatus.RUNNING, started_at__lt=stale
    )
    claimed = TaskRun.objects.filter(claimable, pk=task_id).update(
        status=TaskResultStatus.RUNNING, attempts=F("attempts") + 1, started_at=now
    )
    if not claimed:
        try:
            with transaction.atomic():
                TaskRun.objects.create(
                    id=task_id,
                    task_path=task_path,
                    backend=backend,
                    args=args,
                    kwargs=kwargs,
                    status=TaskResultStatus.RUNNING,
                    attempts=1,
                    started_at=now,
                )
        except IntegrityError:
            return None  # it exists and is not claimable: done, or running elsewhere
    return TaskRun.objects.get(pk=task_id)


def record_dead_letter(body: dict, reason: str, *, backend: str) -> str:
    """Mark the run of a task event Lambda gave up on as failed and dead-lettered
    (created if it never reached the database); says what was done."""
    task_id = body["task_id"]
    outcome = _record_dead_letter(task_id, body, reason, backend=backend)
    if outcome == "recorded":  # after the commit: a redelivery is not counted again
        metrics.put(metrics.DEAD_LETTERS, 1)
    return outcome


def _record_dead_letter(task_id: str, body: dict, reason: str, *, backend: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        run, created = TaskRun.objects.select_for_update().get_or_create(
            id=task_id,
            defaults={
                "task_path": body["task"],
                "backend": backend,
                "args": body.get("args", []),
                "kwargs": body.get("kwargs", {}),
                "status": TaskResultStatus.FAILED,
                "finished_at": now,
                "dead_lettered_at": now,
                "error": reason,
            },
        )
        if created:
            return "recorded"
        if run.dead_lettered_at is not None:
            return "already recorded"  # SQS delivers at least once
        if run.status == TaskResultStatus.SUCCESSFUL:
            # A later delivery succeeded after all (or the dead letter is stale): the
            # outcome on record stands.
            return "already succeeded"
        run.status = TaskResultStatus.FAILED
        run.finished_at = run.finished_at or now
        run.dead_lettered_at = now
        # The last attempt's traceback, when there is one, stays below the reason.
        run.error = f"{reason}\n\n{run.error}" if run.error else reason
        run.save(update_fields=["status", "finished_at", "dead_lettered_at", "error"])
    return "recorded"


def task_retry(*, run_id: str, user) -> str:
    """Enqueue a failed task again with the same arguments; returns the new run's id."""
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


# -- Django's immediate backend reports runs by signals -------------------------------


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
