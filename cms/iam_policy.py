"""Each stage's IAM policy: only that stage's function, log group, media bucket,
distribution, dead-letter queue, purge relay and secrets. ``render`` is the one rule.

The function's role lives in the stage's stack (infra/template.py): the template renders
this rule with CloudFormation placeholders instead of values (``StageInputs(placeholders=
True)``: ``${AWS::AccountId}``, ``${MediaBucket}``…, each string wrapped in Fn::Sub), so
the role names exactly the stack's own resources. ``make iam-policy STAGE=…`` prints that
document (``infra.template.role_policy``). A placeholder must be one whole value; every
other value passes the same check as a concrete one, so no input can smuggle a wildcard
into the policy.

``gather`` merges concrete inputs from several sources (zappa_settings.json, stack
outputs, what AWS says), refusing two that disagree: the way to render the rule for a
role made outside the stack. Zappa would append statements for
``extra_permissions``, ``efs_config`` and websocket handlers, so no stage uses them
(tests/cms/test_iam_policy.py). The ``zappa_iam_policy.json`` checked in denies
everything: a deploy that attached it by mistake gets a role that can do nothing.

Standard library only: it runs before any dependency is installed, and it is excluded
from the package (zappa_settings.json, exclude_glob).
"""

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "zappa_settings.json"

# The keys under which media lives in the bucket: the S3 storage's location (production
# settings, STORAGES "location") and the quarantine browsers upload into (UPLOAD_PREFIX).
MEDIA_PREFIXES = ("media/", "uploads/")
# django-storages' exists() is a HEAD request; without s3:ListBucket S3 answers 403, not
# 404, for a missing key, and storages raises on 403. Nothing lists the bucket.
MEDIA_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
# Objects of the function's own state in the bucket, outside media/ and uploads/ (never
# served, never processed as files): the publishing tick's marker
# (sitecontent.publishing.tick_gate, settings PUBLISHING_TICK_MARKER_KEY), read and
# conditionally overwritten.
STATE_OBJECTS = ("state/publishing-tick.json",)
STATE_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")
CLOUDFRONT_BACKEND = "cms.cdn.CloudFrontBackend"

# The only statements with "Resource": "*": these actions have no resource-level
# permissions in IAM, so AWS accepts nothing narrower (Lambda's VPC setup calls the
# Describe actions; X-Ray takes segments from any traced function). Neither reads or
# writes anything of another stage.
AWS_REQUIRES_ANY_RESOURCE = frozenset(
    {
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)

# A stage name that slugifies to itself: Zappa names the function
# slugify(project_name-stage), so "dev_1" and "dev-1" would be one function.
STAGE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Branch stages (docs/branch-stages.md): ``pr-<number>`` for a pull request, or
# ``br-<slug>-<6 hex of sha256(branch)>`` for any git branch (infra.config.branch_stage
# makes them). They are listed in no settings file: each is this committed stage's settings
# under its own name, so a stage per branch needs no commit.
BRANCH_TEMPLATE = "preview"
BRANCH_STAGE = re.compile(r"^(?:pr-[1-9][0-9]*|br-(?:[a-z0-9]+-)*[0-9a-f]{6})$")
CHECKS = {
    "stage": STAGE_NAME,
    "function_name": re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
    "partition": re.compile(r"^aws(?:-[a-z]+)*$"),
    "region": re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$"),
    "account_id": re.compile(r"^\d{12}$"),
    "media_bucket": re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    "distribution_id": re.compile(r"^[A-Z0-9]{6,32}$"),
    "secret_arns": re.compile(
        r"^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+$"
    ),
    "subnet_ids": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
    "security_group_ids": re.compile(r"^sg-[0-9a-f]{8,17}$"),
    "dead_letter_queue": re.compile(
        r"^arn:aws(?:-[a-z]+)*:sqs:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,80}$"
    ),
    "purge_function": re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
    # An address, never a pattern: the SES identity's ARN ends with it.
    "mail_from": re.compile(
        r"^[A-Za-z0-9._%+-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$"
    ),
}
# A CloudFormation Fn::Sub placeholder standing for a whole value: ${AWS::Region},
# ${MediaBucket}, ${Database.MasterUserSecret.SecretArn}. No "*" or "?" can be in one.
PLACEHOLDER = re.compile(r"^\$\{[A-Za-z][A-Za-z0-9]*(?:::[A-Za-z]+)?(?:\.[A-Za-z]+)*\}$")


class PolicyInputError(ValueError):
    pass


@dataclass(frozen=True)
class StageInputs:
    """Everything a stage's policy names. Empty means the stage does not use it."""

    stage: str
    function_name: str
    region: str
    account_id: str
    media_bucket: str
    partition: str = "aws"
    distribution_id: str = ""
    secret_arns: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    xray: bool = False
    # The SQS queue failed task invocations go to (the ARN): the role sends to it (Lambda
    # does, with the function's role) and reads it (an SQS event source records them).
    dead_letter_queue: str = ""
    # The relay function that sends CloudFront invalidations from outside the VPC.
    purge_function: str = ""
    # The verified SES identity (an email address) the site's email is sent as.
    mail_from: str = ""
    # Values may be CloudFormation placeholders (the stack's template renders the policy).
    placeholders: bool = False
    # What the stage needs but no source has supplied yet (set by from_zappa_settings).
    needs: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self):
        for name, pattern in CHECKS.items():
            value = getattr(self, name)
            for item in value if isinstance(value, tuple) else (value,):
                if self.placeholders and PLACEHOLDER.match(item):
                    continue
                if item and not pattern.match(item):
                    raise PolicyInputError(f"{self.stage}: {name} {item!r} is not a valid value")
        missing = sorted(name for name in self.needs if not getattr(self, name))
        if missing:
            raise PolicyInputError(
                f"The {self.stage} policy needs {', '.join(missing)}: "
                + "; ".join(HOW_TO_SUPPLY.get(name, name) for name in missing)
            )
        if bool(self.subnet_ids) != bool(self.security_group_ids):
            raise PolicyInputError(f"{self.stage}: vpc_config needs subnets and security groups")


HOW_TO_SUPPLY = {
    "account_id": "AWS_ACCOUNT_ID, or credentials STS can answer for",
    "distribution_id": "CLOUDFRONT_DISTRIBUTION_ID (the stage purges CloudFront): its "
    "stack's DistributionId output",
}


def is_branch_stage(stage: str) -> bool:
    """Whether ``stage`` is a branch stage's name (made from BRANCH_TEMPLATE, listed
    nowhere); a committed stage may not have such a name (stage_settings refuses it)."""
    return bool(BRANCH_STAGE.match(stage))


def stage_settings(stage: str, settings_file: Path = SETTINGS_FILE) -> dict:
    """The stage's settings with ``extends`` resolved as Zappa's CLI resolves them (each
    key of the extending stage replaces the extended one's, dicts included). A branch
    stage gets BRANCH_TEMPLATE's, tagged with its own name (``tags.stage``: make destroy
    proves nothing so tagged remains) and with its name in SITE_NAME."""
    everything = json.loads(Path(settings_file).read_text())
    if not is_branch_stage(stage):
        return _resolve(stage, everything, settings_file)
    if stage in everything:
        raise PolicyInputError(
            f"Stage {stage!r} in {Path(settings_file).name} has a branch stage's name (pr-<number> "
            f"or br-…-<hash>: made from {BRANCH_TEMPLATE!r}, never listed); rename it"
        )
    resolved = json.loads(json.dumps(_resolve(BRANCH_TEMPLATE, everything, settings_file)))
    resolved["tags"] = {**resolved.get("tags", {}), "stage": stage}
    env = resolved.setdefault("aws_environment_variables", {})
    site_name = env.get("SITE_NAME", resolved["project_name"])
    template_mark = f"({BRANCH_TEMPLATE})"
    env["SITE_NAME"] = (
        site_name.replace(template_mark, f"({stage})")
        if template_mark in site_name
        else f"{site_name} ({stage})"
    )
    return resolved


def _resolve(stage: str, everything: dict, settings_file) -> dict:
    seen = []
    resolved: dict = {}
    while stage:
        if stage in seen or stage not in everything:
            raise PolicyInputError(f"Unknown or circular stage {stage!r} in {settings_file}")
        seen.append(stage)
        resolved = {**everything[stage], **resolved}
        stage = everything[stage].get("extends")
    resolved.pop("extends", None)
    return resolved


def from_zappa_settings(stage: str, config: dict) -> dict:
    """What the stage's own settings say about the resources it uses."""
    if not STAGE_NAME.match(stage):
        raise PolicyInputError(
            f"Stage {stage!r}: use lower-case letters, digits and single hyphens, so the "
            "function name Zappa derives from it is the stage's own"
        )
    env = config.get("aws_environment_variables", {})
    vpc = config.get("vpc_config") or {}
    cdn = env.get("CDN_BACKEND", CLOUDFRONT_BACKEND)  # production settings' default
    needs = {"account_id"} | ({"distribution_id"} if cdn == CLOUDFRONT_BACKEND else set())
    found = {
        "stage": stage,
        "function_name": f"{config['project_name']}-{stage}",
        "region": config["aws_region"],
        "media_bucket": env.get("MEDIA_BUCKET", ""),
        "subnet_ids": tuple(vpc.get("SubnetIds", ())),
        "security_group_ids": tuple(vpc.get("SecurityGroupIds", ())),
        "xray": bool(config.get("xray_tracing")),
        "needs": frozenset(needs),
    }
    if env.get("CLOUDFRONT_DISTRIBUTION_ID"):
        found["distribution_id"] = env["CLOUDFRONT_DISTRIBUTION_ID"]
    if env.get("DEFAULT_FROM_EMAIL"):
        found["mail_from"] = env["DEFAULT_FROM_EMAIL"]
    return found


def gather(*sources: tuple[str, dict]) -> StageInputs:
    """Merge ``(name, values)`` sources; a value two sources give differently is an error."""
    known = {f.name for f in fields(StageInputs)}
    merged: dict = {}
    origin: dict = {}
    for name, values in sources:
        for key, value in values.items():
            if key not in known:
                raise PolicyInputError(f"{name} supplied unknown input {key!r}")
            if value in ("", (), None):
                continue
            if key in merged and merged[key] != value and key != "needs":
                raise PolicyInputError(
                    f"{key}: {origin[key]} says {merged[key]!r}, {name} says {value!r}"
                )
            merged.setdefault(key, value)
            origin.setdefault(key, name)
    for key in ("stage", "function_name", "region", "media_bucket"):
        if not merged.get(key):
            raise PolicyInputError(f"No source supplied {key}")
    merged.setdefault("account_id", "")
    return StageInputs(**merged)


def arns(inputs: StageInputs) -> dict[str, list[str]]:
    """The stage's own resources, by kind: what its policy is about."""
    p, region, account = inputs.partition, inputs.region, inputs.account_id
    log_group = f"arn:{p}:logs:{region}:{account}:log-group:/aws/lambda/{inputs.function_name}"
    bucket = f"arn:{p}:s3:::{inputs.media_bucket}"
    return {
        "function": [f"arn:{p}:lambda:{region}:{account}:function:{inputs.function_name}"],
        "log_group": [log_group],
        "bucket": [bucket],
        "media_objects": [f"{bucket}/{prefix}" for prefix in MEDIA_PREFIXES],
        "distribution": [f"arn:{p}:cloudfront::{account}:distribution/{inputs.distribution_id}"]
        if inputs.distribution_id
        else [],
        "secrets": list(inputs.secret_arns),
        "dead_letter_queue": [inputs.dead_letter_queue] if inputs.dead_letter_queue else [],
        "purge_function": [f"arn:{p}:lambda:{region}:{account}:function:{inputs.purge_function}"]
        if inputs.purge_function
        else [],
        "mail_identity": [f"arn:{p}:ses:{region}:{account}:identity/{inputs.mail_from}"]
        if inputs.mail_from
        else [],
    }


def render(inputs: StageInputs) -> dict:
    """The policy document for one stage."""
    own = arns(inputs)
    p, region, account = inputs.partition, inputs.region, inputs.account_id
    [function], [log_group], [bucket] = own["function"], own["log_group"], own["bucket"]
    statements = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            # Streams are log-group:NAME:log-stream:…, hence NAME:* beside NAME.
            "Resource": [log_group, f"{log_group}:*"],
        },
        {
            # Tasks are async invocations of this function; API Gateway invokes it with
            # this role too (Zappa sets the role as the integration's credentials), under
            # a version or alias when apigateway_lambda_qualifier is set.
            "Sid": "InvokeItself",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [function, f"{function}:*"],
        },
        {
            "Sid": "OwnMediaObjects",
            "Effect": "Allow",
            "Action": list(MEDIA_OBJECT_ACTIONS),
            "Resource": [f"{prefix}*" for prefix in own["media_objects"]],
        },
        {
            "Sid": "OwnStateObjects",
            "Effect": "Allow",
            "Action": list(STATE_OBJECT_ACTIONS),
            "Resource": [f"{bucket}/{key}" for key in STATE_OBJECTS],
        },
        {
            "Sid": "OwnMediaBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket],
        },
    ]
    if inputs.distribution_id:
        statements.append(
            {
                "Sid": "PurgeOwnDistribution",
                "Effect": "Allow",
                "Action": ["cloudfront:CreateInvalidation"],
                "Resource": own["distribution"],
            }
        )
    if inputs.purge_function:
        # The function's VPC has no route to CloudFront's API (no NAT; CloudFront has no
        # VPC endpoint): a small function outside it sends the invalidations.
        statements.append(
            {
                "Sid": "InvokePurgeRelay",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": own["purge_function"],
            }
        )
    if inputs.dead_letter_queue:
        statements.append(
            {
                "Sid": "OwnDeadLetterQueue",
                "Effect": "Allow",
                "Action": [
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                ],
                "Resource": own["dead_letter_queue"],
            }
        )
    if inputs.mail_from:
        # Review notifications (django-ses sends raw messages; SendEmail for a backend
        # that does not), only as the stage's own sender identity.
        statements.append(
            {
                "Sid": "SendAsOwnSender",
                "Effect": "Allow",
                "Action": ["ses:SendRawEmail", "ses:SendEmail"],
                "Resource": own["mail_identity"],
            }
        )
    if inputs.secret_arns:
        statements.append(
            {
                "Sid": "ReadOwnSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": own["secrets"],
            }
        )
    if inputs.subnet_ids:
        # Lambda creates the function's network interfaces with its role; their ids are
        # Lambda's choice, so the interface part is a wildcard within the account and
        # region, and creation is tied to the stage's own subnets and security groups.
        interfaces = f"arn:{p}:ec2:{region}:{account}:network-interface/*"
        statements += [
            {
                "Sid": "VpcCreateInterfaces",
                "Effect": "Allow",
                "Action": ["ec2:CreateNetworkInterface"],
                "Resource": [
                    interfaces,
                    *(f"arn:{p}:ec2:{region}:{account}:subnet/{s}" for s in inputs.subnet_ids),
                    *(
                        f"arn:{p}:ec2:{region}:{account}:security-group/{g}"
                        for g in inputs.security_group_ids
                    ),
                ],
            },
            {
                "Sid": "VpcManageInterfaces",
                "Effect": "Allow",
                "Action": [
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": [interfaces],
            },
            {
                "Sid": "VpcDescribeAwsRequiresAnyResource",
                "Effect": "Allow",
                "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                "Resource": "*",
            },
        ]
    if inputs.xray:
        statements.append(
            {
                "Sid": "XRayAwsRequiresAnyResource",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
