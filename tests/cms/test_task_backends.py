"""django.tasks on Lambda: enqueue async-invokes the function (moto, over HTTP); the
event it sends runs through Zappa's handler; every outcome lands in TaskRun."""

import json

import pytest
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import InvalidTask

from cms import aws as aws_adapter
from cms.models import CdnPurge, TaskRun
from cms.task_backends import RUNNER
from cms.tasks import purge_cdn_paths
from tests.aws_fixtures import lambda_function

pytestmark = pytest.mark.django_db

FUNCTION = "lambda-cms-dev"


@pytest.fixture
def lambda_backend(aws, settings):
    lambda_function(FUNCTION)
    settings.TASKS = {
        "default": {
            "BACKEND": "cms.task_backends.LambdaAsyncBackend",
            "OPTIONS": {"FUNCTION_NAME": FUNCTION},
        }
    }
    sent = []

    def capture(params, **kwargs):
        sent.append(
            {
                "function": params["FunctionName"],
                "type": params["InvocationType"],
                "event": json.loads(params["Payload"]),
            }
        )

    aws_adapter.client("lambda").meta.events.register(
        "provide-client-params.lambda.Invoke", capture
    )
    return sent


def test_enqueue_invokes_the_function_asynchronously_with_a_zappa_command(lambda_backend):
    result = purge_cdn_paths.enqueue(paths=["/"])
    [call] = lambda_backend
    assert (call["function"], call["type"]) == (FUNCTION, "Event")
    assert call["event"] == {
        "command": RUNNER,
        "task_id": result.id,
        "task": "cms.tasks.purge_cdn_paths",
        "args": [],
        "kwargs": {"paths": ["/"]},
    }
    run = TaskRun.objects.get(pk=result.id)
    assert (run.status, run.attempts) == (TaskResultStatus.READY, 0)


def test_the_event_runs_the_task_once_however_often_it_arrives(lambda_backend, lambda_handler):
    result = purge_cdn_paths.enqueue(paths=["/articles/*"])
    event = lambda_backend[0]["event"]
    outcomes = [lambda_handler(event)["status"] for _ in range(3)]
    assert outcomes == ["SUCCESSFUL", "skipped", "skipped"]
    assert CdnPurge.objects.get().paths == ["/articles/*"]
    run = TaskRun.objects.get(pk=result.id)
    assert (run.status, run.attempts) == (TaskResultStatus.SUCCESSFUL, 1)
    assert task_backends["default"].get_result(result.id).status == TaskResultStatus.SUCCESSFUL


def test_a_failing_task_is_on_record_and_raised_for_lambda_to_retry(
    lambda_backend, lambda_handler, settings
):
    settings.CDN = {"BACKEND": "cms.cdn.CloudFrontBackend", "OPTIONS": {"DISTRIBUTION_ID": "E0"}}
    from cms import cdn

    cdn.get_backend.cache_clear()
    result = purge_cdn_paths.enqueue(paths=["/"])
    event = lambda_backend[0]["event"]
    for _ in range(2):  # the first try and Lambda's retry
        with pytest.raises(Exception, match="NoSuchDistribution"):
            lambda_handler(event)
    run = TaskRun.objects.get(pk=result.id)
    assert run.status == TaskResultStatus.FAILED
    assert run.attempts == 2
    assert "NoSuchDistribution" in run.error


@pytest.mark.parametrize(
    "event",
    [
        {"command": RUNNER},
        {"command": RUNNER, "task_id": "x", "task": "os.system", "args": ["id"]},
        {"command": RUNNER, "task_id": "x", "task": "no.such.module.task"},
    ],
    ids=["no-task", "not-a-task", "unknown"],
)
def test_bad_task_events_are_refused_without_running_anything(lambda_handler, event, caplog):
    assert lambda_handler(event)["status"] == "refused"
    assert not TaskRun.objects.exists()
    assert "Refused task event" in caplog.text


def test_oversized_payloads_are_refused_at_enqueue(lambda_backend):
    with pytest.raises(InvalidTask, match="Pass ids"):
        purge_cdn_paths.enqueue(paths=["/x" * 200_000])
    assert lambda_backend == []


def test_a_failed_enqueue_is_on_record(aws, settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "cms.task_backends.LambdaAsyncBackend",
            "OPTIONS": {"FUNCTION_NAME": "missing-function"},
        }
    }
    with pytest.raises(Exception, match="ResourceNotFound"):
        purge_cdn_paths.enqueue(paths=["/"])
    run = TaskRun.objects.get()
    assert run.status == TaskResultStatus.FAILED
    assert "Could not enqueue" in run.error


def test_immediate_backend_records_runs_and_failures_too(settings):
    settings.CDN = {"BACKEND": "cms.cdn.CloudFrontBackend", "OPTIONS": {"DISTRIBUTION_ID": "E0"}}
    from cms import cdn

    cdn.get_backend.cache_clear()
    result = purge_cdn_paths.enqueue(paths=["/"])  # AWS_ENDPOINT_URL is a closed port
    run = TaskRun.objects.get(pk=result.id)
    assert run.status == TaskResultStatus.FAILED
    assert run.attempts == 1
    assert "EndpointConnectionError" in run.error or "Could not connect" in run.error
