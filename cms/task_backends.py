"""django.tasks on AWS Lambda, with no queue to run.

``enqueue`` invokes this same Lambda function asynchronously with an event naming
``run_task``; Zappa's handler routes such ``{"command": ...}`` events to that function,
which runs the task and records its outcome in ``TaskRun`` (through cms.task_runs).
Lambda retries a failed asynchronous invocation twice, so tasks must be idempotent; a
delivery of a task that already succeeded is skipped.

Only principals allowed to invoke the function can send these events (Zappa itself runs
``raw_command`` events from them), and only ``Task`` objects are ever run.
"""

import json
import logging
import os
import traceback

from django.core.exceptions import ImproperlyConfigured
from django.tasks import Task, TaskContext, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from cms import task_runs
from cms.lambda_events import lambda_event
from cms.models import TaskRun

logger = logging.getLogger(__name__)

RUNNER = "cms.task_backends.run_task"
# What a run's record names as its backend when this function creates the record.
BACKEND = "lambda"
# Lambda refuses asynchronous payloads over 256 KB (and Zappa refuses them earlier).
MAX_PAYLOAD_BYTES = 256 * 1024


class LambdaAsyncBackend(BaseTaskBackend):
    """Runs each task in its own asynchronous invocation of this Lambda function.

    OPTIONS: ``FUNCTION_NAME`` (default: the running function, from
    ``AWS_LAMBDA_FUNCTION_NAME``).

    A task runs on the version that enqueued it: the invocation names the running
    version (``AWS_LAMBDA_FUNCTION_VERSION``) as its Qualifier, so a task enqueued by a
    release's smoke test, or by version N while ``live`` moves to N+1, runs N's code
    against the schema N expects, and under SnapStart it starts from N's snapshot
    (an unqualified invoke would run $LATEST, which SnapStart never snapshots).
    ``$LATEST`` itself is not a version to pin: it stays unqualified.
    """

    supports_get_result = True

    def function_name(self) -> str:
        name = self.options.get("FUNCTION_NAME") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if not name:
            raise ImproperlyConfigured(
                "LambdaAsyncBackend needs OPTIONS['FUNCTION_NAME'] outside Lambda."
            )
        return name

    def invoke_target(self) -> dict:
        """FunctionName, and the Qualifier when the target is this very function."""
        name = self.function_name()
        version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        running = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if version and version != "$LATEST" and name == running:
            return {"FunctionName": name, "Qualifier": version}
        return {"FunctionName": name}

    def enqueue(self, task, args, kwargs):
        from cms import aws

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
        task_runs.record_enqueued(result)
        try:
            aws.client("lambda").invoke(
                **self.invoke_target(), InvocationType="Event", Payload=payload
            )
        except Exception as exc:
            task_runs.record_failed(result.id, f"Could not enqueue: {exc!r}")
            raise
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id):
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


@lambda_event
def run_task(event, context=None):
    """Zappa calls this for the events ``LambdaAsyncBackend.enqueue`` sends."""
    try:
        task_id, task_path = str(event["task_id"]), str(event["task"])
        args, kwargs = list(event.get("args") or []), dict(event.get("kwargs") or {})
        task = import_string(task_path)
        if not isinstance(task, Task):
            raise TypeError(f"{task_path} is not a task")
    except (KeyError, TypeError, ValueError, ImportError) as exc:
        logger.error("Refused task event (%s): %.500s", exc, json.dumps(event, default=str))
        return {"status": "refused", "reason": str(exc)}

    run = task_runs.claim(task_id, task_path, args, kwargs, backend=BACKEND)
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
        task_runs.record_failed(task_id, "".join(traceback.format_exception(exc)))
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        task_finished.send(LambdaAsyncBackend, task_result=result)
        raise  # Lambda retries the invocation; the failure is on record meanwhile
    task_runs.record_succeeded(task_id)
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    task_finished.send(LambdaAsyncBackend, task_result=result)
    return {"status": "SUCCESSFUL", "task_id": task_id}


# -- dead letters ----------------------------------------------------------------------

DEAD_LETTERS = "cms.task_backends.record_dead_letters"
DEAD_LETTERED = "dead-lettered: "


class _Refused(ValueError):
    """A dead letter this function cannot record (the reason names no content)."""


def _dead_letter(record) -> tuple[dict, str]:
    """The task event and Lambda's error message a DLQ record carries.

    Lambda sends the original event as the message body, unchanged, with message
    attributes RequestID, ErrorCode and ErrorMessage (truncated to 1 KB); the SQS event
    source hands each message over as a record of the Lambda SQS event.
    """
    if not isinstance(record, dict) or record.get("eventSource") != "aws:sqs":
        raise _Refused("not an SQS record")
    try:
        body = json.loads(record["body"])
    except (KeyError, TypeError, ValueError):
        raise _Refused("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Refused("the body is not a JSON object")
    if body.get("command") != RUNNER:
        # Also a cron tick or an S3 notification Lambda gave up on: the same queue takes
        # every failed asynchronous invocation. Its keys say which (they hold no content).
        keys = [str(k)[:40] for k in sorted(body)[:8]]
        raise _Refused(f"the body is no task event (keys {keys})")
    task_id, task_path = body.get("task_id"), body.get("task")
    if not (isinstance(task_id, str) and 0 < len(task_id) <= 64):
        raise _Refused("no task_id")
    if not (isinstance(task_path, str) and 0 < len(task_path) <= 200):
        raise _Refused("no task")
    if not isinstance(body.get("args", []), list) or not isinstance(body.get("kwargs", {}), dict):
        raise _Refused("args or kwargs of the wrong type")
    attributes = record.get("messageAttributes")
    attributes = attributes if isinstance(attributes, dict) else {}

    def attribute(name: str) -> str:
        value = attributes.get(name)
        text = value.get("stringValue") if isinstance(value, dict) else None
        return text if isinstance(text, str) else ""

    reason = DEAD_LETTERED + (attribute("ErrorMessage") or "no error message")
    details = [f"{n} {v}" for n in ("ErrorCode", "RequestID") if (v := attribute(n))]
    if details:
        reason += f" ({', '.join(details)})"
    return body, reason


@lambda_event
def record_dead_letters(event, context=None):
    """Zappa calls this for the SQS event source on the stage's dead-letter queue.

    Each record is a task invocation Lambda gave up on after its retries: its TaskRun
    is marked failed with Lambda's error message (created if the run never reached the
    database), and shows on the operations panel with a retry button. Redelivery is
    harmless. A record that is no task event (a failed cron tick or S3 notification
    lands in the same queue) is logged by its message id only and skipped, so the rest
    of the batch is still recorded; a database error raises, and the whole batch comes
    back later (the event source does not use ReportBatchItemFailures: Zappa cannot set
    it, and nothing here needs it).
    """
    records = event.get("Records") if isinstance(event, dict) else None
    outcomes = []
    for record in records if isinstance(records, list) else []:
        message_id = record.get("messageId") if isinstance(record, dict) else None
        message_id = str(message_id)[:100] if message_id else "?"
        try:
            body, reason = _dead_letter(record)
        except _Refused as why:
            logger.error("Dead letter %s not recorded: %s", message_id, why)
            outcomes.append("refused")
            continue
        outcome = task_runs.record_dead_letter(body, reason, backend=BACKEND)
        logger.warning("Task run %s (%s) dead-lettered: %s", body["task_id"], body["task"], outcome)
        outcomes.append(outcome)
    return {"outcomes": outcomes}
