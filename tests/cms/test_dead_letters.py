"""Task invocations Lambda gave up on reach the stage's dead-letter queue; its SQS event
source hands them to cms.task_backends.record_dead_letters through Zappa's handler,
which marks each run failed for the operations panel (cms/task_backends.py).

The queue is moto's, named as the deploy-shaped settings name it (tests/lambda_fixtures.py
stack_outputs): messages go in as Lambda writes them (the original event as the body,
RequestID / ErrorCode / ErrorMessage attributes), come out through ReceiveMessage, and
are handed over in the shape Lambda's SQS event source gives them.
"""

import json

import pytest
from django.tasks import TaskResultStatus

from cms import aws, lambda_entry
from cms.models import TaskRun
from cms.task_backends import DEAD_LETTERS, RUNNER
from tests import events
from tests.lambda_fixtures import stack_outputs

pytestmark = pytest.mark.django_db

QUEUE_ARN = stack_outputs()["DeadLetterQueueArn"]
QUEUE_NAME = QUEUE_ARN.rsplit(":", 1)[-1]
ERROR = "PurgeError: The purge function lambda-cms-dev-cdn-purge failed (Unhandled)"


class DeadLetterQueue:
    def __init__(self):
        self.sqs = aws.client("sqs")
        self.url = self.sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        assert arn["Attributes"]["QueueArn"] == QUEUE_ARN

    def lambda_gives_up(self, event, error=ERROR, request_id="6f6a4d51-0e4c-4b8a-9f5e-0a1b"):
        """What Lambda sends after an asynchronous invocation's last retry failed."""
        self.sqs.send_message(
            QueueUrl=self.url,
            MessageBody=event if isinstance(event, str) else json.dumps(event),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": error},
            },
        )

    def event(self) -> dict:
        """The next batch, as the SQS event source invokes the function with it."""
        messages = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return {"Records": [sqs_record(m) for m in messages]}


def sqs_record(message) -> dict:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": events.REGION,
    }


@pytest.fixture
def dlq(aws):
    return DeadLetterQueue()


def task_event(task_id="run-1", **extra):
    return {
        "command": RUNNER,
        "task_id": task_id,
        "task": "cms.tasks.purge_cdn_paths",
        "args": [],
        "kwargs": {"paths": ["/"]},
        **extra,
    }


def test_the_recorder_is_allowed_and_named_alike_everywhere():
    assert lambda_entry.DEAD_LETTERS == DEAD_LETTERS
    assert DEAD_LETTERS in lambda_entry.EVENT_FUNCTIONS


def test_a_dead_letter_marks_its_failed_run_dead_lettered_once(dlq, lambda_handler):
    TaskRun.objects.create(
        id="run-1",
        task_path="cms.tasks.purge_cdn_paths",
        backend="default",
        kwargs={"paths": ["/"]},
        status=TaskResultStatus.FAILED,
        attempts=3,
        error="Traceback (most recent call last): ...",
    )
    dlq.lambda_gives_up(task_event())
    event = dlq.event()
    assert lambda_handler(event) == {"outcomes": ["recorded"]}
    run = TaskRun.objects.get()
    assert run.status == TaskResultStatus.FAILED
    assert run.dead_lettered_at is not None
    assert run.error.startswith(f"dead-lettered: {ERROR} (ErrorCode 200, RequestID 6f6a4d51")
    assert run.error.endswith("Traceback (most recent call last): ...")
    # SQS delivers at least once: the same batch again changes nothing.
    assert lambda_handler(event) == {"outcomes": ["already recorded"]}
    assert TaskRun.objects.get().error == run.error


def test_a_run_never_on_record_is_created_from_the_dead_letter(dlq, lambda_handler):
    dlq.lambda_gives_up(task_event("run-2"), error="Task timed out after 60.05 seconds")
    assert lambda_handler(dlq.event()) == {"outcomes": ["recorded"]}
    run = TaskRun.objects.get(pk="run-2")
    assert (run.status, run.task_path, run.kwargs) == (
        TaskResultStatus.FAILED,
        "cms.tasks.purge_cdn_paths",
        {"paths": ["/"]},
    )
    assert run.error.startswith("dead-lettered: Task timed out after 60.05 seconds")


def test_a_run_that_succeeded_meanwhile_stays_successful(dlq, lambda_handler):
    TaskRun.objects.create(id="run-3", task_path="cms.tasks.purge_cdn_paths", backend="x",
                           status=TaskResultStatus.SUCCESSFUL)  # fmt: skip
    dlq.lambda_gives_up(task_event("run-3"))
    assert lambda_handler(dlq.event()) == {"outcomes": ["already succeeded"]}
    assert TaskRun.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_malformed_records_are_refused_by_id_without_content_and_the_rest_recorded(
    dlq, lambda_handler, caplog
):
    marker = "secret-looking-content-1234"
    dlq.lambda_gives_up(f"not json {marker}")
    dlq.lambda_gives_up({"command": RUNNER, "note": marker})
    dlq.lambda_gives_up({"detail-type": "Scheduled Event", "note": marker})
    dlq.lambda_gives_up(task_event("run-4", args=marker))
    dlq.lambda_gives_up(task_event("run-5"))
    event = dlq.event()
    outcomes = lambda_handler(event)["outcomes"]
    assert sorted(outcomes) == ["recorded", "refused", "refused", "refused", "refused"]
    assert list(TaskRun.objects.values_list("id", flat=True)) == ["run-5"]
    assert marker not in caplog.text
    for record in event["Records"]:
        if "run-5" not in record["body"]:
            assert f"Dead letter {record['messageId']} not recorded" in caplog.text
    # What a failed cron tick is (its keys), so operators can tell.
    assert "the body is no task event (keys ['detail-type', 'note'])" in caplog.text


def test_a_dead_lettered_run_can_be_retried_from_the_panel(dlq, lambda_handler, settings):
    from django.contrib.auth.models import Permission

    from cms.task_runs import task_retry
    from sitecontent.models import User

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    dlq.lambda_gives_up(task_event("run-6"))
    lambda_handler(dlq.event())
    operator = User.objects.create(username="operator", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="retry_taskrun"))
    operator = User.objects.get(pk=operator.pk)
    new_id = task_retry(run_id="run-6", user=operator)
    assert TaskRun.objects.get(pk="run-6").retried_as == new_id


class TestOnlyTheQueueReachesTheRecorder:
    def test_sqs_records_from_another_queue_are_refused(self, lambda_handler):
        record = sqs_record({"MessageId": "m", "ReceiptHandle": "r", "Body": "{}",
                             "MD5OfBody": "x"})  # fmt: skip
        record["eventSourceARN"] = QUEUE_ARN.replace("dead-letters", "other")
        assert "refused" in lambda_handler({"Records": [record]})

    def test_the_recorder_takes_no_s3_record_or_schedule(self, lambda_handler):
        from tests.cms.test_lambda_entry import s3_record
        from tests.lambda_fixtures import rule_name

        assert "refused" in lambda_handler(s3_record(f"lambda-cms-dev:{DEAD_LETTERS}"))
        assert "refused" in lambda_handler(events.scheduled(rule_name(DEAD_LETTERS)))
        assert not TaskRun.objects.exists()
