"""The site's CloudWatch metrics as Embedded Metric Format lines (cms/metrics.py): each
line is checked against the EMF specification's rules, and the events that record them
run for real, through the function's entry point and Zappa's handler: an HTTP request,
a container's first invocation, a failing task, a dead letter.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

import json
import logging

import pytest
from django.tasks import TaskResultStatus, task

from cms import lambda_entry, logs, metrics
from cms.models import TaskRun
from cms.task_backends import RUNNER
from tests import events
from tests.cms.test_logs import (  # noqa: F401 (the fixtures)
    REQUEST_ID,
    lambda_logs_fixture,
    production_logging_fixture,
)
from tests.events import LambdaContext
from tests.lambda_fixtures import stack_outputs

pytestmark = pytest.mark.django_db

# CloudWatch's units (the EMF "Unit" member must be one of them).
CLOUDWATCH_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def assert_valid_emf(document: dict) -> None:
    """The specification's rules for one EMF document."""
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int)
    assert meta["Timestamp"] > 1_700_000_000_000  # milliseconds since the epoch
    directives = meta["CloudWatchMetrics"]
    assert len(directives) >= 1
    for directive in directives:
        assert 1 <= len(directive["Namespace"]) <= 255
        for dimension_set in directive["Dimensions"]:
            assert 1 <= len(dimension_set) <= 30
            for dimension in dimension_set:
                assert isinstance(document[dimension], str), dimension  # a top-level string
                assert document[dimension]
        assert 1 <= len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert 1 <= len(metric["Name"]) <= 255
            assert metric["Unit"] in CLOUDWATCH_UNITS
            value = document[metric["Name"]]  # the value is a top-level member
            assert isinstance(value, int | float)
            assert not isinstance(value, bool)


def metric_lines(output, name=None) -> list[dict]:
    lines = [line for line in output.read() if "_aws" in line]
    for line in lines:
        assert_valid_emf(line)
    if name is None:
        return lines
    return [line for line in lines if name in line]


def recorded(line: dict) -> tuple[str, float, str]:
    [metric] = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    return metric["Name"], line[metric["Name"]], metric["Unit"]


# -- put() -----------------------------------------------------------------------------


def test_put_writes_one_emf_line_with_stage_and_the_invocations_ids(lambda_logs, settings):
    settings.METRICS_NAMESPACE = "LambdaCMS-Test"
    with logs.invocation(events.http_api(), LambdaContext()):
        metrics.put(metrics.PUBLISH_LAG, 42.5, "Seconds")
    [line] = metric_lines(lambda_logs)
    assert recorded(line) == ("PublishLag", 42.5, "Seconds")
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "LambdaCMS-Test"
    assert directive["Dimensions"] == [["Stage"]]
    assert line["Stage"] == "dev"
    assert line["request_id"] == REQUEST_ID
    assert line["function_version"] == "7"
    assert "apigw_request_id" in line


def test_every_name_has_its_unit_and_each_call_shape_is_checked(settings):
    assert set(metrics.UNIT_OF) == metrics.NAMES
    assert set(metrics.UNIT_OF.values()) <= metrics.UNITS <= CLOUDWATCH_UNITS
    settings.METRICS_ENABLED = False
    for name, unit in metrics.UNIT_OF.items():
        metrics.put(name, 1, unit)  # off: nothing written, but checked
    bad_calls = [
        ("Colds", 1, "Count", "not one of"),
        (metrics.COLD_START, 1, "Seconds", "is recorded in Count"),
        (metrics.REQUEST_LATENCY, float("nan"), "Milliseconds", "not a finite number"),
        (metrics.TASK_FAILURES, True, "Count", "not a finite number"),
        (metrics.DEAD_LETTERS, "1", "Count", "not a finite number"),
    ]
    for name, value, unit, why in bad_calls:
        with pytest.raises(ValueError, match=why):
            metrics.put(name, value, unit)


def test_metrics_are_off_unless_enabled(capsys, settings):
    settings.METRICS_ENABLED = False
    metrics.put(metrics.COLD_START, 1)
    assert capsys.readouterr() == ("", "")


def test_where_metrics_are_on_a_wrong_call_is_logged_and_dropped_not_raised(lambda_logs):
    metrics.put("NoSuchMetric", 1)
    [line] = lambda_logs.read()
    assert (line["level"], line["logger"]) == ("ERROR", "cms.metrics")
    assert "NoSuchMetric" in line["message"]


def test_a_line_does_not_go_through_logging_so_log_level_never_drops_it(lambda_logs):
    logging.getLogger().setLevel(logging.CRITICAL)
    metrics.put(metrics.COLD_START, 1)
    assert [recorded(line) for line in metric_lines(lambda_logs)] == [("ColdStart", 1, "Count")]


# -- through the function's entry point ------------------------------------------------


def test_each_http_request_records_its_latency_with_its_request_id(lambda_handler, lambda_logs):
    event = events.rest_api("GET", "/articles/")
    assert lambda_handler(event)["statusCode"] == 200
    lines = lambda_logs.read()
    [access] = [line for line in lines if line.get("logger") == "cms.access"]
    [latency] = [line for line in lines if "RequestLatency" in line]
    assert_valid_emf(latency)
    assert recorded(latency) == ("RequestLatency", access["duration_ms"], "Milliseconds")
    assert latency["request_id"] == REQUEST_ID
    assert latency["apigw_request_id"] == event["requestContext"]["requestId"]
    assert (latency["method"], latency["path"]) == ("GET", "/articles/")


def test_a_cold_start_is_counted_once_per_container(lambda_handler, lambda_logs, monkeypatch):
    monkeypatch.setattr(lambda_entry, "_first_invocation", True)  # a new container
    lambda_handler(events.http_api("GET", "/articles/"))
    lambda_handler(events.http_api("GET", "/articles/"))
    [cold] = metric_lines(lambda_logs, "ColdStart")
    assert recorded(cold) == ("ColdStart", 1, "Count")
    assert cold["request_id"] == REQUEST_ID


def test_a_cold_start_counts_whatever_the_first_event_is(lambda_handler, lambda_logs, monkeypatch):
    monkeypatch.setattr(lambda_entry, "_first_invocation", True)
    lambda_handler({"raw_command": "print(1)"})  # refused, but the container started
    assert len(metric_lines(lambda_logs, "ColdStart")) == 1


@task
def explode():
    raise RuntimeError("the task blew up")


@task
def succeed():
    return "fine"


def task_event(task_id, function):
    return {"command": RUNNER, "task_id": task_id, "task": function.module_path, "args": [],
            "kwargs": {}}  # fmt: skip


def test_a_failing_task_counts_a_task_failure_and_logs_one_line_with_its_traceback(
    lambda_handler, lambda_logs
):
    with pytest.raises(RuntimeError, match="the task blew up"):
        lambda_handler(task_event("obs-fail-1", explode))
    assert TaskRun.objects.get(pk="obs-fail-1").status == TaskResultStatus.FAILED
    lines = lambda_logs.read()  # every line JSON, none plain
    [failure] = [line for line in lines if "TaskFailures" in line]
    assert_valid_emf(failure)
    assert recorded(failure) == ("TaskFailures", 1, "Count")
    assert failure["request_id"] == REQUEST_ID
    # django.tasks logs the failure with its traceback too; this one is the invocation's.
    [error] = [line for line in lines if line.get("logger") == "cms.lambda_entry"
               and line["level"] == "ERROR"]  # fmt: skip
    assert error["message"] == "Invocation failed (task event)"
    assert "RuntimeError: the task blew up" in error["exception"]
    assert error["request_id"] == REQUEST_ID
    [run] = [line for line in lines if line.get("logger") == "cms.task_runs"]
    assert run["task_id"] == "obs-fail-1"
    [done] = [line for line in lines if line.get("event") == "task"]
    assert done["outcome"] == "failed"


def test_a_successful_task_writes_json_lines_only_and_counts_no_failure(
    lambda_handler, lambda_logs
):
    assert lambda_handler(task_event("obs-ok-1", succeed))["status"] == "SUCCESSFUL"
    lines = lambda_logs.read()  # Zappa's print() of the result is not among them
    assert not [line for line in lines if "TaskFailures" in line]
    [done] = [line for line in lines if line.get("event") == "task"]
    assert (done["outcome"], done["request_id"]) == ("handled", REQUEST_ID)


def test_the_immediate_backend_counts_failures_too(lambda_logs):
    explode.enqueue()
    [failure] = metric_lines(lambda_logs, "TaskFailures")
    assert recorded(failure) == ("TaskFailures", 1, "Count")


def dead_letter_event(task_id: str) -> dict:
    """What the SQS event source hands the function for one message of the stage's DLQ
    (the body is the task event Lambda gave up on; tests/cms/test_dead_letters.py sends
    such messages through moto's SQS)."""
    body = task_event(task_id, explode)
    return {
        "Records": [
            {
                "messageId": "0f5f6f6e-0000-4000-8000-00000000dead",
                "receiptHandle": "AQEB-receipt",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {
                    "ErrorMessage": {"stringValue": "the task blew up", "dataType": "String"},
                    "RequestID": {"stringValue": "6f6a4d51-0e4c", "dataType": "String"},
                },
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": stack_outputs()["DeadLetterQueueArn"],
                "awsRegion": events.REGION,
            }
        ]
    }


def test_a_dead_letter_counts_once_however_often_sqs_delivers_it(lambda_handler, lambda_logs):
    event = dead_letter_event("obs-dead-1")
    assert lambda_handler(event) == {"outcomes": ["recorded"]}
    assert lambda_handler(event) == {"outcomes": ["already recorded"]}
    [dead] = metric_lines(lambda_logs, "DeadLetters")
    assert recorded(dead) == ("DeadLetters", 1, "Count")
    assert dead["request_id"] == REQUEST_ID
    assert TaskRun.objects.get(pk="obs-dead-1").dead_lettered_at is not None
