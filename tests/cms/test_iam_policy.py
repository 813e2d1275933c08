"""Each stage's IAM policy names only that stage's resources (cms/iam_policy.py).

Each stage's inputs are shaped like its stack's (infra/template.py renders the same rule
with placeholders; tests/infra/test_template.py checks that, substituted, it is this one).

The policies are matched against other stages' ARNs the way IAM matches them (``*`` any
run of characters, ``?`` one character), for every checked-in stage and for stage names
chosen to trip a careless pattern (dev and dev2, pr-1 and pr-12, prod and production),
all in one account and region: the worst case, where only the policy keeps them apart.
"""

import hashlib
import itertools
import json
import re
from dataclasses import replace

import pytest

from cms import iam_policy
from tests.lambda_fixtures import ROOT

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CHECKED_IN = list(json.loads((ROOT / "zappa_settings.json").read_text()))
TRICKY = ["dev2", "pr-1", "pr-12", "prod", "staging-eu"]

# The only actions that may have "Resource": "*", because IAM offers them no
# resource-level permission to scope them with:
# - ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets: Lambda's VPC setup calls them
#   with the function's role (AWS's Lambda guide: "only works if it's allowed on all
#   resources"); they read network metadata, not another stage's data.
# - xray:PutTraceSegments, xray:PutTelemetryRecords: X-Ray's write API has no resources.
AWS_REQUIRES_ANY_RESOURCE = {
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


def iam_matches(pattern: str, value: str) -> bool:
    """IAM's resource matching: ``*`` any characters (colons and slashes too), ``?`` one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def resources(statement) -> list[str]:
    value = statement["Resource"]
    return [value] if isinstance(value, str) else value


def allows(policy, action: str, arn: str) -> bool:
    return any(
        statement["Effect"] == "Allow"
        and action in statement["Action"]
        and any(iam_matches(pattern, arn) for pattern in resources(statement))
        for statement in policy["Statement"]
    )


def distribution_for(stage):
    return "E" + hashlib.sha256(stage.encode()).hexdigest()[:13].upper()


def secret_for(stage, name="django"):
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:lambda-cms/{stage}/{name}-AbCdEf"


def hex_for(stage, length=17):
    return hashlib.sha256(stage.encode()).hexdigest()[:length]


def inputs_for(stage) -> iam_policy.StageInputs:
    """What a stage's stack gives its role (a made-up stage also purges CloudFront
    directly and is traced, so that every kind of statement is compared)."""
    checked_in = stage in CHECKED_IN
    return iam_policy.StageInputs(
        stage=stage,
        function_name=f"lambda-cms-{stage}",
        region=REGION,
        account_id=ACCOUNT,
        media_bucket=f"lambda-cms-{stage}-media-{ACCOUNT}",
        distribution_id="" if checked_in else distribution_for(stage),
        secret_arns=(
            secret_for(stage),
            secret_for(stage, "origin-verify"),
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-{hex_for(stage, 8)}",
        ),
        subnet_ids=(f"subnet-{hex_for(stage)}", f"subnet-{hex_for(stage + 'b')}"),
        security_group_ids=(f"sg-{hex_for(stage)}",),
        dead_letter_queue=f"arn:aws:sqs:{REGION}:{ACCOUNT}:lambda-cms-{stage}-dead-letters",
        purge_function=f"lambda-cms-{stage}-purge",
        xray=not checked_in or iam_policy.stage_settings(stage).get("xray_tracing", False),
    )


STAGES = CHECKED_IN + TRICKY
INPUTS = {stage: inputs_for(stage) for stage in STAGES}
POLICIES = {stage: iam_policy.render(inputs) for stage, inputs in INPUTS.items()}


def targets(inputs) -> list[str]:
    """Concrete ARNs of one stage's resources, as requests name them."""
    own = iam_policy.arns(inputs)
    [function], [log_group], [bucket] = own["function"], own["log_group"], own["bucket"]
    return [
        function,
        f"{function}:7",
        f"{function}:live",
        log_group,
        f"{log_group}:*",
        f"{log_group}:log-stream:2026/11/27/[$LATEST]0123456789abcdef",
        bucket,
        f"{bucket}/media/images/2026/11/photo.jpg",
        f"{bucket}/uploads/0b7e/report.pdf",
        f"{bucket}/elsewhere.txt",
        f"{bucket}/state/publishing-tick.json",
        *own["distribution"],
        *own["secrets"],
        *own["dead_letter_queue"],
        *own["purge_function"],
    ]


def test_the_matcher_follows_iam_wildcards():
    assert iam_matches("arn:aws:s3:::b/media/*", "arn:aws:s3:::b/media/a/b.jpg")
    assert iam_matches("log-group:x:*", "log-group:x:log-stream:y")
    assert iam_matches("function:a?", "function:ab")
    assert not iam_matches("function:a?", "function:abc")
    assert not iam_matches("function:lambda-cms-dev", "function:lambda-cms-dev2")
    assert iam_matches("function:lambda-cms-pr-1*", "function:lambda-cms-pr-12")  # the trap
    assert not iam_matches("A", "a")


@pytest.mark.parametrize(("stage", "other"), list(itertools.permutations(STAGES, 2)))
def test_no_statement_of_one_stage_matches_another_stages_resources(stage, other):
    reaching = [
        (statement["Sid"], pattern, arn)
        for statement in POLICIES[stage]["Statement"]
        for pattern in resources(statement)
        if pattern != "*"
        for arn in targets(INPUTS[other])
        if iam_matches(pattern, arn)
    ]
    assert reaching == []


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_may_do_what_its_code_does_to_its_own_resources(stage):
    inputs, policy = INPUTS[stage], POLICIES[stage]
    own = iam_policy.arns(inputs)
    [function], [log_group], [bucket] = own["function"], own["log_group"], own["bucket"]
    needed = [
        ("lambda:InvokeFunction", function),  # enqueueing a task
        ("logs:CreateLogStream", f"{log_group}:log-stream:x"),
        ("logs:PutLogEvents", f"{log_group}:log-stream:x"),
        ("s3:PutObject", f"{bucket}/uploads/id/name.jpg"),  # signing the browser's POST
        ("s3:GetObject", f"{bucket}/uploads/id/name.jpg"),  # head + read the upload
        ("s3:DeleteObject", f"{bucket}/uploads/id/name.jpg"),
        ("s3:PutObject", f"{bucket}/media/images/x.jpg"),  # promote, renditions
        ("s3:GetObject", f"{bucket}/media/images/x.jpg"),
        ("s3:DeleteObject", f"{bucket}/media/images/x.jpg"),
        ("s3:ListBucket", bucket),  # a HEAD on a missing key answers 404, not 403
        ("s3:GetObject", f"{bucket}/state/publishing-tick.json"),  # the tick's marker
        ("s3:PutObject", f"{bucket}/state/publishing-tick.json"),
    ]
    if inputs.distribution_id:
        needed.append(("cloudfront:CreateInvalidation", own["distribution"][0]))
    needed += [
        ("lambda:InvokeFunction", own["purge_function"][0]),  # purges, from the VPC
        ("sqs:SendMessage", own["dead_letter_queue"][0]),  # Lambda's DLQ, with this role
        ("sqs:ReceiveMessage", own["dead_letter_queue"][0]),  # the SQS event source
        ("sqs:DeleteMessage", own["dead_letter_queue"][0]),
        ("sqs:GetQueueAttributes", own["dead_letter_queue"][0]),
        *(("secretsmanager:GetSecretValue", arn) for arn in own["secrets"]),
    ]
    assert [(a, arn) for a, arn in needed if not allows(policy, a, arn)] == []
    refused = [
        ("s3:PutObject", f"{bucket}/elsewhere.txt"),
        ("s3:GetObject", f"{bucket}/staticfiles/x"),
        ("s3:PutObject", f"{bucket}/state/other.json"),
        ("s3:DeleteObject", f"{bucket}/state/publishing-tick.json"),
        ("lambda:UpdateFunctionCode", function),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/anything"),
    ]
    assert [(a, arn) for a, arn in refused if allows(policy, a, arn)] == []


@pytest.mark.parametrize("stage", STAGES)
def test_no_wildcard_action_and_any_resource_only_where_aws_requires_it(stage):
    for statement in POLICIES[stage]["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement
        assert statement["Effect"] == "Allow"
        assert not [a for a in statement["Action"] if "*" in a or "?" in a]
        for pattern in resources(statement):
            if pattern == "*":
                assert set(statement["Action"]) <= AWS_REQUIRES_ANY_RESOURCE, statement["Sid"]
                continue
            # Wildcards only in the resource part: never the partition, service,
            # region or account.
            head = pattern.split(":", 5)[:5]
            assert not [part for part in head if "*" in part or "?" in part], pattern
            assert head[4] in ("", ACCOUNT), pattern


def sids(stage) -> set[str]:
    return {statement["Sid"] for statement in POLICIES[stage]["Statement"]}


def test_a_stage_gets_statements_only_for_what_it_uses():
    bare = iam_policy.StageInputs(
        stage="dev", function_name="lambda-cms-dev", region=REGION, account_id=ACCOUNT,
        media_bucket="lambda-cms-dev-media",
    )  # fmt: skip
    assert {s["Sid"] for s in iam_policy.render(bare)["Statement"]} == {
        "OwnLogGroup", "InvokeItself", "OwnMediaObjects", "OwnStateObjects", "OwnMediaBucket",
    }  # fmt: skip
    # The stacks' stages: in a VPC, purging through the relay, never CloudFront directly.
    assert {"VpcCreateInterfaces", "InvokePurgeRelay", "OwnDeadLetterQueue",
            "ReadOwnSecrets"} <= sids("production")  # fmt: skip
    assert "PurgeOwnDistribution" not in sids("production")
    assert "XRayAwsRequiresAnyResource" not in sids("production")
    assert {"PurgeOwnDistribution", "XRayAwsRequiresAnyResource"} <= sids("pr-1")


def test_a_stage_with_a_sender_may_send_email_only_as_it():
    inputs = iam_policy.StageInputs(
        stage="dev", function_name="lambda-cms-dev", region=REGION, account_id=ACCOUNT,
        media_bucket="lambda-cms-dev-media", mail_from="newsroom@example.com",
    )  # fmt: skip
    policy = iam_policy.render(inputs)
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/newsroom@example.com"
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "SendAsOwnSender"]
    assert statement["Resource"] == [identity]
    assert allows(policy, "ses:SendRawEmail", identity)  # django-ses sends raw messages
    assert not allows(policy, "ses:SendRawEmail", f"{identity[:-len('newsroom@example.com')]}"
                      "ceo@example.com")  # fmt: skip
    assert not allows(policy, "ses:SendRawEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/"
                      "example.com")  # fmt: skip
    # Without a sender, no email permission at all.
    bare = iam_policy.render(replace(inputs, mail_from=""))
    assert not [s for s in bare["Statement"] if any(a.startswith("ses:") for a in s["Action"])]


@pytest.mark.parametrize("stage", ["dev_1", "Dev", "dev--1", "-dev", "dev.1", ""])
def test_stage_names_that_would_not_be_the_functions_own_are_refused(stage):
    with pytest.raises(iam_policy.PolicyInputError, match="Stage"):
        iam_policy.from_zappa_settings(stage, iam_policy.stage_settings("dev"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("account_id", "*"),
        ("account_id", "12345678901?"),
        ("distribution_id", "E*"),
        ("secret_arns", (f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:*",)),
        ("secret_arns", (f"arn:aws:secretsmanager:{REGION}:*:secret:x",)),
        ("media_bucket", "lambda-cms-*-media"),
        ("region", "*"),
        ("mail_from", "*@example.com"),
        ("mail_from", "news?@example.com"),
    ],
)
def test_no_input_can_bring_a_wildcard_into_a_policy(key, value):
    found = iam_policy.from_zappa_settings("production", iam_policy.stage_settings("production"))
    deploy = {"account_id": ACCOUNT, "distribution_id": "E2EXAMPLE12",
              "media_bucket": "lambda-cms-production-media-123456789012"}  # fmt: skip
    if key in ("region",):
        found[key] = value
    else:
        deploy[key] = value
    with pytest.raises(iam_policy.PolicyInputError, match=key):
        iam_policy.gather(("zappa_settings.json", found), ("deploy", deploy))


STACK_VALUES = {
    "stage": "dev",
    "function_name": "lambda-cms-dev",
    "partition": "${AWS::Partition}",
    "region": "${AWS::Region}",
    "account_id": "${AWS::AccountId}",
    "media_bucket": "${MediaBucket}",
    "secret_arns": ("${DjangoSecret}", "${DatabaseCluster.MasterUserSecret.SecretArn}"),
    "dead_letter_queue": "${DeadLetterQueue.Arn}",
}


def test_the_stack_renders_the_rule_with_whole_placeholders_only():
    policy = iam_policy.render(iam_policy.StageInputs(**STACK_VALUES, placeholders=True))
    assert "arn:${AWS::Partition}:s3:::${MediaBucket}/media/*" in json.dumps(policy)
    with pytest.raises(iam_policy.PolicyInputError, match="not a valid value"):
        iam_policy.StageInputs(**STACK_VALUES)  # placeholders only when asked for


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("media_bucket", "${MediaBucket}*"),
        ("media_bucket", "*"),
        ("account_id", "${AWS::AccountId}?"),
        ("secret_arns", ("${DjangoSecret}-*",)),
        ("dead_letter_queue", "${Dead*}"),
        ("function_name", "lambda-cms-*"),
    ],
)
def test_a_placeholder_cannot_carry_a_wildcard_either(key, value):
    with pytest.raises(iam_policy.PolicyInputError, match=key):
        iam_policy.StageInputs(**{**STACK_VALUES, key: value}, placeholders=True)


def test_sources_that_disagree_stop_the_build():
    config = iam_policy.stage_settings("dev")
    with pytest.raises(iam_policy.PolicyInputError, match="media_bucket"):
        iam_policy.gather(
            ("zappa_settings.json", iam_policy.from_zappa_settings("dev", config)),
            ("the environment", {"media_bucket": "lambda-cms-dev-media-123456789012"}),
            ("stack outputs", {"media_bucket": "lambda-cms-production-media-123456789012"}),
        )


def test_a_stage_that_purges_cloudfront_needs_its_distribution_named():
    config = iam_policy.stage_settings("staging")
    bucket = {"media_bucket": "lambda-cms-staging-media-123456789012"}
    with pytest.raises(iam_policy.PolicyInputError, match="CLOUDFRONT_DISTRIBUTION_ID"):
        iam_policy.gather(
            ("zappa_settings.json", iam_policy.from_zappa_settings("staging", config)),
            ("deploy", {"account_id": ACCOUNT, **bucket}),
        )
    with pytest.raises(iam_policy.PolicyInputError, match="AWS_ACCOUNT_ID"):
        iam_policy.gather(
            ("zappa_settings.json", iam_policy.from_zappa_settings("dev", config)),
            ("deploy", {"distribution_id": "E2EXAMPLE12", **bucket}),
        )


def test_extends_resolves_as_zappa_resolves_it():
    from tests.lambda_fixtures import stage_config

    for stage in CHECKED_IN:
        assert iam_policy.stage_settings(stage) == {
            k: v for k, v in stage_config(stage).items() if k != "extends"
        }


@pytest.mark.parametrize("stage", CHECKED_IN)
def test_zappa_attaches_our_policy_alone(stage):
    """Zappa writes attach_policy as the role's one inline policy while manage_roles is
    on; these settings would add statements to it or hand Zappa another role."""
    config = iam_policy.stage_settings(stage)
    assert config["manage_roles"] is True
    assert config["attach_policy"] == "zappa_iam_policy.json"
    assert not {"extra_permissions", "role_arn", "role_name", "efs_config",
                "websocket_handler_module", "assume_policy"} & set(config)  # fmt: skip


def test_the_checked_in_policy_file_grants_nothing():
    """Only the build copy holds a stage's real policy; a deploy that skipped rendering
    it would attach this one."""
    placeholder = json.loads((ROOT / "zappa_iam_policy.json").read_text())
    assert {s["Effect"] for s in placeholder["Statement"]} == {"Deny"}


def test_the_policy_covers_the_prefixes_the_code_writes_to():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['default']['OPTIONS']['location'], settings.UPLOAD_PREFIX)"
    )
    from tests.cms.test_settings import PRODUCTION_ENV, run

    result = run(code, "cms.settings.production", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    location, uploads = result.stdout.split()
    assert (f"{location}/", uploads) == iam_policy.MEDIA_PREFIXES


def test_the_policy_covers_the_state_the_code_keeps_in_the_bucket(settings):
    assert (settings.PUBLISHING_TICK_MARKER_KEY,) == iam_policy.STATE_OBJECTS
    assert not settings.PUBLISHING_TICK_MARKER_KEY.startswith(iam_policy.MEDIA_PREFIXES)
