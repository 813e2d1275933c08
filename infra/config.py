"""Each stage's infrastructure settings (infra/stages.json), checked, and every name the
stage's resources get: this module is the one home of those names; the template, the
deploy and cms.lambda_build import them from here.

stages.json, one entry per stage of zappa_settings.json:

- ``database``: ``"aurora-serverless"`` (Aurora PostgreSQL Serverless v2 that pauses to
  zero capacity when idle: dev, staging) or ``"rds-proxy"`` (a PostgreSQL instance behind
  RDS Proxy: production), sized by ``"aurora"`` (``min_capacity`` 0 to pause,
  ``max_capacity`` in ACUs, ``seconds_until_auto_pause``) or ``"rds_proxy"``
  (``instance_class``, ``allocated_storage`` in GiB, ``multi_az``);
- ``domain``: the site's host name, or null to serve the stage at its CloudFront domain;
  ``hosted_zone``: the Route 53 zone holding ``domain`` (null: looked up at apply time);
- ``alarm_email``: an address the alarm topic mails (null: subscribe yourself);
- ``mail_from`` (optional): the address the site's email (review notifications) comes
  from; the stack makes it an SES identity (AWS sends it a link to confirm) and lets the
  function send as it alone; make deploy sets DEFAULT_FROM_EMAIL to it (null: no email
  is sent, and each notification's task run fails, visibly, until one is set);
- ``keep_data``: true keeps the media bucket and the database (with a final snapshot)
  when the stack is deleted or a change would replace them;
- ``release`` (optional): how a deploy moves traffic to a new version (infra.release):
  ``steps``, the percentages of requests the new version gets in turn, ending at 100
  (``[100]``, the default: all at once after its smoke test), and ``step_seconds``, how
  long each step is watched (the stage's alarms) before the next.

Branch stages (docs/branch-stages.md) are in neither file: ``branch_stage(ref)`` names
one after a pull request or git branch, and it gets BRANCH_TEMPLATE's entry of both
files under its own name (``cms.iam_policy.stage_settings``, ``load``).

Standard library only: cms/lambda_build.py runs before any dependency is installed.
"""

import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cms import iam_policy

ROOT = Path(__file__).resolve().parent.parent
STAGES_FILE = ROOT / "infra" / "stages.json"
SETTINGS_FILE = ROOT / "zappa_settings.json"

DATABASE_KINDS = ("aurora-serverless", "rds-proxy")
# The name of the database the stage's site uses, inside the cluster or instance.
DATABASE_NAME = "cms"
DATABASE_PORT = 5432
# Zappa's scheduled event for the publishing tick (zappa_settings.json "events"); the
# overdue-tick alarm watches the EventBridge rule Zappa names after it.
TICK_FUNCTION = "sitecontent.events.publishing_tick"
# Accounts are 12 digits: the media bucket's name ends with one (bucket names are global).
ACCOUNT_ID_LENGTH = 12
RESERVED_SUFFIXES = ("-infra", "-cert")
# The main stack's outputs (docs/deploy.md, "make deploy"): infra.template writes exactly
# these, infra.deploy reads them, cms.lambda_build turns them into the zappa settings.
OUTPUT_KEYS = (
    "Stage",
    "FunctionRoleArn",
    "MediaBucket",
    "DistributionId",
    "DistributionDomain",
    "SiteDomain",
    "SubnetIds",
    "FunctionSecurityGroupId",
    "DeadLetterQueueArn",
    "DjangoSecretArn",
    "OriginVerifySecretArn",
    "DatabaseSecretArn",
    "DatabaseHost",
    "DatabasePort",
    "DatabaseName",
    "AlarmTopicArn",
    "PurgeFunctionName",
    "DeploymentBucket",
)
HOST_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")

STAGE_KEYS = {"database", "aurora", "rds_proxy", "domain", "hosted_zone", "alarm_email",
              "keep_data", "release", "mail_from"}  # fmt: skip
RELEASE_KEYS = {"steps", "step_seconds"}
SIZING_KEYS = {
    "aurora": {"min_capacity", "max_capacity", "seconds_until_auto_pause"},
    "rds_proxy": {"instance_class", "allocated_storage", "multi_az"},
}


# The committed stage every branch stage is made from, and what a branch stage's name
# looks like (the rule lives in cms.iam_policy, which resolves the settings).
BRANCH_TEMPLATE = iam_policy.BRANCH_TEMPLATE
is_branch_stage = iam_policy.is_branch_stage
# A pull request: "123", "#123", "pr-123", "pull/123", "refs/pull/123/merge" (GitHub's
# refs). A branch literally named with digits only is spelled refs/heads/123.
PULL_REQUEST = re.compile(r"^(?:#|pr-|(?:refs/)?pull/)?0*([1-9][0-9]*)(?:/(?:merge|head))?$")
BRANCH_HASH_LENGTH = 6


class ConfigError(ValueError):
    """A stage's settings are wrong; the message names the stage, the key and the fix."""


@dataclass(frozen=True)
class Names:
    """Every physical name of one stage's resources. Each includes the stage, so stages
    share an account and a region without clashing."""

    project: str
    stage: str

    @property
    def function(self) -> str:  # Zappa's: slugify(project_name-stage)
        return f"{self.project}-{self.stage}"

    @property
    def stack(self) -> str:
        return f"{self.function}-infra"

    @property
    def certificate_stack(self) -> str:
        return f"{self.function}-cert"

    @property
    def role(self) -> str:
        return self.function

    @property
    def media_bucket_template(self) -> str:
        """For Fn::Sub: the bucket namespace is global, so the account id is part of it."""
        return f"{self.function}-media-${{AWS::AccountId}}"

    def media_bucket(self, account_id: str) -> str:
        return f"{self.function}-media-{account_id}"

    @property
    def deployment_bucket_template(self) -> str:
        """Zappa's package bucket (zappa_settings "s3_bucket"), global like the media one."""
        return f"{self.function}-zappa-${{AWS::AccountId}}"

    def deployment_bucket(self, account_id: str) -> str:
        return f"{self.function}-zappa-{account_id}"

    @property
    def django_secret(self) -> str:
        return f"{self.project}/{self.stage}/django"

    @property
    def origin_verify_secret(self) -> str:
        return f"{self.project}/{self.stage}/origin-verify"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.function}-dead-letters"

    @property
    def alarm_topic(self) -> str:
        return f"{self.function}-alarms"

    def alarm(self, what: str) -> str:
        return f"{self.function}-{what}"

    @property
    def purge_function(self) -> str:
        return f"{self.function}-purge"

    @property
    def purge_role(self) -> str:
        return f"{self.function}-purge"

    @property
    def proxy_role(self) -> str:
        return f"{self.function}-db-proxy"

    @property
    def database(self) -> str:
        """The cluster, instance and proxy identifier (letters, digits, hyphens)."""
        return f"{self.function}-db"

    @property
    def database_subnet_group(self) -> str:
        return f"{self.function}-db"

    @property
    def cache_policy(self) -> str:
        return f"{self.function}-pages"

    @property
    def origin_request_policy(self) -> str:
        return f"{self.function}-pages"

    @property
    def host_function(self) -> str:
        return f"{self.function}-forwarded-host"

    @property
    def origin_access_control(self) -> str:
        return f"{self.function}-media"

    @property
    def tick_rule(self) -> str:
        """The rule ``zappa schedule`` creates for the tick (Zappa.get_scheduled_event_name:
        FUNCTION-EVENT, with the function name replaced by its SHA-1 when too long)."""
        prefix = self.function
        name = f"{prefix:.{max(0, 63 - len(TICK_FUNCTION))}}-{TICK_FUNCTION}"[:64]
        if len(name) >= 64:
            prefix = hashlib.sha1(prefix.encode()).hexdigest()  # noqa: S324 (Zappa's name)
            name = f"{prefix:.{max(0, 63 - len(TICK_FUNCTION))}}-{TICK_FUNCTION}"[:64]
        return name

    def namespaces(self) -> dict[str, set[str]]:
        """The stage's names by the namespace they must be unique in (one account and
        region): two stages must not share one, e.g. stage "dev-purge"'s function and
        stage "dev"'s purge relay."""
        return {
            "Lambda function": {self.function, self.purge_function},
            "IAM role": {self.role, self.purge_role, self.proxy_role},
            # Zappa's own stack is named after the function.
            "CloudFormation stack": {self.function, self.stack, self.certificate_stack},
            "RDS identifier": {self.database, f"{self.database}-1"},
            "SQS queue": {self.dead_letter_queue},
            "SNS topic": {self.alarm_topic},
            "secret": {self.django_secret, self.origin_verify_secret},
            "S3 bucket": {
                self.media_bucket("0" * ACCOUNT_ID_LENGTH),
                self.deployment_bucket("0" * ACCOUNT_ID_LENGTH),
            },
            # Log groups are named after the functions, so they clash when those do; the
            # rest hold one name of the stage each (a clash needs equal stage names).
            "log group": {f"/aws/lambda/{self.function}", f"/aws/lambda/{self.purge_function}"},
            "RDS subnet group": {self.database_subnet_group},
            "EventBridge rule": {self.tick_rule},
            "CloudFront function": {self.host_function},
            "CloudFront origin access control": {self.origin_access_control},
            "CloudFront cache policy": {self.cache_policy},
            "CloudFront origin request policy": {self.origin_request_policy},
            # infra.template names them ${AWS::StackName}-media and -media-documents.
            "CloudFront response headers policy": {
                f"{self.stack}-media",
                f"{self.stack}-media-documents",
            },
        }

    def limits(self) -> dict[str, tuple[str, int]]:
        """Each name AWS limits, with its limit (characters)."""
        return {
            "function (Lambda function, API Gateway)": (self.function, 64),
            "stack": (self.stack, 128),
            "role": (self.role, 64),
            "media bucket": (self.media_bucket("0" * ACCOUNT_ID_LENGTH), 63),
            "deployment bucket": (self.deployment_bucket("0" * ACCOUNT_ID_LENGTH), 63),
            "purge function": (self.purge_function, 64),
            "purge role": (self.purge_role, 64),
            "database proxy role": (self.proxy_role, 64),
            "database identifier": (f"{self.database}-1", 63),
            "dead-letter queue": (self.dead_letter_queue, 80),
            "CloudFront function": (self.host_function, 64),
            "origin access control": (self.origin_access_control, 64),
            "cache policy": (self.cache_policy, 128),
            # The response headers policies are named ${AWS::StackName}-media-documents
            # (docs/cloudfront-media-headers.json).
            "response headers policy": (f"{self.stack}-media-documents", 128),
        }


@dataclass(frozen=True)
class Aurora:
    min_capacity: float
    max_capacity: float
    seconds_until_auto_pause: int


@dataclass(frozen=True)
class RdsProxy:
    instance_class: str
    allocated_storage: int
    multi_az: bool


@dataclass(frozen=True)
class Release:
    """How a deploy shifts the live alias to a new version: ``steps`` percentages in
    turn (the last is 100), each watched for ``step_seconds``."""

    steps: tuple[int, ...] = (100,)
    step_seconds: int = 0


@dataclass(frozen=True)
class Stage:
    name: str
    project: str
    region: str
    database: str
    sizing: Aurora | RdsProxy
    domain: str | None
    hosted_zone: str | None
    alarm_email: str | None
    keep_data: bool
    xray: bool
    release: Release = Release()
    mail_from: str | None = None

    @property
    def names(self) -> Names:
        return Names(self.project, self.name)


def check_stage_name(stage: str, project: str) -> None:
    """A stage name Zappa keeps as it is, that clashes with no other stack, and whose
    derived names all fit AWS's limits."""
    where = f"Stage {stage!r}"
    if not iam_policy.STAGE_NAME.match(stage):
        raise ConfigError(
            f"{where}: use lower-case letters, digits and single hyphens (Zappa names the "
            "function slugify(project-stage), so any other name would not be the stage's own)"
        )
    if stage.endswith(RESERVED_SUFFIXES):
        raise ConfigError(
            f"{where}: must not end in {' or '.join(RESERVED_SUFFIXES)}: the stack of a stage "
            f"named {stage.rsplit('-', 1)[0]!r} has that name, and Zappa's own stack is named "
            "after the function; choose another name"
        )
    too_long = [
        f"{what} {name!r} is {len(name)} characters, AWS allows {limit}"
        for what, (name, limit) in Names(project, stage).limits().items()
        if len(name) > limit
    ]
    if too_long:
        raise ConfigError(f"{where} is too long: {'; '.join(too_long)}; choose a shorter name")


def stage_budget(project: str) -> int:
    """The longest stage name whose every derived name fits its AWS limit (the media and
    package buckets, 63 characters with a 12-digit account id, are the tightest)."""
    probe = "x"
    return min(
        limit - len(name) + len(probe) for name, limit in Names(project, probe).limits().values()
    )


def branch_stage(ref: str | int, settings_file: Path = SETTINGS_FILE) -> str:
    """The branch stage of a pull request (a number, ``#123``, ``refs/pull/123/merge``:
    ``pr-123``) or of any git branch name (``feature/Log-in`` and ``refs/heads/feature/
    Log-in``: ``br-feature-log-in-<6 hex of sha256 of the name>``). The slug is the name
    folded to ASCII lower case, every other run of characters one hyphen, cut so that every
    AWS name of the stage fits; the hash keeps two branches whose slugs agree apart."""
    project = iam_policy.stage_settings(BRANCH_TEMPLATE, settings_file)["project_name"]
    budget = stage_budget(project)
    text = str(ref).strip()
    if number := PULL_REQUEST.match(text):
        stage = f"pr-{number[1]}"
        if len(stage) > budget:
            raise ConfigError(
                f"Pull request {text!r}: {stage!r} is longer than {budget} characters"
            )
        return stage
    branch = text.removeprefix("refs/heads/")
    if not branch:
        raise ConfigError(
            f"{ref!r} names no branch: pass a pull request number or a git branch name"
        )
    digest = hashlib.sha256(branch.encode("utf-8", "surrogatepass")).hexdigest()
    folded = unicodedata.normalize("NFKD", branch).encode("ascii", "ignore").decode().lower()
    room = budget - len("br-") - len("-") - BRANCH_HASH_LENGTH
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:room].rstrip("-")
    return "-".join(filter(None, ("br", slug, digest[:BRANCH_HASH_LENGTH])))


def check_distinct(stage: str, project: str, others) -> None:
    """No name of ``stage`` is also a name of another stage (the same namespace)."""
    own = Names(project, stage).namespaces()
    for other in others:
        if other == stage:
            continue
        theirs = Names(project, other).namespaces()
        for namespace, names in own.items():
            if shared := sorted(names & theirs[namespace]):
                raise ConfigError(
                    f"Stage {stage!r}: its {namespace} name {shared[0]!r} is also stage "
                    f"{other!r}'s; choose a stage name that does not start with another "
                    "stage's name followed by a suffix the template uses"
                )


def _number(stage, key, value, low, high, *, integer=False):
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(
            f"{STAGES_FILE.name}: stage {stage!r}: {key} is {value!r}; set {kind} from "
            f"{low} to {high}"
        )
    return value


def _sizing(stage: str, kind: str, entry: dict) -> Aurora | RdsProxy:
    key = "aurora" if kind == "aurora-serverless" else "rds_proxy"
    other = "rds_proxy" if key == "aurora" else "aurora"
    where = f"{STAGES_FILE.name}: stage {stage!r}"
    if other in entry:
        raise ConfigError(f"{where}: {other!r} sizes the other database kind; remove it")
    sizing = entry.get(key)
    if not isinstance(sizing, dict):
        example = (
            '{"min_capacity": 0, "max_capacity": 2, "seconds_until_auto_pause": 300}'
            if key == "aurora"
            else '{"instance_class": "db.t4g.micro", "allocated_storage": 20, "multi_az": true}'
        )
        raise ConfigError(f"{where}: database {kind!r} needs {key!r}, e.g. {example}")
    if unknown := set(sizing) - SIZING_KEYS[key]:
        raise ConfigError(
            f"{where}: unknown {key} key(s) {sorted(unknown)}; known: {sorted(SIZING_KEYS[key])}"
        )
    if missing := SIZING_KEYS[key] - set(sizing):
        raise ConfigError(f"{where}: {key} needs {sorted(missing)}")
    if key == "aurora":
        low = _number(stage, "aurora.min_capacity", sizing["min_capacity"], 0, 256)
        high = _number(stage, "aurora.max_capacity", sizing["max_capacity"], 1, 256)
        if low > high or (low * 2) % 1 or (high * 2) % 1:
            raise ConfigError(
                f"{where}: aurora capacities go in steps of 0.5 ACU with min_capacity <= "
                f"max_capacity (now {low} and {high})"
            )
        pause = sizing["seconds_until_auto_pause"]
        _number(stage, "aurora.seconds_until_auto_pause", pause, 300, 86400, integer=True)
        return Aurora(low, high, pause)
    if not isinstance(sizing["instance_class"], str) or not INSTANCE_CLASS.match(
        sizing["instance_class"]
    ):
        raise ConfigError(
            f"{where}: rds_proxy.instance_class {sizing['instance_class']!r} is not an RDS "
            'instance class; e.g. "db.t4g.micro"'
        )
    storage = sizing["allocated_storage"]
    _number(stage, "rds_proxy.allocated_storage", storage, 20, 65536, integer=True)
    if not isinstance(sizing["multi_az"], bool):
        raise ConfigError(f"{where}: rds_proxy.multi_az must be true or false")
    return RdsProxy(sizing["instance_class"], storage, sizing["multi_az"])


def _release(stage: str, entry: dict) -> Release:
    where = f"{STAGES_FILE.name}: stage {stage!r}: release"
    value = entry.get("release")
    if value is None:
        return Release()
    if not isinstance(value, dict) or set(value) - RELEASE_KEYS:
        raise ConfigError(
            f"{where} must be an object with {sorted(RELEASE_KEYS)}, e.g. "
            '{"steps": [10, 50, 100], "step_seconds": 120}'
        )
    steps = value.get("steps", [100])
    if (
        not isinstance(steps, list)
        or not steps
        or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 100 for s in steps)
        or steps != sorted(set(steps))
        or steps[-1] != 100
    ):
        raise ConfigError(
            f"{where}.steps is {steps!r}; list increasing whole percentages from 1 to 100 "
            "that end at 100, e.g. [10, 50, 100] (or [100]: all at once)"
        )
    seconds = _number(stage, "release.step_seconds", value.get("step_seconds", 0), 0, 3600,
                      integer=True)  # fmt: skip
    return Release(tuple(steps), seconds)


def _optional_text(stage, entry, key, pattern, example) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(
            f"{STAGES_FILE.name}: stage {stage!r}: {key} {value!r} is not valid; write it as "
            f"{example}, or null"
        )
    return value


def load(stage: str, stages_file: Path = STAGES_FILE, settings_file: Path = SETTINGS_FILE):
    """The stage's checked settings."""
    try:
        zappa = iam_policy.stage_settings(stage, settings_file)
    except iam_policy.PolicyInputError as exc:
        if is_branch_stage(stage):
            raise ConfigError(str(exc)) from exc
        raise ConfigError(
            f"Stage {stage!r} is not in {Path(settings_file).name}; add it there (and to "
            f"{Path(stages_file).name}), use one of: {', '.join(stage_list(settings_file))}, "
            "or a branch stage (pr-<number>; python -m infra.config branch-stage BRANCH "
            "names a branch's)"
        ) from exc
    project = zappa["project_name"]
    check_stage_name(stage, project)
    check_distinct(stage, project, stage_list(settings_file))
    everything = json.loads(Path(stages_file).read_text())
    where = f"{Path(stages_file).name}: stage {stage!r}"
    # A branch stage has its template's entry (branch stages are listed nowhere).
    listed = BRANCH_TEMPLATE if is_branch_stage(stage) else stage
    if is_branch_stage(stage) and stage in everything:
        raise ConfigError(
            f"{where} has a branch stage's name (made from {BRANCH_TEMPLATE!r}, never "
            "listed): remove or rename the entry"
        )
    if listed not in everything:
        raise ConfigError(
            f"{Path(stages_file).name}: stage {listed!r} is missing: every stage of "
            'zappa_settings.json needs an entry (copy "dev"\'s)'
        )
    entry = everything[listed]
    if unknown := set(entry) - STAGE_KEYS:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(STAGE_KEYS)}")
    kind = entry.get("database")
    if kind not in DATABASE_KINDS:
        raise ConfigError(
            f"{where}: database {kind!r} is not a database kind; use one of "
            + " or ".join(repr(k) for k in DATABASE_KINDS)
        )
    domain = _optional_text(stage, entry, "domain", HOST_NAME, '"www.example.com" (lower case)')
    zone = _optional_text(stage, entry, "hosted_zone", HOST_NAME, '"example.com" (no final dot)')
    if zone and not domain:
        raise ConfigError(
            f"{where}: hosted_zone {zone!r} is set but domain is null; set domain to the "
            "site's name in that zone, or hosted_zone to null"
        )
    if zone and domain != zone and not domain.endswith(f".{zone}"):
        raise ConfigError(
            f"{where}: domain {domain!r} is not in hosted_zone {zone!r}; set the zone that "
            "holds the domain"
        )
    keep = entry.get("keep_data", True)
    if not isinstance(keep, bool):
        raise ConfigError(f"{where}: keep_data must be true or false")
    return Stage(
        name=stage,
        project=project,
        region=zappa["aws_region"],
        database=kind,
        sizing=_sizing(stage, kind, entry),
        domain=domain,
        hosted_zone=zone,
        alarm_email=_optional_text(stage, entry, "alarm_email", EMAIL, '"ops@example.com"'),
        keep_data=keep,
        xray=bool(zappa.get("xray_tracing")),
        release=_release(stage, entry),
        mail_from=_optional_text(stage, entry, "mail_from", EMAIL, '"newsroom@example.com"'),
    )


def stage_list(settings_file: Path = SETTINGS_FILE) -> list[str]:
    """Every stage of zappa_settings.json, in its order."""
    return list(json.loads(Path(settings_file).read_text()))


def names(stage: str, settings_file: Path = SETTINGS_FILE) -> Names:
    """The stage's names, checked (without reading stages.json)."""
    project = iam_policy.stage_settings(stage, settings_file)["project_name"]
    check_stage_name(stage, project)
    return Names(project, stage)


def main(argv=None) -> int:
    """``python -m infra.config branch-stage REF``: print the branch stage of a pull
    request number or a git branch name (CI and people name stages with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 2 or argv[0] != "branch-stage":
        print("usage: python -m infra.config branch-stage PULL_REQUEST_OR_BRANCH", file=sys.stderr)
        return 2
    try:
        print(branch_stage(argv[1]))
    except (ConfigError, iam_policy.PolicyInputError) as exc:
        print(f"[infra] STOPPED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --- Database connections and the function's reserved concurrency --------------------
# (docs/database.md). Each warm container holds at most one connection (Django's, kept for
# CONN_MAX_AGE, or opened per request where CONN_MAX_AGE is 0), and the tick, the tasks
# and `zappa manage` run in the same function: so the function's reserved concurrency
# (Zappa's lambda_concurrency) is the number of connections the site may have, and a
# burst beyond it is throttled by Lambda (429, retried by CloudFront's client) instead of
# refused by PostgreSQL ("too many clients": a 503 for every visitor past the limit).

# RDS and Aurora PostgreSQL's default max_connections:
# LEAST({DBInstanceClassMemory/9531392}, 5000).
CONNECTION_BYTES = 9531392
MAX_CONNECTIONS_CAP = 5000
# An Aurora capacity unit is about 2 GiB; Serverless v2 sizes max_connections from the
# maximum capacity (so it does not change as the cluster scales).
ACU_BYTES = 2 * 1024**3
# DBInstanceClassMemory is the class's memory less what the OS and RDS keep: about 90%.
INSTANCE_MEMORY_SHARE = 0.9
# superuser_reserved_connections (3 on RDS) plus two for an operator's psql session.
RESERVED_CONNECTIONS = 5
# RDS Proxy's share of the instance's max_connections (its target group's
# MaxConnectionsPercent, infra/template.py): the rest stays for the operator and RDS.
PROXY_MAX_CONNECTIONS_PERCENT = 75
# Reserved concurrency comes out of the account's (1000 by default, of which Lambda keeps
# 100 unreserved): five stages at 150 each fit one default account.
STAGE_CONCURRENCY_CAP = 150
# GiB of one "large" of each family (xlarge is twice, 2xlarge four times, ...), and of
# the burstable sizes.
FAMILY_LARGE_GIB = {"m": 8, "r": 16, "x": 32}
BURSTABLE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}


def instance_memory_gib(instance_class: str) -> float:
    """The memory of an RDS instance class (``db.t4g.micro``: 1, ``db.r6g.xlarge``: 32)."""
    _, family, size = instance_class.split(".")
    if family.startswith("t") and size in BURSTABLE_GIB:
        return BURSTABLE_GIB[size]
    units = {"large": 1, "xlarge": 2}.get(size)
    if units is None and (match := re.fullmatch(r"(\d+)xlarge", size)):
        units = 2 * int(match[1])
    if units is None or family[0] not in FAMILY_LARGE_GIB:
        raise ConfigError(
            f"{STAGES_FILE.name}: the memory of {instance_class!r} is not known here: add "
            "its family to infra.config.FAMILY_LARGE_GIB (it sizes max_connections)"
        )
    return FAMILY_LARGE_GIB[family[0]] * units


def max_connections(stage: "Stage") -> int:
    """The stage database's max_connections, by RDS's default formula."""
    if isinstance(stage.sizing, Aurora):
        memory = stage.sizing.max_capacity * ACU_BYTES
    else:
        memory = instance_memory_gib(stage.sizing.instance_class) * 1024**3
        memory *= INSTANCE_MEMORY_SHARE
    return min(int(memory / CONNECTION_BYTES), MAX_CONNECTIONS_CAP)


def site_connections(stage: "Stage") -> int:
    """Connections the site may hold: RDS Proxy's pool (MaxConnectionsPercent of
    max_connections) behind a proxy, else max_connections less the reserved ones."""
    limit = max_connections(stage)
    if stage.database == "rds-proxy":
        return limit * PROXY_MAX_CONNECTIONS_PERCENT // 100
    return limit - RESERVED_CONNECTIONS


def lambda_concurrency(stage: "Stage") -> int:
    """Zappa's ``lambda_concurrency`` (reserved concurrency) for the stage:
    min(site_connections, STAGE_CONCURRENCY_CAP), one connection per container."""
    return max(1, min(site_connections(stage), STAGE_CONCURRENCY_CAP))
