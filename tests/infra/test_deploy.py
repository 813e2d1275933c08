"""make infra / make destroy (infra/deploy.py) against the moto server, over real HTTP.

What moto cannot answer the way AWS does (expired tokens, another account's bucket,
Replacement in a change set) comes from tests/infra/aws_stub.py: a loopback endpoint in
front of moto that sends AWS's own response shapes for those calls and forwards the rest,
so the code under test and boto3's parsing run unchanged. The stacks are the stand-in
template (tests/infra/stand_in.py: why) unless a test says otherwise; every effect is
checked through the service's own API, never through the stack's status alone.

The bad-input tests (each stops before any change) run with ``make test``; those that
create and delete stacks are marked ``deploy`` (``make test-slow``).
"""

import dataclasses
import json
import re

import pytest

from cms import aws as aws_adapter
from infra import config, deploy
from tests.infra import stand_in
from tests.infra.aws_stub import AwsStub

# Tests that create stacks take seconds each against moto: the slow tier (make test-slow).
slow = pytest.mark.deploy

STAGE = "emulator"
ACCOUNT = "123456789012"  # moto's


@pytest.fixture
def stub(infra, monkeypatch):
    """AWS_ENDPOINT_URL at a stub in front of moto (answers added by each test)."""
    server = AwsStub(infra)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    aws_adapter.client.cache_clear()
    yield server
    server.stop()


def client(service, region=None):
    return deploy.client(service, region)


def settings(**changes) -> config.Stage:
    return dataclasses.replace(config.load(STAGE), **changes)


def names():
    return settings().names


BUCKET = f"lambda-cms-{STAGE}-media-{ACCOUNT}"


def apply(template=None, **changes):
    return deploy.apply(STAGE, settings=settings(**changes), template=template or stand_in.module())


def stacks(region=None):
    """Stacks that are not deleted, by name: status."""
    listed = client("cloudformation", region).list_stacks()["StackSummaries"]
    return {
        s["StackName"]: s["StackStatus"] for s in listed if s["StackStatus"] != "DELETE_COMPLETE"
    }


def change_sets():
    """The stack's change sets not executed (AWS removes a stack's change sets once one is
    executed; moto keeps them, marked EXECUTE_COMPLETE)."""
    try:
        listed = client("cloudformation").list_change_sets(StackName=names().stack)["Summaries"]
    except client("cloudformation").exceptions.ClientError:  # no stack: no change sets
        return []
    return [c for c in listed if c.get("ExecutionStatus") != "EXECUTE_COMPLETE"]


def template_of(stack_name):
    body = client("cloudformation").get_template(StackName=stack_name)["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))


def bucket_exists(name=BUCKET) -> bool:
    return name in [b["Name"] for b in client("s3").list_buckets()["Buckets"]]


def nothing_changed():
    assert stacks() == {}
    assert stacks(deploy.CERTIFICATE_REGION) == {}
    assert not bucket_exists()
    assert client("sqs").list_queues().get("QueueUrls", []) == []


# --- 1. credentials ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("ExpiredToken", "AWS credentials have expired"),
        ("InvalidClientTokenId", "does not recognise"),
    ],
)
def test_refused_credentials_stop_before_any_change_and_say_the_fix(stub, capsys, code, said):
    stub.sts_error(code)
    with pytest.raises(deploy.DeployError) as stopped:
        apply()
    message = str(stopped.value)
    assert said in message
    assert code in message
    assert f"run make infra STAGE={STAGE} again" in message
    # The first call was STS and nothing after it went anywhere.
    assert {r.service for r in stub.seen} == {"sts"}
    nothing_changed()


def test_the_command_line_exits_1_with_the_message_on_stderr(stub):
    import os
    import subprocess
    import sys

    stub.sts_error("ExpiredToken")
    for command in (["apply", STAGE], ["destroy", STAGE, "--delete-data"]):
        result = subprocess.run(
            [sys.executable, "-m", "infra", *command],
            cwd=config.ROOT,
            env={**os.environ, "AWS_ENDPOINT_URL": stub.url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "[infra] STOPPED: AWS credentials have expired (ExpiredToken)" in result.stderr
        assert "Traceback" not in result.stderr
    nothing_changed()


def test_missing_credentials_stop_before_any_call(infra, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(deploy.DeployError, match=r"No AWS credentials found: sign in .* again"):
        apply()


def test_destroy_checks_credentials_first_too(stub):
    stub.sts_error("ExpiredToken")
    with pytest.raises(deploy.DeployError, match=f"run make destroy STAGE={STAGE} again"):
        deploy.destroy(STAGE, settings=settings())


# --- 2. the stage -----------------------------------------------------------------------


def test_an_invalid_stage_stops_with_its_fix(infra):
    for run in (deploy.apply, deploy.destroy, deploy.stack_outputs):
        with pytest.raises(deploy.DeployError, match=r"'nowhere' is not in zappa_settings\.json"):
            run("nowhere")


def test_a_stack_of_the_stage_name_tagged_for_another_stage_is_a_clash(infra):
    cf = client("cloudformation")
    foreign = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    cf.create_stack(
        StackName=names().stack,
        TemplateBody=foreign,
        Tags=[{"Key": "project", "Value": "someone-else"}, {"Key": "stage", "Value": STAGE}],
    )
    for run in (apply, lambda: deploy.destroy(STAGE, settings=settings())):
        with pytest.raises(deploy.DeployError) as stopped:
            run()
        assert "Stage name clash" in str(stopped.value)
        assert "project='someone-else'" in str(stopped.value)
        assert "Choose another stage name" in str(stopped.value)
    # Untouched: same template, no change set, not deleted.
    assert template_of(names().stack) == json.loads(foreign)
    assert change_sets() == []
    assert stacks() == {names().stack: "CREATE_COMPLETE"}
    assert not bucket_exists()


@pytest.mark.parametrize(
    ("status", "apply_says", "destroy_goes_on"),
    [
        ("UPDATE_IN_PROGRESS", "is busy (UPDATE_IN_PROGRESS): wait until", False),
        ("ROLLBACK_COMPLETE", "remove it with make destroy STAGE=emulator", True),
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback", True),
    ],
)
def test_a_stack_cloudformation_is_busy_with_or_cannot_update_stops_the_apply(
    stub, status, apply_says, destroy_goes_on
):
    from tests.infra.aws_stub import report_stack_status

    client("cloudformation").create_stack(
        StackName=names().stack,
        TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
        Tags=deploy.stage_tags(settings()),
    )
    report_stack_status(stub, status)
    with pytest.raises(deploy.DeployError, match=re.escape(apply_says)):
        apply()
    assert not [r for r in stub.seen if r.action in ("CreateChangeSet", "DeleteStack")]
    if destroy_goes_on:
        return  # (deleting it is the fix; moto's answers would not settle as a real one's)
    with pytest.raises(deploy.DeployError, match=re.escape(f"is busy ({status})")):
        deploy.destroy(STAGE, settings=settings())
    assert not [r for r in stub.seen if r.action == "DeleteStack"]


def test_a_media_bucket_owned_by_another_account_stops_the_apply(stub):
    # Moto answers HeadBucket 200 for another account's bucket (it keeps buckets per
    # account without refusing the others), so the stub answers as S3 does: 403.
    stub.bucket_owned_elsewhere(BUCKET)
    with pytest.raises(deploy.DeployError) as stopped:
        apply()
    assert "belongs to another AWS account" in str(stopped.value)
    assert "Nothing was changed" in str(stopped.value)
    assert not [r for r in stub.seen if r.action == "CreateChangeSet"]
    nothing_changed()


def test_a_bucket_kept_by_an_earlier_destroy_stops_the_apply_with_both_ways_out(infra):
    client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    with pytest.raises(deploy.DeployError) as stopped:
        apply()
    message = str(stopped.value)
    assert (
        "already exists in this account but no lambda-cms-emulator-infra stack holds it" in message
    )
    assert "DELETE_DATA=1" in message
    assert "import" in message
    assert stacks() == {}


# --- 3. the domain ----------------------------------------------------------------------


def test_a_configured_hosted_zone_that_does_not_exist_stops_before_any_change(infra):
    client("route53").create_hosted_zone(Name="example.org", CallerReference="other")
    with pytest.raises(deploy.DeployError) as stopped:
        apply(domain="www.example.com", hosted_zone="example.com")
    assert "hosted zone example.com" in str(stopped.value)
    assert "Create it" in str(stopped.value)
    nothing_changed()


def test_a_zone_that_does_not_hold_the_domain_stops_in_config_and_in_route53(infra, tmp_path):
    entry = json.loads(config.STAGES_FILE.read_text())
    entry[STAGE] |= {"domain": "www.example.com", "hosted_zone": "example.org"}
    (tmp_path / "stages.json").write_text(json.dumps(entry))
    with pytest.raises(config.ConfigError, match="is not in hosted_zone"):
        config.load(STAGE, stages_file=tmp_path / "stages.json")
    # And when the settings got past that check, Route 53's answer stops it too.
    client("route53").create_hosted_zone(Name="example.org", CallerReference="org")
    with pytest.raises(deploy.DeployError, match=r"does not contain www\.example\.com"):
        apply(domain="www.example.com", hosted_zone="example.org")
    nothing_changed()


def test_the_longest_zone_holding_the_domain_is_found_without_configuration(infra):
    r53 = client("route53")
    for name in ("example.com", "site.example.com", "other.example.com", "le.com"):
        r53.create_hosted_zone(Name=name, CallerReference=name)
    zone = deploy.find_hosted_zone(settings(domain="www.site.example.com", hosted_zone=None))
    assert zone["Name"] == "site.example.com."
    assert deploy.find_hosted_zone(settings(domain="www.example.net", hosted_zone=None)) is None


@slow
def test_without_a_zone_the_validation_records_are_printed_and_the_apply_stops(infra, capsys):
    domain = "www.example.net"
    # Moto's CloudFormation makes no ACM certificate, so the one the certificate stack
    # would request is requested through ACM's own API, as CloudFormation would.
    acm = client("acm", deploy.CERTIFICATE_REGION)
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
    [option] = acm.describe_certificate(CertificateArn=arn)["Certificate"][
        "DomainValidationOptions"
    ]
    record = option["ResourceRecord"]

    for _ in range(2):  # running again resumes: the same records, still stopped
        with pytest.raises(deploy.DeployError) as stopped:
            apply(domain=domain, hosted_zone=None)
        assert "create these records, then run make infra STAGE=emulator again" in str(
            stopped.value
        )
        printed = capsys.readouterr().out
        assert f"{record['Name']}  {record['Type']}  {record['Value']}" in printed
        assert "no Route 53 zone in this account holds it" in printed
    # The certificate stack is there (in us-east-1), the main stack is not.
    assert list(stacks(deploy.CERTIFICATE_REGION)) == [names().certificate_stack]
    assert stacks() == {}


@slow
def test_with_a_zone_the_certificate_stack_validates_through_it_and_feeds_the_main_stack(infra):
    zone = client("route53").create_hosted_zone(Name="example.com", CallerReference="c")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    apply(
        template=stand_in.module(certificate=stand_in.issued_certificate),
        domain="www.example.com",
        hosted_zone=None,
    )
    cf_us = client("cloudformation", deploy.CERTIFICATE_REGION)
    [certificate] = cf_us.describe_stacks(StackName=names().certificate_stack)["Stacks"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in certificate["Parameters"]} == {
        "HostedZoneId": zone_id
    }
    assert {t["Key"]: t["Value"] for t in certificate["Tags"]} == {
        "project": "lambda-cms",
        "stage": STAGE,
    }
    [stack] = client("cloudformation").describe_stacks(StackName=names().stack)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["CertificateArn"] == stand_in.CERTIFICATE_ARN
    assert parameters["HostedZoneId"] == zone_id
    # destroy removes the certificate stack too.
    deploy.destroy(STAGE, settings=settings(domain="www.example.com"), template=stand_in.module())
    assert stacks(deploy.CERTIFICATE_REGION) == {}


# --- 4. the change set ------------------------------------------------------------------


@slow
def test_apply_creates_the_stack_then_reports_no_changes(infra, capsys):
    outputs = apply()
    printed = capsys.readouterr().out
    assert "Change set for lambda-cms-emulator-infra (new stack): 4 change(s)" in printed
    assert "Add      MediaBucket" in printed
    assert outputs["MediaBucket"] == BUCKET
    assert "Missing outputs (make deploy needs them): DistributionId" in printed

    [stack] = client("cloudformation").describe_stacks(StackName=names().stack)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {
        "project": "lambda-cms",
        "stage": STAGE,
    }
    assert stack["EnableTerminationProtection"] is True  # the stage keeps its data
    # Each resource, through its own service.
    assert bucket_exists()
    assert client("sqs").get_queue_url(QueueName=names().dead_letter_queue)["QueueUrl"]
    assert (
        client("iam").get_role(RoleName=names().role)["Role"]["Arn"] == outputs["FunctionRoleArn"]
    )
    [db] = client("rds").describe_db_instances(DBInstanceIdentifier=names().database)["DBInstances"]
    assert db["DBInstanceClass"] == "db.t4g.micro"

    again = apply()
    printed = capsys.readouterr().out
    assert "lambda-cms-emulator-infra: no changes (the change set is deleted)" in printed
    assert again == outputs
    assert change_sets() == []


@slow
def test_an_update_keeps_the_previous_parameter_values(infra):
    apply()
    assert deploy.set_api_domain(
        STAGE, "abc.execute-api.eu-west-1.amazonaws.com", settings=settings()
    )
    apply(template=stand_in.module(bucket_versioning="Suspended"))
    [stack] = client("cloudformation").describe_stacks(StackName=names().stack)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["ApiDomain"] == "abc.execute-api.eu-west-1.amazonaws.com"
    versioning = template_of(names().stack)["Resources"]["MediaBucket"]["Properties"][
        "VersioningConfiguration"
    ]
    assert versioning == {"Status": "Suspended"}


@slow
@pytest.mark.parametrize(
    ("logical_id", "replacement", "template", "kind"),
    [
        ("MediaBucket", "True", stand_in.module(bucket_versioning="Suspended"), "the media bucket"),
        (
            "DatabaseInstance",
            "Conditional",
            stand_in.module(database_class="db.t4g.small"),
            "the database instance",
        ),
    ],
)
def test_a_change_set_replacing_stored_data_is_refused_and_changes_nothing(
    stub, capsys, monkeypatch, logical_id, replacement, template, kind
):
    apply()
    before = template_of(names().stack)
    # Moto's DescribeChangeSet has no Replacement; AWS's does (the stub adds it, with the
    # Details AWS gives for the property that requires recreation).
    stub.replacement_in_change_sets(logical_id, replacement, "SomeProperty")

    with pytest.raises(deploy.DeployError) as stopped:
        apply(template=template)
    message = str(stopped.value)
    assert f"{logical_id} ({kind}" in message
    assert "Nothing was changed (the change set is deleted)" in message
    assert f"ALLOW_REPLACE={logical_id} make infra STAGE={STAGE}" in message
    assert "revert the template change" in message
    printed = capsys.readouterr().out
    assert f"replacement: {replacement} (because of SomeProperty)" in printed
    assert change_sets() == []
    assert template_of(names().stack) == before
    assert not [
        r for r in stub.seen if r.action == "ExecuteChangeSet" and "infra-" in r.body.decode()
    ][1:]

    # Allowed explicitly (after a backup): applied.
    monkeypatch.setenv("ALLOW_REPLACE", logical_id)
    apply(template=template)
    assert template_of(names().stack) != before


@slow
def test_a_failed_update_stops_with_the_reasons_from_the_stack_events(stub):
    from tests.infra.aws_stub import fail_updates

    apply()
    reason = (
        'Resource handler returned message: "Invalid request provided: VersioningConfiguration"'
    )
    fail_updates(
        stub,
        [{"logical": "MediaBucket", "kind": "AWS::S3::Bucket", "status": "UPDATE_FAILED",
          "reason": reason}],
    )  # fmt: skip
    with pytest.raises(deploy.DeployError) as stopped:
        apply(template=stand_in.module(bucket_versioning="Suspended"))
    message = str(stopped.value)
    assert "update failed (UPDATE_ROLLBACK_COMPLETE)" in message
    assert "MediaBucket (AWS::S3::Bucket): UPDATE_FAILED: Resource handler returned" in message
    assert "Fix the cause above and run the command again" in message


def test_the_guard_reads_aws_shaped_changes():
    """The shapes of the CloudFormation API reference (DescribeChangeSet, ResourceChange)."""

    def change(action, logical, kind, replacement=None, **more):
        rc = {"Action": action, "LogicalResourceId": logical, "ResourceType": kind, **more}
        if replacement:
            rc["Replacement"] = replacement
        return {"Type": "Resource", "ResourceChange": rc}

    changes = [
        change("Modify", "MediaBucket", "AWS::S3::Bucket", "True"),
        change("Modify", "DatabaseCluster", "AWS::RDS::DBCluster", "Conditional"),
        change("Remove", "DjangoSecret", "AWS::SecretsManager::Secret"),
        change(
            "Modify", "PrivateSubnetA", "AWS::EC2::Subnet", "False", PolicyAction="ReplaceAndDelete"
        ),
        change("Modify", "Vpc", "AWS::EC2::VPC", "False"),
        change("Modify", "Distribution", "AWS::CloudFront::Distribution", "True"),
        change("Add", "NewBucket", "AWS::S3::Bucket"),
    ]
    refused = deploy.protected_changes(changes)
    assert [line.split(" ", 1)[0] for line in refused] == [
        "MediaBucket",
        "DatabaseCluster",
        "DjangoSecret",
        "PrivateSubnetA",
    ]
    assert "possibly replaced (Replacement: Conditional)" in refused[1]
    assert "would be removed" in refused[2]
    assert (
        deploy.protected_changes(
            changes, {"MediaBucket", "DatabaseCluster", "DjangoSecret", "PrivateSubnetA"}
        )
        == []
    )


def test_every_stage_template_fits_a_request_body():
    from infra import template

    for stage in config.stage_list():
        loaded = config.load(stage)
        assert deploy.render(template.build(loaded))
        assert deploy.render(template.build(template.with_domain(loaded)))
        assert deploy.render(template.build_certificate(template.with_domain(loaded)))


# --- outputs ----------------------------------------------------------------------------


@slow
def test_stack_outputs_name_what_is_missing_and_take_supplied_ones(infra, monkeypatch, tmp_path):
    with pytest.raises(
        deploy.DeployError, match=r"does not exist in eu-west-1: create it with make infra"
    ):
        deploy.stack_outputs(STAGE)
    apply()
    with pytest.raises(deploy.DeployError) as stopped:
        deploy.stack_outputs(STAGE)
    assert "lacks output(s) DistributionId, DistributionDomain" in str(stopped.value)
    assert "INFRA_OUTPUTS" in str(stopped.value)

    has = deploy.stack_outputs(STAGE, complete=False)
    supplied = {key: f"supplied-{key}" for key in deploy.OUTPUT_KEYS if key not in has}
    (tmp_path / "outputs.json").write_text(json.dumps({**supplied, "MediaBucket": BUCKET}))
    monkeypatch.setenv("INFRA_OUTPUTS", str(tmp_path / "outputs.json"))
    outputs = deploy.stack_outputs(STAGE)
    assert outputs["MediaBucket"] == BUCKET  # the stack's own win
    assert outputs["DistributionId"] == "supplied-DistributionId"
    # A supplied value that contradicts the stack is refused, not quietly dropped.
    (tmp_path / "outputs.json").write_text(json.dumps({**supplied, "MediaBucket": "other"}))
    with pytest.raises(deploy.DeployError, match="INFRA_OUTPUTS gives MediaBucket"):
        deploy.stack_outputs(STAGE)


@slow
def test_set_api_domain_updates_only_that_parameter_and_is_a_no_op_when_equal(infra):
    apply()
    cf = client("cloudformation")
    template_before = template_of(names().stack)
    domain = "abc123.execute-api.eu-west-1.amazonaws.com"
    assert deploy.set_api_domain(STAGE, domain) is True
    assert deploy.stack_outputs(STAGE, complete=False)["ApiDomainSeen"] == domain
    assert template_of(names().stack) == template_before
    events = len(cf.describe_stack_events(StackName=names().stack)["StackEvents"])
    assert deploy.set_api_domain(STAGE, domain) is False
    assert len(cf.describe_stack_events(StackName=names().stack)["StackEvents"]) == events


@slow
def test_outputs_command_prints_json_or_stops_with_the_reason(infra, capsys, monkeypatch, tmp_path):
    assert deploy.main(["outputs", STAGE, "--json"]) == 1
    assert "make infra STAGE=emulator" in capsys.readouterr().err
    apply()
    capsys.readouterr()
    has = deploy.stack_outputs(STAGE, complete=False)
    lacking = dict.fromkeys((k for k in deploy.OUTPUT_KEYS if k not in has), "x")
    (tmp_path / "o.json").write_text(json.dumps(lacking))
    monkeypatch.setenv("INFRA_OUTPUTS", str(tmp_path / "o.json"))
    assert deploy.main(["outputs", STAGE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["MediaBucket"] == BUCKET


# --- destroy ----------------------------------------------------------------------------


@slow
def test_destroy_removes_the_stage_and_reports_the_kept_data(infra, capsys):
    apply()
    rds = client("rds")
    # As the template has it (moto's CloudFormation leaves DeletionProtection out).
    rds.modify_db_instance(DBInstanceIdentifier=names().database, DeletionProtection=True)
    # Moto deletes the database (DeletionPolicy Snapshot) without the final snapshot AWS
    # would take: the test takes it.
    rds.create_db_snapshot(DBInstanceIdentifier=names().database, DBSnapshotIdentifier="final")
    client("s3").put_object(Bucket=BUCKET, Key="media/kept.txt", Body=b"kept")
    result = deploy.destroy(STAGE, settings=settings(), template=stand_in.module())
    printed = capsys.readouterr().out
    assert "termination protection off" in printed
    # Deletion protection would make the stack's deletion fail on AWS; the snapshot keeps
    # the data instead.
    assert f"{names().database}: deletion protection off" in printed
    assert stacks() == {}
    assert client("sqs").list_queues().get("QueueUrls", []) == []
    assert [r["RoleName"] for r in client("iam").list_roles()["Roles"]] == []
    assert rds.describe_db_instances()["DBInstances"] == []
    # Kept, and said so with how to delete them.
    assert bucket_exists()
    assert client("s3").get_object(Bucket=BUCKET, Key="media/kept.txt")["Body"].read() == b"kept"
    assert [line.split(":")[0] for line in result["kept"]] == [
        "database snapshot final (restore it into a new database to get the data back)",
        f"media bucket {BUCKET}",
    ]
    assert f"aws s3 rb s3://{BUCKET} --force" in printed
    assert "aws rds delete-db-snapshot --db-snapshot-identifier final" in printed
    assert "make destroy STAGE=emulator DELETE_DATA=1" in printed
    assert result["remaining"] == []

    # Later, DELETE_DATA removes what was kept.
    deploy.destroy(STAGE, delete_data=True, settings=settings(), template=stand_in.module())
    assert not bucket_exists()
    assert rds.describe_db_snapshots()["DBSnapshots"] == []


@slow
def test_destroy_with_delete_data_empties_every_version_and_deletes_the_data(infra, capsys):
    apply()
    s3 = client("s3")
    # (Moto's CloudFormation leaves out the bucket's VersioningConfiguration.)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=BUCKET, Key="media/a.txt", Body=body)  # versioned: 2 versions
    s3.delete_object(Bucket=BUCKET, Key="media/a.txt")  # and a delete marker
    result = deploy.destroy(
        STAGE, delete_data=True, settings=settings(), template=stand_in.module()
    )
    printed = capsys.readouterr().out
    assert "data no longer kept (DELETE_DATA)" in printed
    assert f"{BUCKET}: emptied (3 object versions)" in printed
    assert not bucket_exists()
    assert client("rds").describe_db_instances()["DBInstances"] == []
    assert result == {"kept": [], "remaining": []}


@slow
def test_destroy_fails_when_something_of_the_stage_remains(infra):
    apply()
    sns = client("sns")
    # Something made outside the stack, tagged with the stage: not data, so a failure.
    topic = sns.create_topic(
        Name="stray",
        Tags=[{"Key": "project", "Value": "lambda-cms"}, {"Key": "stage", "Value": STAGE}],
    )["TopicArn"]
    # And another stage's resource with a longer name is none of this one's business.
    client("logs").create_log_group(logGroupName=f"/aws/lambda/{names().function}2")
    client("logs").create_log_group(logGroupName=f"/aws/lambda/{names().function}")
    with pytest.raises(deploy.DeployError) as stopped:
        deploy.destroy(STAGE, settings=settings(), template=stand_in.module())
    message = str(stopped.value)
    assert "Stage emulator is not gone" in message
    assert topic in message
    assert (
        f"/aws/lambda/{names().function} " in message
        or f":/aws/lambda/{names().function}:" in message
    )
    assert f"{names().function}2" not in message
    assert stacks() == {}


def test_destroy_of_a_stage_that_was_never_made_says_nothing_remains(infra, capsys):
    assert deploy.destroy(STAGE, settings=settings()) == {"kept": [], "remaining": []}
    assert "nothing tagged project=lambda-cms, stage=emulator remains" in capsys.readouterr().out


@slow
def test_destroy_undeploys_the_function_with_zappa_first(infra, capsys):
    """The real Zappa CLI from the runtime-only build (cms.lambda_build), as make destroy
    runs it: the function and its log group go before the stack."""
    from tests.aws_fixtures import lambda_function

    apply()
    function = names().function
    lambda_function(name=function)
    client("logs").create_log_group(logGroupName=f"/aws/lambda/{function}")
    result = deploy.destroy(STAGE, settings=settings(), template=stand_in.module())
    printed = capsys.readouterr().out
    assert f"$ zappa undeploy {STAGE} --yes --remove-logs" in printed
    assert printed.index("zappa undeploy") < printed.index(f"{names().stack}: deleting")
    assert [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]] == []
    groups = client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{function}")
    assert groups["logGroups"] == []
    assert result["remaining"] == []


@slow
def test_destroy_of_a_stage_that_keeps_no_data_leaves_none_and_frees_its_secret_names(
    infra, capsys
):
    """keep_data off (preview, every branch stage): no DELETE_DATA needed, nothing kept."""
    apply(keep_data=False)
    client("s3").put_object(Bucket=BUCKET, Key="media/a.txt", Body=b"a")
    # The secrets as CloudFormation leaves them once it deletes the stack (moto's stack
    # makes none): scheduled for deletion, their names taken for the recovery window.
    sm = client("secretsmanager")
    for name in (names().django_secret, names().origin_verify_secret):
        arn = sm.create_secret(Name=name, SecretString="{}", Tags=deploy.stage_tags(settings()))
        sm.delete_secret(SecretId=arn["ARN"], RecoveryWindowInDays=7)
    result = deploy.destroy(STAGE, settings=settings(keep_data=False), template=stand_in.module())
    printed = capsys.readouterr().out
    assert result == {"kept": [], "remaining": []}
    assert f"{BUCKET}: emptied (1 object versions)" in printed
    assert "data no longer kept (DELETE_DATA)" not in printed  # no template change needed
    assert not bucket_exists()
    assert client("rds").describe_db_instances()["DBInstances"] == []
    for name in (names().django_secret, names().origin_verify_secret):
        with pytest.raises(sm.exceptions.ResourceNotFoundException):
            sm.describe_secret(SecretId=name)
        assert f"{name}: deleted now, not after the recovery window" in printed


def test_a_branch_stage_loads_and_a_stage_that_keeps_data_keeps_its_scheduled_secrets(infra):
    """The branch stage is deploy's like any other (load_stage); a stage that keeps data
    leaves a deleted secret to its recovery window (it can still be restored)."""
    assert deploy.load_stage("pr-9").names.stack == "lambda-cms-pr-9-infra"
    sm = client("secretsmanager")
    arn = sm.create_secret(Name=names().django_secret, SecretString="{}")["ARN"]
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    deploy.destroy(STAGE, settings=settings())
    assert sm.describe_secret(SecretId=arn)["DeletedDate"]
