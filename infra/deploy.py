"""``make infra``, ``make destroy`` and the stack's outputs, with boto3.

    python -m infra apply STAGE                  # make infra STAGE=…
    python -m infra destroy STAGE [--delete-data] # make destroy STAGE=… [DELETE_DATA=1]
    python -m infra outputs STAGE [--json]
    python -m infra.deploy set-api-domain STAGE DOMAIN

``apply`` checks everything it can before it changes anything, in this order, and stops
at the first problem with a message naming it and the fix: the credentials (STS), the
stage (infra.config; a stack or media bucket of that name that is not this stage's), the
domain (its Route 53 zone, then the certificate stack in us-east-1). Then it previews the
main stack's change set and refuses one that would replace or remove stored data (the
media bucket, the database, the secrets, the network holding the database) unless
``ALLOW_REPLACE=LogicalId[,…]`` says so; a change set is executed only after that.

``destroy`` undeploys the function (Zappa), deletes the stack and the certificate stack,
and then proves that nothing tagged with the stage is left, other than the data it keeps
unless asked (``--delete-data``). A stage with ``keep_data`` off (a branch stage, made
from ``preview``: docs/branch-stages.md) keeps nothing: its media bucket is emptied so
that the stack can delete it, and its secrets are deleted at once rather than after
Secrets Manager's recovery window, so that the same stage can be made again.

Runs from the project's virtualenv (boto3 and troposphere are runtime requirements) or
the build's (cms.lambda_build calls ``python -m infra outputs STAGE --json`` there);
boto3 is imported on first use so that importing this module needs only the standard
library. AWS_ENDPOINT_URL points boto3 at an emulator (tests: moto on loopback).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import secrets
import sys
import time
from pathlib import Path

from infra import config

# The stack's outputs (docs/deploy.md); cms.lambda_build turns them into zappa settings.
OUTPUT_KEYS = config.OUTPUT_KEYS
# CloudFront only uses certificates from this region.
CERTIFICATE_REGION = "us-east-1"
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
# Resources whose replacement or removal loses what the stage stores, by type: every one
# of them in the template holds data, or holds the database (a new VPC or subnet means a
# new database). Replacement "Conditional" counts: CloudFormation decides at run time.
PROTECTED_TYPES = {
    "AWS::S3::Bucket": "the media bucket",
    "AWS::RDS::DBCluster": "the database cluster",
    "AWS::RDS::DBInstance": "the database instance",
    "AWS::RDS::DBSubnetGroup": "the database's subnet group",
    "AWS::SecretsManager::Secret": "a secret",
    "AWS::EC2::VPC": "the VPC holding the database",
    "AWS::EC2::Subnet": "a subnet holding the database",
}
# Status codes STS answers with for credentials that are no longer (or never were) valid.
EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
INVALID_CODES = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidAccessKeyId",
}
# A change set that changes nothing ends FAILED with this reason; moto refuses to create
# it instead ("No updates are to be performed."), as UpdateStack does on AWS.
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
STABLE_STATUSES = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}
# Statuses in which CloudFormation is still working on a stack: destroy waits for none.
BUSY_FOR_DESTROY = {
    "CREATE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
}
# The largest template CloudFormation takes in the request body (bigger ones go via S3).
MAX_TEMPLATE_BODY = 51_200
# Seconds between polls while CloudFormation works (tests against moto lower it).
POLL_SECONDS = 5
# Waiters give up after this many polls (CloudFront and databases take long).
MAX_POLLS = 720


class DeployError(Exception):
    """What stopped the command; the message names the problem and the fix."""


def log(message: str = "") -> None:
    print(f"[infra] {message}" if message else "", flush=True)


@functools.cache
def _model_loader():
    import botocore.loaders

    return botocore.loaders.create_loader()


def client(service: str, region: str | None = None):
    """A new client each time (credentials and AWS_ENDPOINT_URL are read afresh), sharing
    one loader of the service models, which would otherwise be parsed again each time."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", _model_loader())
    return boto3.session.Session(botocore_session=core).client(service, region_name=region)


def _error_code(exc) -> str:
    return exc.response.get("Error", {}).get("Code", "")


# --- the stage --------------------------------------------------------------------------


def load_stage(stage: str, settings: config.Stage | None = None) -> config.Stage:
    if settings is not None:
        return settings
    try:
        return config.load(stage)
    except config.ConfigError as exc:
        raise DeployError(str(exc)) from exc


def check_credentials(region: str, again: str) -> str:
    """The account the credentials belong to; a clear stop when AWS refuses them."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        TokenRetrievalError,
        UnauthorizedSSOTokenError,
    )

    try:
        identity = client("sts", region).get_caller_identity()
    except NoCredentialsError as exc:
        raise DeployError(
            "No AWS credentials found: sign in (aws configure sso, then aws sso login, or "
            f"export AWS_PROFILE / AWS_ACCESS_KEY_ID) and run {again} again"
        ) from exc
    except (TokenRetrievalError, UnauthorizedSSOTokenError) as exc:
        raise DeployError(
            f"AWS credentials have expired ({exc}): refresh them (aws sso login "
            f"--profile …) and run {again} again"
        ) from exc
    except NoRegionError as exc:
        raise DeployError(f"No AWS region: set AWS_REGION and run {again} again") from exc
    except EndpointConnectionError as exc:
        raise DeployError(
            f"Could not reach AWS ({exc}): check the network and run {again} again"
        ) from exc
    except ClientError as exc:
        code = _error_code(exc)
        if code in EXPIRED_CODES:
            raise DeployError(
                f"AWS credentials have expired ({code}): refresh them (aws sso login "
                f"--profile …, or new temporary keys) and run {again} again"
            ) from exc
        if code in INVALID_CODES:
            raise DeployError(
                f"AWS does not recognise these credentials ({code}): check AWS_PROFILE or "
                f"AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a session token too for "
                f"temporary keys) and run {again} again"
            ) from exc
        raise DeployError(f"AWS refused STS GetCallerIdentity ({code}): {exc}") from exc
    return identity["Account"]


def describe_stack(cf, name: str) -> dict | None:
    """The stack, or None when there is none of that name (deleted ones do not count)."""
    from botocore.exceptions import ClientError

    try:
        [stack] = cf.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if _error_code(exc) == "ValidationError" and "does not exist" in str(exc):
            return None
        raise
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def _tags(stack: dict) -> dict:
    return {t["Key"]: t["Value"] for t in stack.get("Tags", [])}


def stage_tags(settings: config.Stage) -> list[dict]:
    return [{"Key": "project", "Value": settings.project}, {"Key": "stage", "Value": settings.name}]


def check_ours(stack: dict | None, settings: config.Stage, what: str) -> None:
    """A stack of the stage's name that another project or stage made is not touched."""
    if stack is None:
        return
    tags = _tags(stack)
    wanted = {"project": settings.project, "stage": settings.name}
    if {k: tags.get(k) for k in wanted} != wanted:
        said = ", ".join(f"{k}={tags.get(k)!r}" for k in wanted)
        rename = (
            "A branch stage's name comes from its branch: rename the branch"
            if config.is_branch_stage(settings.name)
            else "Choose another stage name (zappa_settings.json and infra/stages.json)"
        )
        raise DeployError(
            f"Stage name clash: the {what} {stack['StackName']} exists but is not "
            f"{settings.project}'s {settings.name} stage (its tags say {said}). Nothing was "
            f"changed. {rename}, or deploy in another account or region"
        )


def check_not_busy(stack: dict | None, again: str) -> None:
    if stack is None:
        return
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(
            f"{stack['StackName']} is busy ({status}): wait until CloudFormation finishes "
            f"(aws cloudformation describe-stacks --stack-name {stack['StackName']}), then "
            f"run {again} again"
        )
    name, stage = stack["StackName"], _tags(stack).get("stage", "…")
    fixes = {
        "ROLLBACK_COMPLETE": "its creation failed and CloudFormation cannot update it: "
        f"remove it with make destroy STAGE={stage}",
        "ROLLBACK_FAILED": "its creation failed and so did the rollback: remove it with "
        f"make destroy STAGE={stage}",
        "DELETE_FAILED": f"an earlier deletion failed: run make destroy STAGE={stage} again "
        "(its events say what failed)",
        "UPDATE_ROLLBACK_FAILED": "an update failed and so did its rollback: fix what its "
        "events name, then aws cloudformation continue-update-rollback --stack-name " + name,
    }
    if status in fixes:
        raise DeployError(
            f"{name} is {status}: {fixes[status]} (see its events in the CloudFormation "
            f"console); then run {again} again"
        )


def stack_resources(cf, stack_name: str) -> list[dict]:
    found = []
    for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        found += page["StackResourceSummaries"]
    return found


def owned_physical_ids(cf, stack: dict | None) -> set[str]:
    if stack is None:
        return set()
    return {r.get("PhysicalResourceId", "") for r in stack_resources(cf, stack["StackId"])}


def check_media_bucket(settings: config.Stage, account: str, owned: set[str]) -> None:
    """The bucket's name is global: one that exists and is not the stack's stops here
    (HeadBucket answers 403 for another account's; ExpectedBucketOwner makes it so for a
    bucket we may read but do not own)."""
    from botocore.exceptions import ClientError

    bucket = settings.names.media_bucket(account)
    try:
        client("s3", settings.region).head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as exc:
        code = _error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return
        if code in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(
                f"The media bucket name {bucket} belongs to another AWS account (S3 "
                "HeadBucket answered 403): bucket names are global. Nothing was changed. "
                "Check that these are the credentials of the account you mean "
                f"({account}); otherwise choose another project_name or stage name"
            ) from exc
        raise
    if bucket not in owned:
        raise DeployError(
            f"The media bucket {bucket} already exists in this account but no "
            f"{settings.names.stack} stack holds it (kept by an earlier make destroy, or made "
            "by hand): CloudFormation cannot create it again. Nothing was changed. Either "
            f"delete it once its media are backed up (aws s3 rb s3://{bucket} --force; "
            f"versions too: make destroy STAGE={settings.name} DELETE_DATA=1 does both), or "
            "import it into the stack (CloudFormation resource import)"
        )


def check_leftover_database(settings: config.Stage, owned: set[str]) -> None:
    """A database kept by an earlier destroy blocks creating one of the same name."""
    from botocore.exceptions import ClientError

    identifier = settings.names.database
    if identifier in owned:
        return
    rds = client("rds", settings.region)
    for describe, key, kind in (
        ("describe_db_clusters", "DBClusterIdentifier", "cluster"),
        ("describe_db_instances", "DBInstanceIdentifier", "instance"),
    ):
        try:
            getattr(rds, describe)(**{key: identifier})
        except ClientError as exc:
            if "NotFound" in _error_code(exc):
                continue
            raise
        raise DeployError(
            f"A database {kind} {identifier} already exists but no {settings.names.stack} "
            "stack holds it (kept by an earlier make destroy?): CloudFormation cannot "
            "create it again. Nothing was changed. Back it up, then delete it (aws rds "
            f"delete-db-{kind} --db-{kind}-identifier {identifier} …), or import it into the stack"
        )


def stage_secrets(settings: config.Stage):
    """(name, description) of each of the stage's secrets that Secrets Manager has under
    its name, including one scheduled for deletion (which still holds the name)."""
    from botocore.exceptions import ClientError

    secrets = client("secretsmanager", settings.region)
    for name in (settings.names.django_secret, settings.names.origin_verify_secret):
        try:
            yield name, secrets.describe_secret(SecretId=name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise


def check_leftover_secrets(settings: config.Stage, owned: set[str]) -> None:
    """A secret of the stage's name that the stack does not hold (a deleted secret waits
    out its recovery window under its name) blocks creating it."""
    for name, secret in stage_secrets(settings):
        if secret["ARN"] in owned:
            continue
        if secret.get("DeletedDate"):
            fix = (
                f"restore it (aws secretsmanager restore-secret --secret-id {name}) or delete "
                f"it now (aws secretsmanager delete-secret --secret-id {name} "
                "--force-delete-without-recovery)"
            )
            state = "is scheduled for deletion"
        else:
            fix = f"delete it (aws secretsmanager delete-secret --secret-id {name}) if it is unused"
            state = "exists"
        raise DeployError(
            f"The secret {name} {state} but no {settings.names.stack} stack holds it: "
            f"CloudFormation cannot create it. Nothing was changed. {fix.capitalize()}, then "
            "run make infra again"
        )


# --- the domain -------------------------------------------------------------------------


def _zone_name(zone: dict) -> str:
    return zone["Name"].rstrip(".").lower()


def find_hosted_zone(settings: config.Stage) -> dict | None:
    """The public Route 53 zone for the stage's domain: the configured one (which must
    exist and hold the domain), else the longest zone name the domain ends with."""
    domain = settings.domain
    zones = []
    paginator = client("route53").get_paginator("list_hosted_zones")
    for page in paginator.paginate():
        zones += [z for z in page["HostedZones"] if not z.get("Config", {}).get("PrivateZone")]

    def holds(zone):
        name = _zone_name(zone)
        return domain == name or domain.endswith(f".{name}")

    if settings.hosted_zone:
        named = [z for z in zones if _zone_name(z) == settings.hosted_zone]
        if not named:
            raise DeployError(
                f"The hosted zone {settings.hosted_zone} (infra/stages.json, stage "
                f"{settings.name!r}) is not a public zone of this account's Route 53. Nothing "
                "was changed. Create it (and delegate the domain to its name servers), or set "
                "hosted_zone to null to create the certificate's DNS records yourself"
            )
        if not holds(named[0]):
            raise DeployError(
                f"The hosted zone {settings.hosted_zone} does not contain {domain}. Nothing was "
                "changed. Set hosted_zone (infra/stages.json) to the zone that holds the domain"
            )
        return named[0]
    holding = sorted((z for z in zones if holds(z)), key=lambda z: len(_zone_name(z)))
    return holding[-1] if holding else None


def _zone_id(zone: dict) -> str:
    return zone["Id"].rsplit("/", 1)[-1]


def certificate(settings: config.Stage, template, again: str) -> tuple[str, dict | None]:
    """The certificate stack in us-east-1, created or updated: its CertificateArn and the
    Route 53 zone that validates it (None: the records are the deployer's to create)."""
    zone = find_hosted_zone(settings)
    return _certificate(settings, template, zone, again), zone


def _certificate(settings: config.Stage, template, zone: dict | None, again: str) -> str:
    names = settings.names
    cf = client("cloudformation", CERTIFICATE_REGION)
    stack = describe_stack(cf, names.certificate_stack)
    check_ours(stack, settings, "certificate stack")
    body = render(template.build_certificate(settings))
    declared = set(json.loads(body).get("Parameters", {}))
    values = {"HostedZoneId": _zone_id(zone) if zone else "", "DomainName": settings.domain}
    parameters = [
        {"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in declared
    ]
    if zone:
        log(f"{settings.domain}: Route 53 zone {_zone_name(zone)} ({_zone_id(zone)}) validates it")
    else:
        log(f"{settings.domain}: no Route 53 zone in this account holds it")

    if stack is not None and stack["StackStatus"] == "CREATE_IN_PROGRESS":
        if zone is None:
            # An earlier run created it; it waits for the records only you can create.
            return _pending_certificate(cf, settings, stack, zone, again)
        # An earlier run was interrupted: CloudFormation validates through the zone.
        wait(cf, names.certificate_stack, "CREATE", time.time())
        stack = describe_stack(cf, names.certificate_stack)
    check_not_busy(stack, again)
    kind = "CREATE" if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS" else "UPDATE"
    changes = create_change_set(
        cf, names.certificate_stack, body, parameters, stage_tags(settings), kind
    )
    if changes is not None:
        change_set, listed = changes
        show_changes(names.certificate_stack, kind, listed)
        execute(cf, names.certificate_stack, change_set)
        if zone is None and kind == "CREATE":
            # CloudFormation waits for validation, which waits for records only you can
            # create: show them instead of waiting.
            stack = describe_stack(cf, names.certificate_stack)
            return _pending_certificate(cf, settings, stack, zone, again)
        wait(cf, names.certificate_stack, kind, time.time())
    else:
        log(f"{names.certificate_stack}: no changes")
    stack = describe_stack(cf, names.certificate_stack)
    if zone is None:
        # Issued once someone created the records; until then, say which (again).
        arn = _certificate_arn(cf, settings, stack)
        described = arn and client("acm", CERTIFICATE_REGION).describe_certificate(
            CertificateArn=arn
        )
        if not described or described["Certificate"]["Status"] != "ISSUED":
            return _pending_certificate(cf, settings, stack, zone, again)
    outputs = _outputs(stack)
    if not outputs.get("CertificateArn"):
        raise DeployError(
            f"{names.certificate_stack} has no CertificateArn output: render the template "
            "again (make infra-template) and check build_certificate's outputs"
        )
    return outputs["CertificateArn"]


def _certificate_arn(cf, settings: config.Stage, stack: dict) -> str | None:
    for resource in stack_resources(cf, stack["StackId"]):
        if resource["ResourceType"] == "AWS::CertificateManager::Certificate":
            arn = resource.get("PhysicalResourceId", "")
            if arn.startswith("arn:"):
                return arn
    # Not (yet) reported by the stack: the account's request for the domain.
    acm = client("acm", CERTIFICATE_REGION)
    for page in acm.get_paginator("list_certificates").paginate():
        for summary in page["CertificateSummaryList"]:
            if summary["DomainName"] == settings.domain:
                return summary["CertificateArn"]
    return None


def _pending_certificate(cf, settings, stack, zone, again) -> str:
    """The certificate waits for DNS validation: when it is issued, wait for the stack;
    otherwise print the records to create and stop (running again resumes here)."""
    acm = client("acm", CERTIFICATE_REGION)
    arn = None
    for _ in range(10):  # ACM takes a few seconds to publish the records
        arn = _certificate_arn(cf, settings, stack)
        if arn:
            described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
            options = described.get("DomainValidationOptions", [])
            if described["Status"] == "ISSUED" or all(o.get("ResourceRecord") for o in options):
                break
        time.sleep(POLL_SECONDS)
    if not arn:
        raise DeployError(
            f"{settings.names.certificate_stack} has not made its certificate yet: run {again} "
            "again in a minute"
        )
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    if described["Status"] == "ISSUED":
        wait(cf, settings.names.certificate_stack, "CREATE", time.time())
        return _outputs(describe_stack(cf, settings.names.certificate_stack))["CertificateArn"]
    records = [
        o["ResourceRecord"]
        for o in described.get("DomainValidationOptions", [])
        if o.get("ResourceRecord")
    ]
    log(f"The certificate for {settings.domain} ({arn}) waits for DNS validation.")
    log("Create these DNS records at your DNS provider:")
    for record in {(r["Name"], r["Type"], r["Value"]) for r in records}:
        log(f"  {record[0]}  {record[1]}  {record[2]}")
    raise DeployError(
        f"No Route 53 zone holds {settings.domain}, so its certificate's validation records "
        f"are yours to create: create these records, then run {again} again (it resumes "
        "where it stopped; the main stack was not changed)"
    )


# --- change sets ------------------------------------------------------------------------


def render(template) -> str:
    """The template as CloudFormation reads it (a troposphere Template, a dict or text)."""
    if hasattr(template, "to_dict"):
        template = template.to_dict()
    body = template if isinstance(template, str) else json.dumps(template, separators=(",", ":"))
    if len(body.encode()) > MAX_TEMPLATE_BODY:
        raise DeployError(
            f"The template is {len(body.encode())} bytes, over CloudFormation's "
            f"{MAX_TEMPLATE_BODY} for a request body: shorten it, or upload it to S3 and "
            "pass its TemplateURL (not supported here yet)"
        )
    return body


def stack_parameters(body: str, stack: dict | None, values: dict) -> list[dict]:
    """Each parameter the template declares: the given value, else its previous one on an
    existing stack, else the template's default."""
    declared = json.loads(body).get("Parameters", {})
    previous = {p["ParameterKey"] for p in (stack or {}).get("Parameters", [])}
    parameters = []
    for key in declared:
        if key in values:
            parameters.append({"ParameterKey": key, "ParameterValue": values[key]})
        elif key in previous:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def create_change_set(cf, stack_name, body, parameters, tags, kind):
    """(name, changes) once CloudFormation has worked the change set out; None when it
    changes nothing (the change set is deleted)."""
    from botocore.exceptions import ClientError

    # Unique even for two in one second (a name already used is refused).
    name = time.strftime("infra-%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    try:
        cf.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=kind,
            TemplateBody=body,
            Parameters=parameters,
            Capabilities=CAPABILITIES,
            Tags=tags,
        )
    except ClientError as exc:
        if any(text in str(exc) for text in NO_CHANGES):
            return None
        raise DeployError(f"CloudFormation refused the change set for {stack_name}: {exc}") from exc
    for _ in range(MAX_POLLS):
        described = cf.describe_change_set(StackName=stack_name, ChangeSetName=name)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(POLL_SECONDS)
    if described["Status"] != "CREATE_COMPLETE":
        reason = described.get("StatusReason", described["Status"])
        cf.delete_change_set(StackName=stack_name, ChangeSetName=name)
        if any(text in reason for text in NO_CHANGES):
            return None
        raise DeployError(f"CloudFormation could not work out the change to {stack_name}: {reason}")
    changes = list(described.get("Changes", []))
    while described.get("NextToken"):
        described = cf.describe_change_set(
            StackName=stack_name, ChangeSetName=name, NextToken=described["NextToken"]
        )
        changes += described.get("Changes", [])
    return name, changes


def show_changes(stack_name: str, kind: str, changes: list[dict]) -> None:
    log(f"Change set for {stack_name} ({'new stack' if kind == 'CREATE' else 'update'}): "
        f"{len(changes)} change(s)")  # fmt: skip
    for change in changes:
        rc = change.get("ResourceChange", {})
        replacement = rc.get("Replacement")
        causes = sorted(
            {
                d["Target"].get("Name") or d["Target"].get("Attribute", "")
                for d in rc.get("Details", [])
                if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
            }
        )
        note = f"  replacement: {replacement}" if rc.get("Action") == "Modify" else ""
        if causes:
            note += f" (because of {', '.join(causes)})"
        log(f"  {rc.get('Action', '?'):<8} {rc.get('LogicalResourceId', '?'):<32} "
            f"{rc.get('ResourceType', '?')}{note}")  # fmt: skip


def allowed_replacements() -> set[str]:
    return {name.strip() for name in os.environ.get("ALLOW_REPLACE", "").split(",") if name.strip()}


def protected_changes(changes: list[dict], allowed: set[str] = frozenset()) -> list[str]:
    """What in ``changes`` replaces or removes a resource holding the stage's data, one
    line each; those ``allowed`` (logical ids) are left out."""
    found = []
    for change in changes:
        rc = change.get("ResourceChange", {})
        kind = PROTECTED_TYPES.get(rc.get("ResourceType", ""))
        if not kind or rc.get("LogicalResourceId") in allowed:
            continue
        action, replacement = rc.get("Action"), rc.get("Replacement")
        policy = rc.get("PolicyAction", "")
        if action == "Remove":
            what = "removed"
        elif action == "Modify" and (
            replacement in ("True", "Conditional") or policy.startswith("Replace")
        ):
            what = (
                "replaced"
                if replacement != "Conditional"
                else "possibly replaced (Replacement: Conditional)"
            )
        else:
            continue
        found.append(f"{rc['LogicalResourceId']} ({kind}, {rc['ResourceType']}) would be {what}")
    return found


def guard(cf, stack_name: str, change_set: str, changes: list[dict], stage: str) -> None:
    """Refuse (and delete the change set) when stored data would be replaced or removed."""
    allowed = allowed_replacements()
    if allowed:
        log(f"ALLOW_REPLACE: {', '.join(sorted(allowed))} may be replaced or removed")
    refused = protected_changes(changes, allowed)
    if not refused:
        return
    cf.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
    ids = ",".join(line.split(" ", 1)[0] for line in refused)
    raise DeployError(
        "Refusing to apply: this change would replace or remove stored data:\n"
        + "".join(f"  - {line}\n" for line in refused)
        + "Nothing was changed (the change set is deleted). Fix: revert the template change "
        "that causes it (the preview names the properties), or, after a backup, allow it: "
        f"ALLOW_REPLACE={ids} make infra STAGE={stage}"
    )


def execute(cf, stack_name: str, change_set: str) -> None:
    from botocore.exceptions import ClientError

    try:
        cf.execute_change_set(StackName=stack_name, ChangeSetName=change_set)
    except ClientError as exc:
        raise DeployError(
            f"CloudFormation refused to execute {change_set} on {stack_name} ({exc}): nothing "
            "was changed; fix the template (make infra-template, make infra-lint) and run "
            "make infra again"
        ) from exc


def failure_events(cf, stack_name: str, since: float) -> list[str]:
    lines = []
    try:
        pages = cf.get_paginator("describe_stack_events").paginate(StackName=stack_name)
        for page in pages:
            for event in page["StackEvents"]:
                if event["Timestamp"].timestamp() < since - 60:
                    return lines
                if event["ResourceStatus"].endswith("_FAILED"):
                    lines.append(
                        f"{event['LogicalResourceId']} ({event.get('ResourceType', '')}): "
                        f"{event['ResourceStatus']}: {event.get('ResourceStatusReason', '')}"
                    )
    except Exception as exc:  # the events only explain; the failure stands
        lines.append(f"(could not read the stack's events: {exc})")
    return lines


def wait(cf, stack_name: str, kind: str, since: float) -> None:
    """Wait for the stack; on failure, the reasons CloudFormation's events give."""
    from botocore.exceptions import WaiterError

    waiter = {"CREATE": "stack_create_complete", "UPDATE": "stack_update_complete",
              "DELETE": "stack_delete_complete"}[kind]  # fmt: skip
    try:
        cf.get_waiter(waiter).wait(
            StackName=stack_name, WaiterConfig={"Delay": POLL_SECONDS, "MaxAttempts": MAX_POLLS}
        )
    except WaiterError as exc:
        reasons = failure_events(cf, stack_name, since)
        status = (exc.last_response.get("Stacks") or [{}])[0].get("StackStatus", str(exc))
        raise DeployError(
            f"{stack_name}: {kind.lower()} failed ({status})"
            + "".join(f"\n  - {line}" for line in reasons)
            + "\nFix the cause above and run the command again (CloudFormation rolled back "
            "what it had changed)"
        ) from exc


def protect(cf, stack_name: str, on: bool) -> None:
    stack = describe_stack(cf, stack_name)
    if stack and bool(stack.get("EnableTerminationProtection")) != on:
        cf.update_termination_protection(StackName=stack_name, EnableTerminationProtection=on)
        log(f"{stack_name}: termination protection {'on' if on else 'off'}")


# --- outputs ----------------------------------------------------------------------------


def _outputs(stack: dict | None) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def supplied_outputs() -> dict:
    """INFRA_OUTPUTS=path.json: values for outputs the stack lacks (an emulator's
    CloudFormation drops those of resource types it does not implement)."""
    path = os.environ.get("INFRA_OUTPUTS")
    if not path:
        return {}
    try:
        values = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise DeployError(f"INFRA_OUTPUTS={path}: not a readable JSON object ({exc})") from exc
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise DeployError(f"INFRA_OUTPUTS={path} must be a JSON object of output names to strings")
    return values


def merge_supplied(stage: str, stack: dict, supplied: dict) -> dict:
    """The stack's outputs with INFRA_OUTPUTS's for those it lacks. A supplied value that
    differs from one the stack has stops: the file is a rehearsal aid, not an override."""
    if overlap := sorted(k for k in supplied if k in stack and supplied[k] != stack[k]):
        raise DeployError(
            f"INFRA_OUTPUTS gives {', '.join(overlap)}, which the {stage} stack has: it only "
            "supplies outputs the stack lacks (remove them from the file)"
        )
    if extra := sorted(set(supplied) - set(stack)):
        # On stderr: `outputs --json` and make deploy read stdout as the outputs.
        print(f"[infra] outputs from INFRA_OUTPUTS (the stack lacks them): {', '.join(extra)}",
              file=sys.stderr, flush=True)  # fmt: skip
    return {**supplied, **stack}


def stack_outputs(stage: str, *, settings: config.Stage | None = None, complete=True) -> dict:
    """The stage's stack outputs (OutputKey: value). Raises DeployError when the stack is
    missing, not in a usable state, or (``complete``) lacks one of OUTPUT_KEYS."""
    settings = load_stage(stage, settings)
    name = settings.names.stack
    stack = describe_stack(client("cloudformation", settings.region), name)
    if stack is None:
        raise DeployError(
            f"The {stage} stack {name} does not exist in {settings.region}: create it with "
            f"make infra STAGE={stage}"
        )
    if stack["StackStatus"] not in STABLE_STATUSES:
        raise DeployError(
            f"The {stage} stack {name} is {stack['StackStatus']}: run make infra STAGE={stage} "
            "and let it finish"
        )
    check_ours(stack, settings, "stack")
    outputs = merge_supplied(stage, _outputs(stack), supplied_outputs())
    missing = [key for key in OUTPUT_KEYS if not outputs.get(key)]
    if complete and missing:
        raise DeployError(
            f"The {stage} stack {name} lacks output(s) {', '.join(missing)}: it is "
            f"incomplete or older than this code; run make infra STAGE={stage} (on an "
            "emulator, supply them with INFRA_OUTPUTS=path.json)"
        )
    return outputs


def set_api_domain(stage: str, domain: str, *, settings: config.Stage | None = None) -> bool:
    """Set the stack's ApiDomain parameter (the API Gateway host CloudFront sends pages
    to) by a parameter-only update; False when it already has that value."""
    settings = load_stage(stage, settings)
    cf = client("cloudformation", settings.region)
    name = settings.names.stack
    stack = describe_stack(cf, name)
    if stack is None or stack["StackStatus"] not in STABLE_STATUSES:
        state = "does not exist" if stack is None else f"is {stack['StackStatus']}"
        raise DeployError(f"The {stage} stack {name} {state}: run make infra STAGE={stage} first")
    check_ours(stack, settings, "stack")
    current = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    if "ApiDomain" not in current:
        raise DeployError(f"{name} has no ApiDomain parameter: run make infra STAGE={stage}")
    if current["ApiDomain"] == domain:
        return False
    parameters = [
        {"ParameterKey": key, "ParameterValue": domain}
        if key == "ApiDomain"
        else {"ParameterKey": key, "UsePreviousValue": True}
        for key in current
    ]
    started = time.time()
    log(f"{name}: ApiDomain {current['ApiDomain']!r} -> {domain!r}")
    cf.update_stack(
        StackName=name, UsePreviousTemplate=True, Parameters=parameters, Capabilities=CAPABILITIES
    )
    wait(cf, name, "UPDATE", started)
    return True


# --- apply ------------------------------------------------------------------------------


def apply(stage: str, *, settings: config.Stage | None = None, template=None) -> dict:
    """``make infra STAGE=…``: the checks, the certificate, the main stack's change set.
    Returns the outputs. ``template``: the module with ``build`` and
    ``build_certificate`` (infra.template)."""
    again = f"make infra STAGE={stage}"
    settings = load_stage(stage, settings)
    if template is None:
        from infra import template
    names = settings.names
    account = check_credentials(settings.region, again)
    log(f"account {account}, region {settings.region}, stage {stage}")

    cf = client("cloudformation", settings.region)
    stack = describe_stack(cf, names.stack)
    check_ours(stack, settings, "stack")
    check_not_busy(stack, again)
    owned = owned_physical_ids(cf, stack)
    check_media_bucket(settings, account, owned)
    check_leftover_database(settings, owned)
    check_leftover_secrets(settings, owned)
    body = render(template.build(settings))

    # From step 3, never a previous value: a stage whose domain was removed drops its
    # certificate (the template's default, CloudFront's own, applies again).
    values = {"CertificateArn": "", "HostedZoneId": ""}
    if settings.domain:
        values["CertificateArn"], zone = certificate(settings, template, again)
        values["HostedZoneId"] = _zone_id(zone) if zone else ""

    new = stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    kind = "CREATE" if new else "UPDATE"
    if new and (snapshots := database_snapshots(settings)):
        log(f"Note: snapshots of an earlier {names.database} exist ({', '.join(snapshots)}); "
            "the new database starts empty: restore one into it to get that data back")  # fmt: skip
    parameters = stack_parameters(body, None if new else stack, values)
    made = create_change_set(cf, names.stack, body, parameters, stage_tags(settings), kind)
    if made is None:
        log(f"{names.stack}: no changes (the change set is deleted)")
    else:
        change_set, changes = made
        show_changes(names.stack, kind, changes)
        guard(cf, names.stack, change_set, changes, stage)
        started = time.time()
        execute(cf, names.stack, change_set)
        log(f"{names.stack}: executing {change_set} (CloudFront and databases take minutes)")
        wait(cf, names.stack, kind, started)
        log(f"{names.stack}: {'created' if new else 'updated'}")
    if settings.keep_data or stage == "production":
        protect(cf, names.stack, on=True)

    outputs = stack_outputs(stage, settings=settings, complete=False)
    log("Outputs:")
    for key, value in outputs.items():
        log(f"  {key} = {value}")
    if missing := [key for key in OUTPUT_KEYS if not outputs.get(key)]:
        log(f"Missing outputs (make deploy needs them): {', '.join(missing)}")
    return outputs


# --- destroy ----------------------------------------------------------------------------


def undeploy(stage: str, function: str, region: str) -> None:
    """``zappa undeploy`` from the runtime-only build, when the function exists."""
    from botocore.exceptions import ClientError

    try:
        client("lambda", region).get_function(FunctionName=function)
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise
        log(f"{function}: no function deployed (nothing for zappa undeploy)")
        return
    from cms import lambda_build

    try:
        lambda_build.ensure_runtime_venv()
        # The build copy with the stage as deployed (its event sources' bucket and queue
        # from the stack's outputs), where Zappa reads zappa_settings.json.
        lambda_build.write_build_settings(stage)
        # --remove-logs: the function's log groups go too (the proof below looks for them).
        lambda_build.zappa("undeploy", stage, "--yes", "--remove-logs")
    except lambda_build.BuildError as exc:
        raise DeployError(
            f"zappa undeploy {stage} failed ({exc}): nothing else was removed; fix it "
            f"and run make destroy STAGE={stage} again"
        ) from exc


def empty_bucket(bucket: str, region: str) -> int:
    """Delete every object version and delete marker; the count removed."""
    from botocore.exceptions import ClientError

    s3 = client("s3", region)
    removed = 0
    try:
        pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
    except ClientError as exc:
        if _error_code(exc) == "NoSuchBucket":
            return 0
        raise
    for page in pages:
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(keys), 1000):
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
            )
        removed += len(keys)
    return removed


def destroy(stage: str, delete_data: bool = False, *, settings=None, template=None) -> dict:
    """``make destroy STAGE=…``: the function, the stack, the certificate stack; then
    what remains. Returns {"kept": [...], "remaining": [...]}; raises DeployError when
    something other than kept data remains."""
    again = f"make destroy STAGE={stage}"
    settings = load_stage(stage, settings)
    names = settings.names
    account = check_credentials(settings.region, again)
    cf = client("cloudformation", settings.region)
    stack = describe_stack(cf, names.stack)
    check_ours(stack, settings, "stack")
    certificate_cf = client("cloudformation", CERTIFICATE_REGION)
    certificate_stack = describe_stack(certificate_cf, names.certificate_stack)
    check_ours(certificate_stack, settings, "certificate stack")
    if stack is not None and stack["StackStatus"] in BUSY_FOR_DESTROY:
        check_not_busy(stack, again)  # a failed or rolled-back stack is deleted, not refused
    log(f"account {account}, region {settings.region}: destroying stage {stage}")

    undeploy(stage, names.function, settings.region)
    bucket = names.media_bucket(account)
    if stack is not None:
        protect(cf, names.stack, on=False)
        # Zappa's package bucket goes with the stack, whose deletion needs it empty.
        packages = names.deployment_bucket(account)
        log(f"{packages}: emptied ({empty_bucket(packages, settings.region)} object versions)")
        if delete_data and settings.keep_data:
            drop_data(cf, settings, stack, template)
        if delete_data or not settings.keep_data:
            # CloudFormation deletes only an empty bucket (DeletionPolicy Delete).
            log(f"{bucket}: emptied ({empty_bucket(bucket, settings.region)} object versions)")
        unprotect_database(settings, owned_physical_ids(cf, stack))
        started = time.time()
        cf.delete_stack(StackName=stack["StackId"])
        log(f"{names.stack}: deleting")
        wait(cf, stack["StackId"], "DELETE", started)
        log(f"{names.stack}: deleted")
    else:
        log(f"{names.stack}: no stack")
    if delete_data:
        delete_kept_data(settings, account)
    if certificate_stack is not None:
        started = time.time()
        certificate_cf.delete_stack(StackName=certificate_stack["StackId"])
        wait(certificate_cf, certificate_stack["StackId"], "DELETE", started)
        log(f"{names.certificate_stack}: deleted")
    if not settings.keep_data:
        purge_deleted_secrets(settings)
    # A stage that keeps no data has no "kept data": whatever is left is a leftover.
    return report_remains(settings, account, delete_data or not settings.keep_data)


def purge_deleted_secrets(settings: config.Stage) -> None:
    """For a stage that keeps no data: its secrets that the stack's deletion scheduled for
    deletion go now. Secrets Manager keeps a deleted secret's name for its recovery window
    (7 to 30 days), and apply cannot create the stage's secrets while it does
    (check_leftover_secrets): a pull request closed and reopened would be stuck."""
    for name, secret in stage_secrets(settings):
        if secret.get("DeletedDate"):
            client("secretsmanager", settings.region).delete_secret(
                SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True
            )
            log(f"{name}: deleted now, not after the recovery window (the stage keeps no data)")


def unprotect_database(settings: config.Stage, owned: set[str]) -> None:
    """Turn off the stack's database's deletion protection, which would make deleting the
    stack fail: what keeps the data through make destroy is its DeletionPolicy Snapshot
    (a final snapshot CloudFormation takes and leaves), not the protection, which guards
    against deletions by any other way."""
    from botocore.exceptions import ClientError

    identifier = settings.names.database
    if identifier not in owned:
        return
    rds = client("rds", settings.region)
    for describe, key, modify, listed in (
        ("describe_db_clusters", "DBClusterIdentifier", "modify_db_cluster", "DBClusters"),
        ("describe_db_instances", "DBInstanceIdentifier", "modify_db_instance", "DBInstances"),
    ):
        try:
            [found] = getattr(rds, describe)(**{key: identifier})[listed]
        except ClientError as exc:
            if "NotFound" in _error_code(exc):
                continue
            raise
        if found.get("DeletionProtection"):
            getattr(rds, modify)(
                **{key: identifier}, DeletionProtection=False, ApplyImmediately=True
            )
            log(f"{identifier}: deletion protection off, so that CloudFormation can delete it "
                "(after a final snapshot, when the stage keeps its data)")  # fmt: skip


def drop_data(cf, settings: config.Stage, stack: dict, template) -> None:
    """Update the stack to its template rendered with keep_data off, so that deleting it
    deletes the bucket and the database instead of keeping them."""
    if template is None:
        from infra import template
    # The same template with the stage's keep_data off: DeletionPolicy Delete.
    rendered = template.build(dataclasses.replace(settings, keep_data=False))
    body = render(rendered)
    made = create_change_set(
        cf,
        stack["StackName"],
        body,
        stack_parameters(body, stack, {}),
        stage_tags(settings),
        "UPDATE",
    )
    if made is None:
        return
    change_set, changes = made
    show_changes(stack["StackName"], "UPDATE", changes)
    started = time.time()
    execute(cf, stack["StackName"], change_set)
    wait(cf, stack["StackName"], "UPDATE", started)
    log(f"{stack['StackName']}: data no longer kept (DELETE_DATA)")


def delete_kept_data(settings: config.Stage, account: str) -> None:
    """DELETE_DATA with no stack left to do it (an earlier make destroy kept them): the
    media bucket (every version) and the database, without a final snapshot."""
    from botocore.exceptions import ClientError

    names, region = settings.names, settings.region
    bucket = names.media_bucket(account)
    s3 = client("s3", region)
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as exc:
        if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    else:
        log(f"{bucket}: deleting the kept bucket ({empty_bucket(bucket, region)} object versions)")
        s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    rds = client("rds", region)
    waiter_config = {"Delay": POLL_SECONDS, "MaxAttempts": MAX_POLLS}
    try:
        [cluster] = rds.describe_db_clusters(DBClusterIdentifier=names.database)["DBClusters"]
    except ClientError as exc:
        if "NotFound" not in _error_code(exc):
            raise
        cluster = None
    members = [m["DBInstanceIdentifier"] for m in (cluster or {}).get("DBClusterMembers", [])]
    try:
        rds.describe_db_instances(DBInstanceIdentifier=names.database)
        members.append(names.database)
    except ClientError as exc:
        if "NotFound" not in _error_code(exc):
            raise
    for instance in dict.fromkeys(members):
        log(f"{instance}: deleting the kept database instance (no final snapshot: DELETE_DATA)")
        rds.modify_db_instance(
            DBInstanceIdentifier=instance, DeletionProtection=False, ApplyImmediately=True
        )
        rds.delete_db_instance(
            DBInstanceIdentifier=instance, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )
        rds.get_waiter("db_instance_deleted").wait(
            DBInstanceIdentifier=instance, WaiterConfig=waiter_config
        )
    for arn in database_snapshots(settings):
        kind, name = arn.split(":")[5:7]
        log(f"{name}: deleting the kept database snapshot (DELETE_DATA)")
        if kind == "cluster-snapshot":
            rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=name)
        else:
            rds.delete_db_snapshot(DBSnapshotIdentifier=name)
    if cluster is not None:
        log(f"{names.database}: deleting the kept database cluster (no final snapshot)")
        rds.modify_db_cluster(
            DBClusterIdentifier=names.database, DeletionProtection=False, ApplyImmediately=True
        )
        rds.delete_db_cluster(DBClusterIdentifier=names.database, SkipFinalSnapshot=True)
        rds.get_waiter("db_cluster_deleted").wait(
            DBClusterIdentifier=names.database, WaiterConfig=waiter_config
        )


# Resource ARNs that are the stage's kept data, by how they start (after the region and
# account): the bucket, the database and its snapshots, the database's managed secret.
def _kept_kind(arn: str, settings: config.Stage, account: str) -> str | None:
    names = settings.names
    bucket = names.media_bucket(account)
    if arn == f"arn:aws:s3:::{bucket}":
        return f"media bucket {bucket}: delete it with aws s3 rb s3://{bucket} --force"
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "rds":
        kind, name = parts[5], parts[6]
        if kind in ("cluster", "db") and (
            name == names.database or name.startswith(f"{names.database}-")
        ):
            what = "cluster" if kind == "cluster" else "instance"
            return (
                f"database {what} {name}: delete it with aws rds delete-db-{what} "
                f"--db-{what}-identifier {name} --final-db-snapshot-identifier … (or "
                "--skip-final-snapshot)"
            )
        if kind in ("cluster-snapshot", "snapshot"):
            option = (
                "--db-cluster-snapshot-identifier"
                if kind == "cluster-snapshot"
                else ("--db-snapshot-identifier")
            )
            return (
                f"database snapshot {name} (restore it into a new database to get the data "
                f"back): delete it with aws rds delete-db-{kind} {option} {name}"
            )
    if len(parts) >= 7 and parts[2] == "secretsmanager" and parts[6].startswith("rds!"):
        return f"the database's managed secret {parts[6]} (goes with the database)"
    return None


def database_snapshots(settings: config.Stage) -> list[str]:
    """ARNs of the stage's database's snapshots other than automated ones (the final
    snapshot CloudFormation takes is one; automated ones go with the database)."""
    from botocore.exceptions import ClientError

    rds = client("rds", settings.region)
    identifier = settings.names.database
    found = []
    for describe, key, listed, arn in (
        ("describe_db_cluster_snapshots", "DBClusterIdentifier", "DBClusterSnapshots",
         "DBClusterSnapshotArn"),
        ("describe_db_snapshots", "DBInstanceIdentifier", "DBSnapshots", "DBSnapshotArn"),
    ):  # fmt: skip
        try:
            snapshots = getattr(rds, describe)(**{key: identifier})[listed]
        except ClientError as exc:
            if "NotFound" in _error_code(exc):
                continue
            raise
        found += [s[arn] for s in snapshots if s.get("SnapshotType") != "automated"]
    return found


def named_leftovers(settings: config.Stage, account: str) -> dict[str, str]:
    """The stage's resources that have a fixed name, asked for by that name: what the
    tagging API cannot see (tags that never reached a resource) is still found."""
    from botocore.exceptions import ClientError

    names, region = settings.names, settings.region
    partition_arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    found = {}

    def exists(call, **kwargs) -> bool:
        try:
            call(**kwargs)
        except ClientError as exc:
            code = _error_code(exc)
            if code in ("404", "NoSuchBucket", "NoSuchEntity", "ResourceNotFoundException") or (
                "NotFound" in code or "NonExistent" in code
            ):
                return False
            raise
        return True

    bucket = names.media_bucket(account)
    if exists(client("s3", region).head_bucket, Bucket=bucket):
        found[f"arn:aws:s3:::{bucket}"] = "bucket"
    rds = client("rds", region)
    if exists(rds.describe_db_clusters, DBClusterIdentifier=names.database):
        found[partition_arn.format("rds", f"cluster:{names.database}")] = "database cluster"
    if exists(rds.describe_db_instances, DBInstanceIdentifier=names.database):
        found[partition_arn.format("rds", f"db:{names.database}")] = "database instance"
    for arn in database_snapshots(settings):
        found[arn] = "database snapshot"
    secrets = client("secretsmanager", region)
    for name in (names.django_secret, names.origin_verify_secret):
        try:
            secret = secrets.describe_secret(SecretId=name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
        else:
            found[secret["ARN"]] = "secret"
    iam = client("iam", region)
    for role in dict.fromkeys((names.role, names.purge_role, names.proxy_role)):
        if exists(iam.get_role, RoleName=role):
            found[f"arn:aws:iam::{account}:role/{role}"] = "role"
    sqs = client("sqs", region)
    if exists(sqs.get_queue_url, QueueName=names.dead_letter_queue):
        found[partition_arn.format("sqs", names.dead_letter_queue)] = "queue"
    return found


def find_remains(settings: config.Stage, account: str) -> dict[str, str]:
    """Everything still tagged with the stage, and the stage's function, stacks, log
    groups and named resources whatever their tags: ARN -> how it was found."""
    names = settings.names
    found: dict[str, str] = {}  # what -> how it was found
    filters = [
        {"Key": "project", "Values": [settings.project]},
        {"Key": "stage", "Values": [settings.name]},
    ]
    for region in dict.fromkeys((settings.region, CERTIFICATE_REGION)):
        tagging = client("resourcegroupstaggingapi", region)
        for page in tagging.get_paginator("get_resources").paginate(TagFilters=filters):
            for mapping in page["ResourceTagMappingList"]:
                found.setdefault(mapping["ResourceARN"], "tagged")
        cf = client("cloudformation", region)
        for stack_name in (names.stack, names.certificate_stack, names.function):
            stack = describe_stack(cf, stack_name)
            if stack is not None:
                found[stack["StackId"]] = f"stack {stack['StackStatus']}"
    found.update(named_leftovers(settings, account))
    functions = {names.function, names.purge_function}
    for page in client("lambda", settings.region).get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if function["FunctionName"] in functions:
                found[function["FunctionArn"]] = "function"
    logs = client("logs", settings.region)
    for function in sorted(functions):
        group = f"/aws/lambda/{function}"
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=group):
            for log_group in page["logGroups"]:
                if log_group["logGroupName"] == group:
                    found[log_group.get("arn", group)] = "log group"
    return found


def sort_remains(settings: config.Stage, account: str, delete_data: bool, found: dict):
    """(kept data, leftovers, secrets waiting out their recovery window)."""
    from botocore.exceptions import ClientError

    secrets = client("secretsmanager", settings.region)
    kept, remaining, deleting = [], [], []
    for arn, how in sorted(found.items()):
        if arn.split(":")[2:3] == ["secretsmanager"]:
            try:
                if secrets.describe_secret(SecretId=arn).get("DeletedDate"):
                    deleting.append(arn)
                    continue
            except ClientError:
                continue
        kind = _kept_kind(arn, settings, account)
        if kind and not delete_data:
            kept.append(kind)
        else:
            remaining.append(f"{arn} ({how})")
    return kept, remaining, deleting


# The tagging API's index lags behind deletions by a while: what it lists that is gone is
# asked again before it counts as left over.
REMAINS_CHECKS = 3


def report_remains(settings: config.Stage, account: str, delete_data: bool) -> dict:
    """What remains of the stage, sorted into kept data and leftovers (DeployError)."""
    for attempt in range(REMAINS_CHECKS):
        if attempt:
            time.sleep(POLL_SECONDS * 6)
        found = find_remains(settings, account)
        kept, remaining, deleting = sort_remains(settings, account, delete_data, found)
        if not remaining:
            break
    for arn in deleting:
        log(f"scheduled for deletion (Secrets Manager's recovery window): {arn}")
    if kept:
        log("Kept (the stack's DeletionPolicy keeps data unless DELETE_DATA=1):")
        for line in kept:
            log(f"  {line}")
        log(f"  or all of them at once, once backed up: make destroy STAGE={settings.name} "
            "DELETE_DATA=1")  # fmt: skip
    if remaining:
        raise DeployError(
            f"Stage {settings.name} is not gone: still there:\n"
            + "".join(f"  - {line}\n" for line in remaining)
            + "Delete these (or find what recreated them) and run make destroy again (if "
            "they are already gone, the tagging API has not caught up: run it again later)"
        )
    log(f"Stage {settings.name}: nothing tagged project={settings.project}, "
        f"stage={settings.name} remains{' but the kept data above' if kept else ''}")  # fmt: skip
    return {"kept": kept, "remaining": remaining}


# --- command line -----------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("apply", help="create or update the stage's stacks").add_argument("stage")
    destroy_parser = commands.add_parser("destroy", help="remove the stage")
    destroy_parser.add_argument("stage")
    destroy_parser.add_argument("--delete-data", action="store_true")
    outputs_parser = commands.add_parser("outputs", help="the stack's outputs")
    outputs_parser.add_argument("stage")
    outputs_parser.add_argument("--json", action="store_true")
    domain_parser = commands.add_parser("set-api-domain", help="set the ApiDomain parameter")
    domain_parser.add_argument("stage")
    domain_parser.add_argument("domain")
    options = parser.parse_args(argv)
    try:
        if options.command == "apply":
            apply(options.stage)
        elif options.command == "destroy":
            destroy(options.stage, delete_data=options.delete_data)
        elif options.command == "set-api-domain":
            set_api_domain(options.stage, options.domain)
        elif options.json:
            print(json.dumps(stack_outputs(options.stage), indent=2, sort_keys=True))
        else:
            outputs = stack_outputs(options.stage, complete=False)
            for key, value in outputs.items():
                print(f"{key}={value}")
            if missing := [key for key in OUTPUT_KEYS if not outputs.get(key)]:
                print(f"missing: {', '.join(missing)}", file=sys.stderr)
                return 1
    except DeployError as exc:
        print(f"[infra] STOPPED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
