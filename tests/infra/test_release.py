"""Blue/green releases (infra.release) against the moto server over HTTP: Lambda's real
version, alias, permission and event-source-mapping APIs, EventBridge's rules and
targets, S3's notifications and CloudWatch's alarms, each checked through its own API.

The function is made directly (no build: that is the round trip's, tests/
test_deploy_emulator.py); a new release is new code on ``$LATEST``, as ``zappa update``
leaves it. Moto runs no code: the result of the smoke test inside a version is the
documented shim tests/infra/moto_shims.fail_command (a FunctionError, as Lambda answers
when the command raised). The production stage is used for its configured steps
(infra/stages.json: 10%, 50%, 100%, each watched 120 s); the watch's sleep is the test's,
which reads (and may change) the world between the alarm reads.
"""

import io
import json
import zipfile

import pytest
import requests

from cms import aws as aws_adapter
from infra import config, release
from tests.aws_fixtures import lambda_function
from tests.infra import moto_shims

STAGE = "production"
FUNCTION = f"lambda-cms-{STAGE}"
BUCKET = "lambda-cms-production-media-123456789012"
COMMITS = ["a" * 40, "b" * 40, "c" * 40, "d" * 40]
ALARMS = [f"{FUNCTION}-errors", f"{FUNCTION}-5xx-rate"]


def client(name):
    return aws_adapter.client(name)


def code(marker: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", f"# {marker}\ndef lambda_handler(e, c):\n    return {{}}\n")
    return buffer.getvalue()


class Stage:
    """The production stage's function with the resources its events name."""

    def __init__(self):
        self.arn = lambda_function(FUNCTION)
        self.role = client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]["Role"]
        client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        sqs = client("sqs")
        url = sqs.create_queue(QueueName=f"{FUNCTION}-dead-letters")["QueueUrl"]
        self.queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        cw = client("cloudwatch")
        for name in ALARMS:
            cw.put_metric_alarm(
                AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
                Period=60, EvaluationPeriods=1, Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )  # fmt: skip
            cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
        # The stage's events as zappa_settings.json has them, their ARNs filled in.
        self.events = [
            {"function": config.TICK_FUNCTION, "expression": "rate(1 minute)"},
            {
                "function": "sitecontent.events.media_uploaded",
                "event_source": {
                    "arn": f"arn:aws:s3:::{BUCKET}",
                    "events": ["s3:ObjectCreated:*"],
                    "prefix": "uploads/",
                },
            },
            {
                "function": "cms.task_backends.record_dead_letters",
                "event_source": {"arn": self.queue, "batch_size": 10},
            },
        ]
        self.published = 0
        self.sleeps = []
        self.states = []
        self.on_sleep = None

    def new_code(self, marker):
        """What zappa update leaves: new code on $LATEST."""
        client("lambda").update_function_code(FunctionName=FUNCTION, ZipFile=code(marker))

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        alias = client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        state = (alias["FunctionVersion"], weights)
        if not self.states or self.states[-1] != state:
            self.states.append(state)
        if self.on_sleep:
            self.on_sleep(state)

    def release(self, commit, first=False):
        return release.release(STAGE, first=first, commit=commit, sleep=self.sleep, alarms=ALARMS)

    def live(self):
        alias = client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return alias["FunctionVersion"], weights


@pytest.fixture
def stage(aws, monkeypatch):
    moto_shims.install()
    requests.post(f"{aws}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    made = Stage()
    # The stack's outputs are what stage_events reads; here the resources are made above.
    monkeypatch.setattr(release, "stage_events", lambda stage, settings: (made.events, made.role))
    yield made
    moto_shims.clear_failures()


def released(stage, marker, commit):
    stage.new_code(marker)
    return stage.release(commit)


def test_the_first_release_makes_live_on_the_new_version(stage):
    assert release.state(STAGE) == {"function": True, "live": None, "commit": None}
    assert stage.release(COMMITS[0]) == "1"
    assert stage.live() == ("1", {})
    assert release.state(STAGE) == {"function": True, "live": "1", "commit": COMMITS[0][:12]}


def test_a_failing_smoke_test_leaves_live_on_the_old_version(stage, capsys):
    stage.release(COMMITS[0])
    failure = "release smoke failed: home page: GET / answered 500"
    moto_shims.fail_command(FUNCTION, "release_smoke", after_version=1, message=failure)
    stage.new_code("broken")
    with pytest.raises(release.ReleaseError) as stopped:
        stage.release(COMMITS[1])
    assert "smoke test failed on version 2" in str(stopped.value)
    assert "home page: GET / answered 500" in str(stopped.value)
    assert "version 1 serves" in str(stopped.value)
    assert stage.live() == ("1", {})
    assert stage.states == []  # no request ever went to version 2
    # The new version exists (for a look at it), nothing routes to it.
    versions = client("lambda").list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    assert sorted(v["Version"] for v in versions) == ["$LATEST", "1", "2"]


def test_failing_migrations_stop_the_release_before_its_smoke_test(stage):
    stage.release(COMMITS[0])
    moto_shims.fail_command(FUNCTION, "migrate --noinput", after_version=1,
                            message="relation already exists")  # fmt: skip
    stage.new_code("bad migration")
    with pytest.raises(release.ReleaseError, match="migrations failed on version 2"):
        stage.release(COMMITS[1])
    assert stage.live() == ("1", {})


def test_a_passing_release_moves_live_in_the_configured_steps(stage, capsys):
    assert config.load(STAGE).release == config.Release((10, 50, 100), 120)
    stage.release(COMMITS[0])
    assert released(stage, "v2", COMMITS[1]) == "2"
    assert stage.states == [("1", {"2": 0.1}), ("1", {"2": 0.5}), ("2", {})]
    # Each step watched for its configured time (the alarms read between sleeps).
    assert sum(stage.sleeps) == 3 * 120
    assert stage.live() == ("2", {})
    out = capsys.readouterr().out
    assert "10% of requests on version 2, 90% on 1" in out
    assert "version 2 serves all requests (before it: version 1)" in out


def test_an_alarm_during_a_step_rolls_back(stage, capsys):
    stage.release(COMMITS[0])

    def alarm_at_half(state):
        if state == ("1", {"2": 0.5}):
            client("cloudwatch").set_alarm_state(
                AlarmName=ALARMS[0], StateValue="ALARM", StateReason="errors after the shift"
            )

    stage.on_sleep = alarm_at_half
    stage.new_code("v2")
    with pytest.raises(release.ReleaseError) as stopped:
        stage.release(COMMITS[1])
    assert f"alarm(s) {ALARMS[0]} in ALARM with 50% on version 2" in str(stopped.value)
    assert "version 1 serves" in str(stopped.value)
    assert stage.live() == ("1", {})
    assert stage.states == [("1", {"2": 0.1}), ("1", {"2": 0.5})]
    # The history still has version 1 as the one released: a rollback has nowhere to go.
    with pytest.raises(release.ReleaseError, match="no earlier released version"):
        release.rollback(STAGE)


def test_an_alarm_already_firing_stops_the_release_before_anything_changes(stage, monkeypatch):
    stage.release(COMMITS[0])
    client("cloudwatch").set_alarm_state(AlarmName=ALARMS[1], StateValue="ALARM", StateReason="x")
    stage.new_code("v2")
    with pytest.raises(release.ReleaseError, match=f"RELEASE_IGNORE_ALARMS={ALARMS[1]}"):
        stage.release(COMMITS[1])
    versions = client("lambda").list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    assert len(versions) == 2  # $LATEST and 1: nothing published
    # Named by the operator (a fix for what it reports), it is not watched.
    monkeypatch.setenv("RELEASE_IGNORE_ALARMS", ALARMS[1])
    assert stage.release(COMMITS[1]) == "2"
    assert stage.live() == ("2", {})


def test_rollback_returns_to_the_version_before_and_says_which(stage, capsys):
    stage.release(COMMITS[0])
    released(stage, "v2", COMMITS[1])
    released(stage, "v3", COMMITS[2])
    capsys.readouterr()
    assert release.main(["rollback", STAGE]) == 0
    assert "left version 3; version 2 now serves" in capsys.readouterr().out
    assert stage.live() == ("2", {})
    # Again: one further back; then there is nothing earlier.
    assert release.main(["rollback", STAGE]) == 0
    assert "left version 2; version 1 now serves" in capsys.readouterr().out
    assert release.main(["rollback", STAGE]) == 1
    assert "no earlier released version" in capsys.readouterr().out
    assert stage.live() == ("1", {})


def test_rollback_skips_a_version_whose_smoke_test_failed(stage, capsys):
    stage.release(COMMITS[0])
    moto_shims.fail_command(FUNCTION, "release_smoke", after_version=1, message="broken")
    stage.new_code("broken")
    with pytest.raises(release.ReleaseError):
        stage.release(COMMITS[1])
    moto_shims.clear_failures()
    assert released(stage, "fixed", COMMITS[2]) == "3"
    left, serving = release.rollback(STAGE)
    assert (left, serving) == ("3", "1")


def test_an_interrupted_release_is_ended_by_rollback_on_the_version_it_started_from(stage):
    stage.release(COMMITS[0])
    stage.new_code("v2")

    def interrupted(state):
        if state == ("1", {"2": 0.1}):
            raise KeyboardInterrupt

    stage.on_sleep = interrupted
    with pytest.raises(KeyboardInterrupt):
        stage.release(COMMITS[1])
    assert stage.live() == ("1", {"2": 0.1})
    stage.on_sleep = None
    stage.new_code("v3")
    with pytest.raises(release.ReleaseError, match="run make rollback STAGE=production first"):
        stage.release(COMMITS[2])
    assert release.rollback(STAGE) == ("2", "1")
    assert stage.live() == ("1", {})


def rule_targets():
    events = client("events")
    rules = [r["Name"] for r in events.list_rules()["Rules"] if r["Name"].startswith(FUNCTION)]
    return {rule: [t["Arn"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]]
            for rule in rules}  # fmt: skip


def policy(qualifier=None):
    from botocore.exceptions import ClientError

    kwargs = {"Qualifier": qualifier} if qualifier else {}
    try:
        answer = client("lambda").get_policy(FunctionName=FUNCTION, **kwargs)
    except ClientError:
        return []
    return [(s["Principal"]["Service"], s["Condition"]["ArnLike"]["AWS:SourceArn"])
            for s in json.loads(answer["Policy"])["Statement"]]  # fmt: skip


def test_every_event_source_follows_live_and_stays_single_over_releases(stage):
    live_arn = f"{stage.arn}:live"
    tick = config.Names("lambda-cms", STAGE).tick_rule
    for number, commit in enumerate(COMMITS[:3]):
        stage.new_code(f"v{number}")
        stage.release(commit)
        targets = rule_targets()
        assert targets == {tick: [live_arn]}
        [notification] = client("s3").get_bucket_notification_configuration(Bucket=BUCKET)[
            "LambdaFunctionConfigurations"
        ]
        assert notification["LambdaFunctionArn"] == live_arn
        mappings = client("lambda").list_event_source_mappings(EventSourceArn=stage.queue)[
            "EventSourceMappings"
        ]
        assert [m["FunctionArn"] for m in mappings] == [live_arn]
        if number == 0:
            # Each rule's permission is on the alias. (moto shares one policy between
            # $LATEST and the versions copied from it, and keeps an alias's on the version
            # it points at, so where a permission sits cannot be told apart here beyond
            # the first release; AWS keeps an alias's policy on the alias.)
            rule_arn = client("events").describe_rule(Name=tick)["Arn"]
            needed = {
                ("events.amazonaws.com", rule_arn),
                ("s3.amazonaws.com", f"arn:aws:s3:::{BUCKET}"),
            }
            assert needed <= set(policy("live"))


def test_event_sources_an_earlier_deploy_left_on_the_unqualified_function_move_to_live(stage):
    # What zappa schedule (deploys before releases) made: everything on $LATEST.
    z = release.zappa_core(config.load(STAGE), stage.role)
    z.schedule_events(lambda_arn=stage.arn, lambda_name=FUNCTION, events=stage.events)
    assert list(rule_targets().values()) == [[stage.arn]]
    stage.release(COMMITS[0])
    assert list(rule_targets().values()) == [[f"{stage.arn}:live"]]
    mappings = client("lambda").list_event_source_mappings(EventSourceArn=stage.queue)[
        "EventSourceMappings"
    ]
    assert [m["FunctionArn"] for m in mappings] == [f"{stage.arn}:live"]
    # make destroy's first step removes them all (Zappa's undeploy sees unqualified ones).
    release.detach_event_sources(STAGE)
    assert rule_targets() == {}
    notification = client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    assert notification.get("LambdaFunctionConfigurations", []) == []
    assert (
        client("lambda").list_event_source_mappings(EventSourceArn=stage.queue)[
            "EventSourceMappings"
        ]
        == []
    )


def test_the_alias_history_fits_lambdas_description_limit():
    history = [[str(n), "f" * 12] for n in range(100, 130)]
    text = release._description(history)
    assert len(text) <= 256
    assert release._history(text)[0] == ["100", "f" * 12]
    assert len(release._history(text)) == release.HISTORY_SIZE


def test_pruning_keeps_what_live_and_a_rollback_need(stage):
    # production keeps 5 versions (zappa_settings.json num_retained_versions).
    stage.release(COMMITS[0])
    released(stage, "v2", COMMITS[1])
    assert release.rollback(STAGE) == ("2", "1")
    # (Up to the release that prunes: moto numbers a new version after the count of those
    # left, so it would reuse a number; Lambda never does.)
    for number in range(3, 8):
        released(stage, f"v{number}", COMMITS[number % 4])
    kept = sorted(int(v) for v in release.versions(client("lambda"), FUNCTION))
    # The 5 newest, and version 1, which the history can still go back to; version 2 was
    # rolled back from, so nothing needs it.
    assert kept == [1, 3, 4, 5, 6, 7]
    assert stage.live() == ("7", {})
