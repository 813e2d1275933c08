"""The real Zappa CLI, from the runtime-only build, against a moto server on loopback:
deploy, inspect what it made with boto3, update, schedule, undeploy.

Uses the "emulator" stage of zappa_settings.json (touch is off: the emulator's API URL
answers nothing). Moto cannot run the function (no Docker), so what runs inside it is
covered by the in-process event tests.
"""

import json
import os
import subprocess

import pytest

from cms import aws as aws_adapter
from cms import lambda_build
from tests.lambda_fixtures import ROOT, stage_config

pytestmark = pytest.mark.deploy

STAGE = "emulator"
FUNCTION = f"lambda-cms-{STAGE}"


@pytest.fixture(scope="module")
def build_copy():
    """The runtime virtualenv and the project copy with static files collected."""
    lambda_build.prepare()
    return lambda_build.SRC


@pytest.fixture
def zappa(aws, build_copy):
    config = stage_config(STAGE)
    client = aws_adapter.client("s3")
    client.create_bucket(
        Bucket=config["aws_environment_variables"]["MEDIA_BUCKET"],
        CreateBucketConfiguration={"LocationConstraint": config["aws_region"]},
    )

    def run(*args):
        result = subprocess.run(
            [lambda_build.VENV / "bin/zappa", *args],
            cwd=build_copy,
            env={**os.environ, **lambda_build.zappa_env(), "AWS_ENDPOINT_URL": aws},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout + result.stderr

    return run


def client(name):
    return aws_adapter.client(name)


def rules():
    return {r["Name"]: r for r in client("events").list_rules()["Rules"]}


def role_policies(function):
    """The role's policies as IAM returns them: inline by name, and attached managed ones."""
    iam = client("iam")
    role = function["Role"].rsplit("/", 1)[-1]
    inline = {
        name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    return inline, attached


def test_deploy_update_schedule_undeploy_round_trip(zappa, build_copy):
    config = stage_config(STAGE)
    facts = lambda_build.aws_facts(FUNCTION, config["aws_region"])
    inputs = lambda_build.policy_inputs(STAGE, config, facts)
    lambda_build.write_policy(STAGE, inputs, into_build_copy=True)
    zappa("deploy", STAGE)

    function = client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "cms.lambda_entry.lambda_handler"
    assert (function["MemorySize"], function["Timeout"]) == (1024, 60)
    assert set(function["Environment"]["Variables"]) >= set(config["aws_environment_variables"])
    assert "SECRET_KEY" not in function["Environment"]["Variables"]

    # The stage's own policy, alone: Zappa's default is not attached beside it.
    inline, attached = role_policies(function)
    assert list(inline) == ["zappa-permissions"]
    assert attached == []
    policy = inline["zappa-permissions"]
    assert policy == json.loads((build_copy / "zappa_iam_policy.json").read_text())
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    assert f"arn:aws:lambda:eu-west-1:{facts['account_id']}:function:{FUNCTION}" in resources
    assert [r for r in resources if "lambda-cms-emulator" not in r] == []

    assert [api["name"] for api in client("apigateway").get_rest_apis()["items"]] == [FUNCTION]
    [stack] = client("cloudformation").describe_stacks(StackName=FUNCTION)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"

    scheduled = rules()
    tick = scheduled[f"{FUNCTION}-sitecontent.events.publishing_tick"]
    keep_warm = scheduled[f"{FUNCTION}-zappa-keep-warm-handler.keep_warm_callback"]
    assert (tick["ScheduleExpression"], keep_warm["ScheduleExpression"]) == (
        "rate(1 minute)",
        "rate(4 minutes)",
    )
    for rule in (tick, keep_warm):
        [target] = client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert target["Arn"] == function["FunctionArn"]

    bucket = config["aws_environment_variables"]["MEDIA_BUCKET"]
    notification = client("s3").get_bucket_notification_configuration(Bucket=bucket)
    [to_lambda] = notification["LambdaFunctionConfigurations"]
    assert to_lambda["LambdaFunctionArn"] == function["FunctionArn"]
    assert to_lambda["Events"] == ["s3:ObjectCreated:*"]
    [rule] = to_lambda["Filter"]["Key"]["FilterRules"]
    assert (rule["Name"].lower(), rule["Value"]) == ("prefix", "uploads/")

    first_code = function["CodeSha256"]
    zappa("update", STAGE)
    updated = client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    assert updated["CodeSha256"] != first_code  # a fresh build (new package_info.json)

    zappa("schedule", STAGE)
    assert set(rules()) == set(scheduled)  # rescheduling replaces, never duplicates

    zappa("undeploy", STAGE, "--yes")
    assert client("lambda").list_functions()["Functions"] == []
    # Zappa removes the API by deleting its CloudFormation stack (moto keeps the stack's
    # RestApi resource around, so the stack is what to check).
    remaining = client("cloudformation").list_stacks()["StackSummaries"]
    assert {s["StackName"]: s["StackStatus"] for s in remaining}[FUNCTION] == "DELETE_COMPLETE"
    assert not [name for name in rules() if name.startswith(FUNCTION)]


@pytest.fixture
def smoke_server():
    """A stand-in for the deployed site's URL, answering with a chosen status."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        status = 200

        def do_GET(self):
            self.send_response(self.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.handler = Handler
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


def make_deploy(moto_url, smoke_url, *args):
    return subprocess.run(
        ["make", "deploy", f"STAGE={STAGE}", *args],
        cwd=ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL": moto_url, "SMOKE_URL": smoke_url},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def steps(output):
    return [
        line.split("$ zappa ", 1)[1].split()[0]
        for line in output.splitlines()
        if "$ zappa " in line
    ]


def test_make_deploy_runs_each_step_in_order_and_stops_at_the_first_failure(
    aws, build_copy, smoke_server
):
    import requests

    # Moto cannot run the function without Docker; its simple mode answers invocations
    # (the `zappa manage` step) with a canned success.
    requests.post(f"{aws}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    config = stage_config(STAGE)
    client("s3").create_bucket(
        Bucket=config["aws_environment_variables"]["MEDIA_BUCKET"],
        CreateBucketConfiguration={"LocationConstraint": config["aws_region"]},
    )

    update_first = make_deploy(aws, smoke_server.url)  # nothing deployed yet: no update
    assert update_first.returncode != 0
    assert steps(update_first.stdout) == ["status"]
    assert "FIRST=1" in update_first.stdout

    first = make_deploy(aws, smoke_server.url, "FIRST=1")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    # The stage's hosts are wildcards: its address is the API's, known once it exists,
    # and the deploy sets it on the function (an update right after the first deploy).
    assert steps(first.stdout) == ["deploy", "status", "update", "manage"]
    assert "emulator deployed and answering" in first.stdout
    function = client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    api = next(a for a in client("apigateway").get_rest_apis()["items"] if a["name"] == FUNCTION)
    site_url = function["Environment"]["Variables"]["SITE_URL"]
    assert site_url == f"https://{api['id']}.execute-api.eu-west-1.amazonaws.com/{STAGE}"
    inline, attached = role_policies(function)
    rendered = json.loads((lambda_build.BUILD / "iam" / f"{STAGE}.json").read_text())
    assert (inline, attached) == ({"zappa-permissions": rendered}, [])

    smoke_server.handler.status = 500
    broken = make_deploy(aws, smoke_server.url)
    assert broken.returncode != 0
    assert steps(broken.stdout) == ["status", "update", "manage"]
    assert "smoke request answered 500" in broken.stdout + broken.stderr
