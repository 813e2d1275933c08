"""django.tasks on AWS Lambda, with no queue to run.

``enqueue`` invokes this same Lambda function asynchronously with an event naming
``run_task``; Zappa's handler routes such ``{"command": ...}`` events to that function,
which runs the task and records its outcome in ``TaskRun``. Lambda retries a failed
asynchronous invocation twice, so tasks must be idempotent; a delivery of a task that
already succeeded is skipped.

Only principals allowed to invoke the function can send these events (Zappa itself runs
``raw_command`` events from them), and only ``Task`` objects are ever run.
"""

import json
import logging
import os
import traceback
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.tasks import Task, TaskContext, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from .lambda_events import lambda_event

logger = logging.getLogger(__name__)

RUNNER = "cms.task_backends.run_task"
# Lambda refuses asynchronous payloads over 256 KB (and Zappa refuses them earlier).
MAX_PAYLOAD_BYTES = 256 * 1024


class LambdaAsyncBackend(BaseTaskBackend):
    """Runs each task in its own asynchronous invocation of this Lambda function.

    OPTIONS: ``FUNCTION_NAME`` (default: the running function, from
    ``AWS_LAMBDA_FUNCTION_NAME``).
    """

    supports_get_result = True

    def function_name(self) -> str:
        name = self.options.get("FUNCTION_NAME") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if not name:
            raise ImproperlyConfigured(
                "LambdaAsyncBackend needs OPTIONS['FUNCTION_NAME'] outside Lambda."
            )
        return name

    def enqueue(self, task, args, kwargs):
        from . import aws
        from .tasks import record_enqueued

        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        payload = json.dumps(
            {
                "command": RUNNER,
                "task_id": result.id,
                "task": task.module_path,
                "args": result.args,
                "kwargs": result.kwargs,
            }
        ).encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise InvalidTask(
                f"{task.module_path} payload is {len(payload)} bytes; Lambda takes at most "
                f"{MAX_PAYLOAD_BYTES}. Pass ids, not objects."
            )
        record_enqueued(result)
        try:
            aws.client("lambda").invoke(
                FunctionName=self.function_name(), InvocationType="Event", Payload=payload
            )
        except Exception as exc:
            _mark_failed(result.id, f"Could not enqueue: {exc!r}")
            raise
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id):
        from .models import TaskRun

        try:
            run = TaskRun.objects.get(pk=result_id)
        except TaskRun.DoesNotExist:
            raise TaskResultDoesNotExist(result_id) from None
        result = _result_for(import_string(run.task_path), run)
        if run.error:
            result.errors.append(TaskError(exception_class_path="Exception", traceback=run.error))
        return result


def _result_for(task, run, status=None) -> TaskResult:
    return TaskResult(
        task=task,
        id=run.id,
        status=status or run.status,
        enqueued_at=run.enqueued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        last_attempted_at=run.started_at,
        args=run.args,
        kwargs=run.kwargs,
        backend=run.backend,
        errors=[],
        worker_ids=[str(n) for n in range(run.attempts)],
    )


def _mark_failed(task_id: str, error: str) -> None:
    from .models import TaskRun

    TaskRun.objects.filter(pk=task_id).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now(), error=error
    )


def _claim(task_id: str, task_path: str, args, kwargs):
    """Mark the run as started, unless another delivery has run or is running it.

    A run left RUNNING longer than TASK_RUN_STALE_AFTER (the Lambda timeout, plus margin)
    died with its container and may be claimed again.
    """
    from .models import TaskRun

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
                    backend="lambda",
                    args=args,
                    kwargs=kwargs,
                    status=TaskResultStatus.RUNNING,
                    attempts=1,
                    started_at=now,
                )
        except IntegrityError:
            return None  # it exists and is not claimable: done, or running elsewhere
    return TaskRun.objects.get(pk=task_id)


@lambda_event
def run_task(event, context=None):
    """Zappa calls this for the events ``LambdaAsyncBackend.enqueue`` sends."""
    from .models import TaskRun

    try:
        task_id, task_path = str(event["task_id"]), str(event["task"])
        args, kwargs = list(event.get("args") or []), dict(event.get("kwargs") or {})
        task = import_string(task_path)
        if not isinstance(task, Task):
            raise TypeError(f"{task_path} is not a task")
    except (KeyError, TypeError, ValueError, ImportError) as exc:
        logger.error("Refused task event (%s): %.500s", exc, json.dumps(event, default=str))
        return {"status": "refused", "reason": str(exc)}

    run = _claim(task_id, task_path, args, kwargs)
    if run is None:
        logger.info("Task %s (%s) already ran or is running; skipped", task_id, task_path)
        return {"status": "skipped", "task_id": task_id}

    result = _result_for(task, run, status=TaskResultStatus.RUNNING)
    task_started.send(LambdaAsyncBackend, task_result=result)
    try:
        if task.takes_context:
            task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            task.call(*args, **kwargs)
    except Exception as exc:
        _mark_failed(task_id, "".join(traceback.format_exception(exc)))
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        task_finished.send(LambdaAsyncBackend, task_result=result)
        raise  # Lambda retries the invocation; the failure is on record meanwhile
    TaskRun.objects.filter(pk=task_id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now(), error=""
    )
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    task_finished.send(LambdaAsyncBackend, task_result=result)
    return {"status": "SUCCESSFUL", "task_id": task_id}
