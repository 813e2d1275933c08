"""The function's entry point lets through what this project sends and nothing that would
make Zappa run code by name (cms/lambda_entry.py).

Each refused event is also sent to Zappa's own handler, to show what it would have run:
the mark a test function leaves, or a file a raw command writes.
"""

import json
import os
import re

import pytest

from cms import lambda_entry
from cms.task_backends import RUNNER
from sitecontent.models import SchedulerState
from tests import events
from tests.lambda_fixtures import ROOT, rule_name, stage_config

pytestmark = pytest.mark.django_db

CALLS = []


def leave_a_mark(event, context):
    """Stands for any function an invoker might name: it only records that it ran."""
    CALLS.append(event)
    return "ran"


MARK = f"{__name__}.leave_a_mark"


@pytest.fixture(autouse=True)
def _no_marks():
    CALLS.clear()
    yield
    CALLS.clear()


def s3_record(configuration_id, bucket="lambda-cms-dev-media"):
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": events.REGION,
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": "uploads/x/y.jpg", "size": 4},
                },
            }
        ]
    }


def sns_record(message):
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "TopicArn": f"arn:aws:sns:{events.REGION}:{events.ACCOUNT}:anything",
                    "Message": json.dumps(message),
                },
            }
        ]
    }


def test_every_stage_uses_this_entry_point():
    for stage in json.loads((ROOT / "zappa_settings.json").read_text()):
        assert stage_config(stage)["lambda_handler"] == "cms.lambda_entry.lambda_handler"


def test_the_allowed_functions_are_exactly_those_zappa_settings_name():
    named = {
        event["function"]
        for stage in json.loads((ROOT / "zappa_settings.json").read_text())
        for event in stage_config(stage)["events"]
    }
    # The dead-letter recorder's SQS event source names the stage's queue, which only
    # the deploy knows (from the stack's outputs): allowed whether or not it is listed.
    assert named | {lambda_entry.DEAD_LETTERS} == lambda_entry.EVENT_FUNCTIONS
    assert lambda_entry.TASK_RUNNER == RUNNER


def test_every_management_command_the_docs_and_deploy_run_is_allowed():
    docs = (ROOT / "docs/deploy.md").read_text() + (ROOT / "README.md").read_text()
    documented = re.findall(r'zappa manage \S+ "([^"]+)"', docs)
    assert "migrate --noinput" in (ROOT / "cms/lambda_build.py").read_text()
    assert documented, "the docs name no `zappa manage` command"
    for manage in [*documented, "migrate --noinput"]:
        assert lambda_entry.refusal({"manage": manage}) is None, manage


class TestWhatGetsThrough:
    def test_stage_variables_are_dropped_not_copied_into_the_environment(
        self, lambda_handler, zappa_lambda_handler, monkeypatch
    ):
        monkeypatch.setenv("LAMBDA_CMS_PROBE", "before")  # restored after the test
        monkeypatch.delenv("LAMBDA_CMS_PROBE")
        event = events.rest_api("GET", "/")
        event["stageVariables"] = {"LAMBDA_CMS_PROBE": "set by an invoker"}
        assert lambda_handler(event)["statusCode"] == 200
        assert "LAMBDA_CMS_PROBE" not in os.environ
        zappa_lambda_handler(event)  # Zappa alone copies them
        assert os.environ["LAMBDA_CMS_PROBE"] == "set by an invoker"

    @pytest.mark.parametrize(
        "make_event",
        [events.rest_api, events.http_api, events.alb, events.function_url],
        ids=["rest", "http-api", "alb", "function-url"],
    )
    def test_http_events_reach_django(self, lambda_handler, make_event):
        assert lambda_handler(make_event("GET", "/"))["statusCode"] == 200

    def test_the_minute_tick_runs(self, lambda_handler):
        event = events.scheduled(rule_name("sitecontent.events.publishing_tick"))
        assert lambda_handler(event)["ran"] is True
        assert SchedulerState.objects.get().runs == 1

    def test_keep_warm_is_answered(self, lambda_handler):
        event = events.scheduled(rule_name("handler.keep_warm_callback", name="zappa-keep-warm"))
        assert lambda_handler(event) is None

    def test_s3_records_reach_the_upload_handler(self, lambda_handler, media_bucket):
        from cms import aws

        aws.client("s3").put_object(Bucket=media_bucket.bucket, Key="uploads/x/y.jpg", Body=b"1")
        [event] = media_bucket.events()
        assert lambda_handler(event) == {"outcomes": ["deleted"]}
        # As Zappa's own S3 event source names it: "<function name>:<handler>".
        named = s3_record("lambda-cms-dev:sitecontent.events.media_uploaded")
        assert lambda_handler(named) == {"outcomes": ["deleted"]}

    def test_task_events_reach_the_runner(self, lambda_handler):
        assert lambda_handler({"command": RUNNER})["status"] == "refused"  # by the runner

    @pytest.mark.parametrize(
        "manage",
        [
            "migrate --noinput",
            "migrate sitecontent 0003",
            "showmigrations",
            "check --deploy --fail-level WARNING",
            "createsuperuser --noinput --username admin --email you@example.com",
            "axes_reset_username ed",
            "publishing_tick",
        ],
    )
    def test_the_deploy_and_operator_commands_pass(self, manage):
        assert lambda_entry.refusal({"manage": manage}) is None

    def test_a_management_command_runs(self, lambda_handler):
        assert lambda_handler({"manage": "publishing_tick"}) == {}
        assert SchedulerState.objects.get().runs == 1


NAMING_A_FUNCTION = {
    "command": {"command": MARK},
    "scheduled rule": events.scheduled(f"lambda-cms-dev-{MARK}"),
    "s3 configuration id": s3_record(f"lambda-cms-dev:{MARK}"),
    "sns message": sns_record({"command": MARK}),
}


class TestWhatIsRefused:
    @pytest.mark.parametrize("event", NAMING_A_FUNCTION.values(), ids=NAMING_A_FUNCTION.keys())
    def test_an_event_naming_any_other_function_runs_nothing(
        self, lambda_handler, zappa_lambda_handler, event
    ):
        assert "refused" in lambda_handler(event)
        assert CALLS == []
        zappa_lambda_handler(event)  # what Zappa alone does with it
        assert len(CALLS) == 1

    def test_a_raw_command_is_never_executed(
        self, lambda_handler, zappa_lambda_handler, tmp_path, caplog
    ):
        marker = tmp_path / "ran"
        event = {"raw_command": f"open({str(marker)!r}, 'w').write('x')"}
        assert "refused" in lambda_handler(event)
        assert not marker.exists()
        assert "raw_command" in caplog.text
        assert str(marker) not in caplog.text  # the log names the kind, not the content
        zappa_lambda_handler(event)
        assert marker.exists()

    @pytest.mark.parametrize(
        "manage",
        [
            "shell -c print(1)",
            "dbshell",
            "dumpdata",
            "loaddata x.json",
            "migrate --settings=evil.settings",
            "migrate --pythonpath=/tmp",
            "migrate --fake",
            "check --database default",
            "createsuperuser --username admin",  # interactive: no --noinput
            "createsuperuser --noinput --username admin --database other",
            "migrate  --noinput",  # Zappa would pass an empty argument
            "changepassword admin",
        ],
    )
    def test_other_management_commands_and_options_are_refused(self, lambda_handler, manage):
        assert "refused" in lambda_handler({"manage": manage})

    @pytest.mark.parametrize(
        "event",
        [
            [],
            "migrate",
            {},
            {"awslogs": {"data": "x"}},
            {"bot": {"name": "x"}, "currentIntent": {"name": "x"}},
            {"type": "TOKEN", "authorizationToken": "x"},
            {"triggerSource": "PreSignUp_SignUp"},
            {"requestContext": {"eventType": "CONNECT", "routeKey": "$connect"}},
            {"detail-type": "Scheduled Event"},
            {"Records": "x"},
            {"command": RUNNER, "raw_command": "print(1)"},
            {"detail-type": "Scheduled Event", "resources": ["rule/x-y"], "command": MARK},
        ],
        ids=[
            "list", "string", "empty", "logs", "lex", "authorizer", "cognito", "websocket",
            "rule-less", "records-string", "raw-beside-task", "task-beside-schedule",
        ],
    )  # fmt: skip
    def test_events_of_no_kind_this_project_uses_are_refused(self, lambda_handler, event):
        assert "refused" in lambda_handler(event)
        assert CALLS == []


def test_the_commands_a_release_runs_in_a_new_version_are_allowed():
    # cms.lambda_build names what the deploy runs through `zappa manage`; a command
    # refused here would fail every release at its migrate, smoke or seed step.
    from cms import lambda_build

    for manage in (lambda_build.MIGRATE, lambda_build.SMOKE, lambda_build.SEED):
        assert lambda_entry.refusal({"manage": manage}) is None, manage
    # The seed is content only: never the demo users, whose passwords it would print.
    assert lambda_entry.refusal({"manage": "seed_demo --force"}) is not None
