"""Branch stages (docs/branch-stages.md): a stage per pull request or git branch, made from
the committed ``preview`` stage without being listed anywhere.

The naming rule is proved over arbitrary branch names (hypothesis): every AWS name of a
branch stage fits its limit, and no name of one stage is a name of another. The stacks
of two branch stages are then made side by side on the moto server (``make infra`` for
one, ``infra.deploy.apply`` for the other) with the real template, and every resource is
read back through its own service's API: what moto's CloudFormation silently skips
(secrets, the Aurora cluster, alarms) is made through those APIs as the template says,
tagged as the stack would tag it, and removed as deleting the stack would remove it.
"""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cms import iam_policy
from infra import config, deploy

ACCOUNT = "123456789012"  # moto's
PROJECT = "lambda-cms"
LISTED = config.stage_list()


def short_hash(branch: str) -> str:
    return hashlib.sha256(branch.encode()).hexdigest()[:6]


# --- the naming rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "stage"),
    [
        ("123", "pr-123"),
        (123, "pr-123"),
        ("#123", "pr-123"),
        ("pr-123", "pr-123"),
        ("refs/pull/123/merge", "pr-123"),
        ("pull/123/head", "pr-123"),
        ("007", "pr-7"),
        ("main", f"br-main-{short_hash('main')}"),
        ("refs/heads/main", f"br-main-{short_hash('main')}"),
        ("refs/heads/123", f"br-123-{short_hash('123')}"),  # a branch named with digits
        ("feature/Log-in_page", f"br-feature-log-in-page-{short_hash('feature/Log-in_page')}"),
        ("Ünïcødé/café", f"br-unicde-cafe-{short_hash('Ünïcødé/café')}"),
        ("///", f"br-{short_hash('///')}"),
        (
            "dependabot/pip/django-6.1.1",
            f"br-dependabot-pip-django-6-{short_hash('dependabot/pip/django-6.1.1')}",
        ),
    ],
)
def test_pull_requests_and_branches_get_their_stage(ref, stage):
    assert config.branch_stage(ref) == stage
    assert config.is_branch_stage(stage)


def test_branches_whose_slugs_agree_get_different_stages():
    refs = ["feature/x", "feature-x", "Feature_X", "feature/x/", "a" * 60 + "1", "a" * 60 + "2"]
    stages = [config.branch_stage(ref) for ref in refs]
    assert len(set(stages)) == len(refs)
    assert len({s.rsplit("-", 1)[0] for s in stages}) == 2  # two slugs, told apart by hash


def test_the_longest_branch_stage_fills_the_budget_that_the_buckets_set():
    stage = config.branch_stage("x" * 500)
    assert len(stage) == config.stage_budget(PROJECT) == 33
    name, limit = config.Names(PROJECT, stage).limits()["media bucket"]
    assert len(name) == limit  # the tightest limit: 63 with a 12-digit account id


def test_what_names_no_branch_is_refused_with_the_fix():
    for ref in ("", "refs/heads/", "  "):
        with pytest.raises(config.ConfigError, match="pass a pull request number"):
            config.branch_stage(ref)
    with pytest.raises(config.ConfigError, match="longer than 33 characters"):
        config.branch_stage("9" * 40)


def test_the_committed_stages_do_not_look_like_branch_stages():
    assert [s for s in LISTED if config.is_branch_stage(s)] == []
    assert config.BRANCH_TEMPLATE in LISTED
    for name in ("pr-1", "pr-123", "br-abcdef", "br-main-0a1b2c", "br-a-b-c-123456"):
        assert config.is_branch_stage(name), name
    for name in ("pr-0", "pr-01", "pr-", "pr-x", "br-main", "br-main-0A1B2C", "br--abcdef",
                 "br-main-abcdefg", "preview", "dev"):  # fmt: skip
        assert not config.is_branch_stage(name), name


# Branch names as git and people make them: any text (git refuses some of it, the rule
# must not care), slashes and dots, long ones, PR-ish ones, and names built to collide
# with another stage's derived names (a stage name followed by a template suffix).
SUFFIXES = ["-purge", "-db", "-db-1", "-db-proxy", "-infra", "-cert", "-dead-letters",
            "-alarms", "-media", "-zappa", "-pages", "-forwarded-host"]  # fmt: skip
refs = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"\A[A-Za-z0-9._/-]{1,120}\Z"),
    st.integers(min_value=1, max_value=10**12).map(str),
    st.from_regex(r"\A(refs/heads/|refs/pull/|#|pr-)[0-9a-z/]{0,20}\Z"),
    st.builds(lambda s, x: s + x, st.sampled_from(LISTED), st.sampled_from(SUFFIXES)),
)


def stage_or_none(ref):
    try:
        return config.branch_stage(ref)
    except config.ConfigError:
        # Only what names no branch at all, or a pull request number too long to fit.
        text = str(ref).strip()
        assert not text.removeprefix("refs/heads/") or config.PULL_REQUEST.match(text)
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(refs)
def test_any_branch_name_gives_a_branch_stage_whose_every_name_fits(ref):
    stage = stage_or_none(ref)
    assume(stage is not None)
    assert config.is_branch_stage(stage)
    assert iam_policy.STAGE_NAME.match(stage)  # Zappa's slugify keeps it as it is
    config.check_stage_name(stage, PROJECT)  # every limit, and no reserved suffix
    for what, (name, limit) in config.Names(PROJECT, stage).limits().items():
        assert len(name) <= limit, what
    # RDS identifiers: a letter first, no two hyphens in a row, no hyphen last.
    database = config.Names(PROJECT, stage).database
    assert re.fullmatch(r"[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]", f"{database}-1")
    config.check_distinct(stage, PROJECT, LISTED)  # no committed stage's names
    assert config.branch_stage(ref) == stage  # the same every time


def same_branch(a, b) -> bool:
    """Whether two refs name one pull request or one branch (and so one stage)."""

    def key(ref):
        text = str(ref).strip()
        if number := config.PULL_REQUEST.match(text):
            return ("pr", int(number[1]))
        return ("branch", text.removeprefix("refs/heads/"))

    return key(a) == key(b)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(refs, refs)
def test_two_branch_stages_share_no_name(a, b):
    first, second = stage_or_none(a), stage_or_none(b)
    assume(first is not None and second is not None)
    if first == second:
        # (Or 24 bits of SHA-256 agree for two names with one slug: never, in practice.)
        assert same_branch(a, b)
        return
    config.check_distinct(first, PROJECT, [second])
    config.check_distinct(second, PROJECT, [first])


def test_a_stage_that_is_another_branch_stage_plus_a_suffix_is_its_own():
    stage = config.branch_stage("x")
    for suffix in SUFFIXES:
        other = config.branch_stage(stage + suffix)
        config.check_distinct(other, PROJECT, [stage, *LISTED])


# --- settings from the template stage -----------------------------------------------------


def test_a_branch_stage_has_previews_settings_under_its_own_name():
    preview = iam_policy.stage_settings("preview")
    branch = iam_policy.stage_settings("pr-123")
    assert branch["tags"] == {**preview["tags"], "stage": "pr-123"}
    assert branch["aws_environment_variables"]["SITE_NAME"] == "Lambda CMS (pr-123)"
    assert {k: v for k, v in branch.items() if k not in ("tags", "aws_environment_variables")} == {
        k: v for k, v in preview.items() if k not in ("tags", "aws_environment_variables")
    }
    assert "(preview)" not in json.dumps(branch)
    assert iam_policy.stage_settings("preview") == preview  # the template is untouched

    loaded = config.load("pr-123")
    assert loaded == config.Stage(**{**vars(config.load("preview")), "name": "pr-123"})
    assert loaded.keep_data is False
    assert config.names("pr-123").function == "lambda-cms-pr-123"
    stage = config.branch_stage("feature/search")
    assert config.load(stage).names.stack == f"lambda-cms-{stage}-infra"


def test_a_listed_stage_with_a_branch_stages_name_is_refused(tmp_path):
    settings_file = tmp_path / "zappa_settings.json"
    stages_file = tmp_path / "stages.json"
    zappa = json.loads(config.SETTINGS_FILE.read_text())
    stages = json.loads(config.STAGES_FILE.read_text())
    settings_file.write_text(json.dumps({**zappa, "pr-5": {"extends": "dev"}}))
    stages_file.write_text(json.dumps(stages))
    with pytest.raises(config.ConfigError, match="has a branch stage's name"):
        config.load("pr-5", stages_file, settings_file)
    settings_file.write_text(json.dumps(zappa))
    stages_file.write_text(json.dumps({**stages, "pr-5": stages["dev"]}))
    with pytest.raises(config.ConfigError, match="remove or rename the entry"):
        config.load("pr-5", stages_file, settings_file)
    # Without the template stage there is no branch stage, and the message says why.
    del zappa["preview"]
    settings_file.write_text(json.dumps(zappa))
    with pytest.raises(config.ConfigError, match="'preview'"):
        config.load("pr-5", stages_file, settings_file)


def test_an_unknown_stage_names_the_branch_stages_as_a_way_out():
    with pytest.raises(config.ConfigError, match=r"or a branch stage \(pr-<number>"):
        config.load("nowhere")


def test_a_branch_stages_template_and_policy_name_only_its_own_resources():
    from infra import ci, template

    for stage in ("pr-123", config.branch_stage("x" * 80)):
        body = deploy.render(template.build(stage))
        assert "lambda-cms-preview" not in body
        # The one outside name: the CI stack's permissions boundary on every role it makes.
        boundary = ci.boundary_name("lambda-cms")
        assert f"policy/{boundary}" in body
        named = set(re.findall(r"lambda-cms-[a-z0-9-]+", body.replace(boundary, "")))
        assert named
        assert all(n.startswith(f"lambda-cms-{stage}") for n in named), named
        policy = json.dumps(template.role_policy(stage))
        assert f"function:lambda-cms-{stage}" in policy
        assert "preview" not in policy


def test_a_clash_with_a_foreign_stack_tells_a_branch_stage_to_rename_the_branch():
    stage = config.load("pr-3")
    foreign = {"StackName": stage.names.stack, "Tags": tags_of("pr-3")[:1]}
    with pytest.raises(deploy.DeployError, match="comes from its branch: rename the branch"):
        deploy.check_ours(foreign, stage, "stack")
    deploy.check_ours({"StackName": stage.names.stack, "Tags": tags_of("pr-3")}, stage, "stack")


def test_the_command_line_prints_the_stage_of_a_branch():
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "infra.config", *args],
            cwd=config.ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    printed = run("branch-stage", "feature/Log-in")
    assert (printed.returncode, printed.stdout) == (0, config.branch_stage("feature/Log-in") + "\n")
    assert run("branch-stage", "refs/pull/9/merge").stdout == "pr-9\n"
    refused = run("branch-stage", "")
    assert refused.returncode == 1
    assert "pass a pull request number" in refused.stderr
    assert run().returncode == 2


# --- two branch stages side by side on moto ------------------------------------------------

slow = pytest.mark.deploy


def client(service):
    return deploy.client(service)


def make(target, stage, aws):
    result = subprocess.run(
        ["make", target, f"STAGE={stage}"],
        cwd=config.ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL": aws},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    result.output = result.stdout + result.stderr
    return result


# What an alarm of the template needs beside its actions (the stack's topic, by ARN);
# a percentile alarm has ExtendedStatistic where the others have Statistic.
ALARM_KEYS = ("AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic",
              "ExtendedStatistic", "Period", "EvaluationPeriods", "Threshold",
              "ComparisonOperator")  # fmt: skip


def tags_of(stage):
    return [{"Key": "project", "Value": PROJECT}, {"Key": "stage", "Value": stage}]


class ByHand:
    """What moto's CloudFormation skips, made through each service's API from the stage
    template's own properties and tagged as the stack tags: the secrets (values generated
    as GenerateSecretString would), the Aurora cluster (with its RDS-managed secret), the
    alarms; and the function as ``zappa deploy`` makes it (tagged with the stage's tags,
    with the stack's role), with its log group."""

    def __init__(self, stage, outputs):
        from infra import template

        self.stage = stage
        resources = template.build(stage).to_dict()["Resources"]
        props = {name: r.get("Properties", {}) for name, r in resources.items()}
        sm = client("secretsmanager")
        self.secrets = {}
        for name in ("DjangoSecret", "OriginVerifySecret"):
            generate = props[name]["GenerateSecretString"]
            value = sm.get_random_password(
                PasswordLength=generate["PasswordLength"], ExcludePunctuation=True
            )["RandomPassword"]
            arn = sm.create_secret(
                Name=props[name]["Name"],
                SecretString=json.dumps({generate["GenerateStringKey"]: value}),
                Tags=tags_of(stage),
            )["ARN"]
            self.secrets[arn] = value
        cluster = props["DatabaseCluster"]
        made = client("rds").create_db_cluster(
            DBClusterIdentifier=cluster["DBClusterIdentifier"],
            Engine=cluster["Engine"],
            EngineVersion=cluster["EngineVersion"],
            DatabaseName=cluster["DatabaseName"],
            MasterUsername=cluster["MasterUsername"],
            ManageMasterUserPassword=True,
            DBSubnetGroupName=config.Names(PROJECT, stage).database_subnet_group,
            StorageEncrypted=True,
            Tags=tags_of(stage),
        )["DBCluster"]
        self.cluster = made["DBClusterIdentifier"]
        self.cluster_endpoint = made["Endpoint"]
        self.cluster_secret = made["MasterUserSecret"]["SecretArn"]
        cloudwatch = client("cloudwatch")
        self.alarms = []
        for resource in resources.values():
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                alarm = resource["Properties"]
                cloudwatch.put_metric_alarm(
                    **{key: alarm[key] for key in ALARM_KEYS if key in alarm},
                    AlarmActions=[outputs["AlarmTopicArn"]],
                    Tags=tags_of(stage),
                )
                self.alarms.append(alarm["AlarmName"])
        names = config.Names(PROJECT, stage)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def lambda_handler(event, context):\n    return {}\n")
        client("lambda").create_function(
            FunctionName=names.function,
            Runtime="python3.13",
            Role=outputs["FunctionRoleArn"],
            Handler="handler.lambda_handler",
            Code={"ZipFile": code.getvalue()},
            Tags=dict(t.values() for t in tags_of(stage)),
        )
        client("logs").create_log_group(logGroupName=f"/aws/lambda/{names.function}")

    def remove(self):
        """What deleting the stack removes of them: the cluster (DeletionPolicy Delete:
        no final snapshot), the alarms; the secrets scheduled for deletion with Secrets
        Manager's recovery window, as CloudFormation deletes a secret."""
        rds = client("rds")
        rds.delete_db_cluster(DBClusterIdentifier=self.cluster, SkipFinalSnapshot=True)
        for snapshot in rds.describe_db_cluster_snapshots(DBClusterIdentifier=self.cluster)[
            "DBClusterSnapshots"
        ]:  # RDS deletes the automated ones with the cluster; moto keeps them
            rds.delete_db_cluster_snapshot(
                DBClusterSnapshotIdentifier=snapshot["DBClusterSnapshotIdentifier"]
            )
        client("cloudwatch").delete_alarms(AlarmNames=self.alarms)
        for arn in self.secrets:
            client("secretsmanager").delete_secret(SecretId=arn, RecoveryWindowInDays=30)


def inventory() -> dict[str, set[str]]:
    """Everything in the account (and region) of the kinds a stage has, through each
    service's own API: what exists, whoever made it."""
    ec2 = client("ec2")
    vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")}
    in_ours = [{"Name": "vpc-id", "Values": sorted(vpcs)}] if vpcs else None

    def ec2_ids(call, key, id_key, **filters):
        if not vpcs:
            return set()
        return {item[id_key] for item in getattr(ec2, call)(Filters=in_ours, **filters)[key]}

    logs = client("logs").describe_log_groups()["logGroups"]
    secrets = client("secretsmanager").list_secrets()["SecretList"]
    return {
        "bucket": {b["Name"] for b in client("s3").list_buckets()["Buckets"]},
        "queue": {u.rsplit("/", 1)[-1] for u in client("sqs").list_queues().get("QueueUrls", [])},
        "role": {r["RoleName"] for r in client("iam").list_roles()["Roles"]},
        "topic": {t["TopicArn"].rsplit(":", 1)[-1] for t in client("sns").list_topics()["Topics"]},
        "function": {f["FunctionName"] for f in client("lambda").list_functions()["Functions"]},
        "log group": {g["logGroupName"] for g in logs},
        "alarm": {a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]},
        "secret": {s["ARN"] for s in secrets if not s.get("DeletedDate")},
        "database cluster": {
            c["DBClusterIdentifier"] for c in client("rds").describe_db_clusters()["DBClusters"]
        },
        "database instance": {
            i["DBInstanceIdentifier"] for i in client("rds").describe_db_instances()["DBInstances"]
        },
        "database subnet group": {
            g["DBSubnetGroupName"]
            for g in client("rds").describe_db_subnet_groups()["DBSubnetGroups"]
        },
        "stack": {
            s["StackName"]
            for s in client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        },
        "VPC": vpcs,
        "subnet": ec2_ids("describe_subnets", "Subnets", "SubnetId"),
        "security group": {
            g["GroupId"]
            for g in (
                ec2.describe_security_groups(Filters=in_ours)["SecurityGroups"] if vpcs else []
            )
            if g["GroupName"] != "default"
        },
        "VPC endpoint": ec2_ids("describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId"),
    }


def expected(stage, outputs, made: ByHand) -> dict[str, set[str]]:
    """The stage's own resources of each kind: by its names (infra.config.Names), and for
    the network, what is in its VPC (its subnets' VPC, from EC2)."""
    names = config.Names(PROJECT, stage)
    ec2 = client("ec2")
    subnets = set(outputs["SubnetIds"].split(","))
    [vpc] = {s["VpcId"] for s in ec2.describe_subnets(SubnetIds=sorted(subnets))["Subnets"]}
    mine = [{"Name": "vpc-id", "Values": [vpc]}]
    groups = ec2.describe_security_groups(Filters=mine)["SecurityGroups"]
    endpoints = ec2.describe_vpc_endpoints(Filters=mine)["VpcEndpoints"]
    return {
        "bucket": {names.media_bucket(ACCOUNT), names.deployment_bucket(ACCOUNT)},
        "queue": {names.dead_letter_queue},
        "role": {names.role, names.purge_role},
        "topic": {names.alarm_topic},
        "function": {names.function, names.purge_function},
        "log group": {f"/aws/lambda/{names.function}", f"/aws/lambda/{names.purge_function}"},
        "alarm": set(made.alarms),
        "secret": {*made.secrets, made.cluster_secret},
        "database cluster": {names.database},
        "database instance": {f"{names.database}-1"},
        "database subnet group": {names.database_subnet_group},
        "stack": {names.stack},
        "VPC": {vpc},
        "subnet": subnets,
        "security group": {g["GroupId"] for g in groups if g["GroupName"] != "default"},
        "VPC endpoint": {e["VpcEndpointId"] for e in endpoints},
    }


def tagged(stage) -> list[str]:
    tagging = client("resourcegroupstaggingapi")
    filters = [{"Key": t["Key"], "Values": [t["Value"]]} for t in tags_of(stage)]
    return [m["ResourceARN"] for m in tagging.get_resources(TagFilters=filters)[
        "ResourceTagMappingList"
    ]]  # fmt: skip


def queue_depth(name) -> int:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def media_keys(stage) -> list[str]:
    listed = client("s3").list_objects_v2(Bucket=config.Names(PROJECT, stage).media_bucket(ACCOUNT))
    return [o["Key"] for o in listed.get("Contents", [])]


@slow
def test_two_branch_stages_side_by_side_share_nothing_and_one_goes_alone(infra, capsys):
    first = "pr-101"
    second = config.branch_stage("feature/Search box")

    # make infra for one (the Makefile path), the deploy's function for the other.
    made_first = make("infra", first, infra)
    assert made_first.returncode == 0, made_first.output[-3000:]
    outputs = {first: deploy.stack_outputs(first, complete=False)}
    outputs[second] = deploy.apply(second)
    for stage in (first, second):
        [stack] = client("cloudformation").describe_stacks(
            StackName=config.Names(PROJECT, stage).stack
        )["Stacks"]
        assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {"project": PROJECT, "stage": stage}
        assert not stack.get("EnableTerminationProtection")  # keep_data off: nothing to guard
        assert outputs[stage]["Stage"] == stage
    by_hand = {stage: ByHand(stage, outputs[stage]) for stage in (first, second)}
    own = {stage: expected(stage, outputs[stage], by_hand[stage]) for stage in (first, second)}

    # Everything in the account is one stage's or the other's, and none is both's.
    everything = inventory()
    for kind, found in everything.items():
        assert own[first][kind], kind  # each stage has its own of every kind
        assert not own[first][kind] & own[second][kind], kind
        assert found == own[first][kind] | own[second][kind], kind
    assert len(own[first]["security group"]) == len(own[second]["security group"]) == 3
    assert len(own[first]["VPC endpoint"]) == len(own[second]["VPC endpoint"]) == 3
    # Every alarm the template has (infra.template.ALARMS): the platform's six and the
    # site's own metrics' (cms.metrics).
    from infra import template

    assert len(own[first]["alarm"]) == len(own[second]["alarm"]) == len(template.ALARMS)

    # No shared data: each bucket, queue, secret and database is the stage's alone.
    s3 = client("s3")
    for stage in (first, second):
        s3.put_object(Bucket=outputs[stage]["MediaBucket"], Key=f"media/{stage}.txt", Body=stage)
    assert media_keys(first) == [f"media/{first}.txt"]
    assert media_keys(second) == [f"media/{second}.txt"]
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=config.Names(PROJECT, first).dead_letter_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a failed task of the first stage")
    assert queue_depth(config.Names(PROJECT, first).dead_letter_queue) == 1
    assert queue_depth(config.Names(PROJECT, second).dead_letter_queue) == 0
    values = [v for made in by_hand.values() for v in made.secrets.values()]
    assert len(set(values)) == 4
    assert by_hand[first].cluster_endpoint != by_hand[second].cluster_endpoint
    before = inventory()

    # make destroy for the first: it goes entirely, and the second is as it was.
    by_hand[first].remove()
    destroyed = make("destroy", first, infra)
    assert destroyed.returncode == 0, destroyed.output[-3000:]
    assert f"$ zappa undeploy {first} --yes --remove-logs" in destroyed.output
    assert f"lambda-cms-{first}-media-{ACCOUNT}: emptied (1 object versions)" in destroyed.output
    assert "deleted now, not after the recovery window" in destroyed.output
    assert f"nothing tagged project=lambda-cms, stage={first} remains" in destroyed.output
    assert tagged(first) == []
    after = inventory()
    for kind in after:
        assert after[kind] == own[second][kind] == before[kind] - own[first][kind], kind
    # Its secrets' names are free at once: the same stage can be made again.
    sm = client("secretsmanager")
    for name in (config.Names(PROJECT, first).django_secret,
                 config.Names(PROJECT, first).origin_verify_secret):  # fmt: skip
        with pytest.raises(sm.exceptions.ResourceNotFoundException):
            sm.describe_secret(SecretId=name)
    # The second's data is untouched.
    assert media_keys(second) == [f"media/{second}.txt"]
    assert queue_depth(config.Names(PROJECT, second).dead_letter_queue) == 0
    for arn, value in by_hand[second].secrets.items():
        secret = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
        assert list(secret.values()) == [value]
    assert deploy.stack_outputs(second, complete=False) == outputs[second]
    assert tagged(second)  # its stack (moto tags nothing else from the stack's tags)

    # And the second goes the same way (a br- stage, through infra.deploy).
    by_hand[second].remove()
    capsys.readouterr()
    assert deploy.destroy(second) == {"kept": [], "remaining": []}
    assert tagged(second) == []
    assert {kind: found for kind, found in inventory().items() if found} == {}


@slow
def test_a_branch_stage_made_again_after_destroy_starts_afresh(infra):
    """A pull request closed (make destroy) and reopened (make infra): its names are free."""
    stage = "pr-7"
    outputs = deploy.apply(stage)
    made = ByHand(stage, outputs)
    client("s3").put_object(Bucket=outputs["MediaBucket"], Key="media/old.txt", Body=b"old")
    made.remove()
    deploy.destroy(stage)
    again = deploy.apply(stage)
    assert again["MediaBucket"] == outputs["MediaBucket"]
    assert media_keys(stage) == []
    ByHand(stage, again)  # the secrets' names are free: creating them again works
