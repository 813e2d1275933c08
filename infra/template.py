"""The stage's CloudFormation templates, built with troposphere.

``build(stage)`` is the main stack (in the stage's region, zappa_settings.json
"aws_region"): media bucket, CloudFront, network, database, secrets, dead-letter queue,
the function's role, the CDN purge relay, alarms. ``build_certificate(stage)`` is the
us-east-1 stack with the ACM certificate CloudFront needs for a custom domain.
``python -m infra template STAGE`` (``make infra-template``) writes both to .build/infra/
as YAML, calling no AWS API: that YAML is what reviewers, cfn-lint and checkov read.

Why troposphere rather than a YAML file checked in: the stages differ (database kind
and size, domain or none, tracing), and those choices are plain Python here instead of
Conditions and Mappings woven through one file; troposphere checks every property name
and type when the template is built, not when CloudFormation rejects a change set; the
template is data a test can walk (tests/infra/test_template.py asserts on it, no AWS);
names come from infra.config and the role's policy from cms.iam_policy, so neither is
written twice. Zappa already depends on troposphere, so it adds nothing to install.

Choices worth knowing:

- Before the first ``make deploy`` there is no API Gateway to point at (``ApiDomain``
  is ""). The API origin then points at the media bucket's own S3 host, which answers
  403 to every request (the bucket is private and that origin is not signed), and gets
  no origin secret: a harmless, valid distribution until ``make deploy`` sets ApiDomain.
- The media bucket is encrypted with SSE-S3 (AES256), not SSE-KMS: the same encryption
  at rest without a key policy that CloudFront's OAC, the function and browser uploads
  would all need grants in (and without KMS charges per request).
- A stage without a domain is served at dxxxx.cloudfront.net with CloudFront's default
  certificate; CloudFront then accepts TLSv1 from viewers and no minimum can be set
  (AWS's rule for the default certificate). With a domain and its certificate the
  minimum is TLSv1.2_2021. The origin side is TLSv1.2 only either way.
- The alarm topic is not SSE-encrypted: CloudWatch cannot publish to a topic encrypted
  with the AWS-managed key (alias/aws/sns), and a customer key per stage costs more than
  alarm names and states (all a notification holds) are worth protecting with it.
"""

import json
import sys
from dataclasses import replace
from pathlib import Path

from troposphere import (
    AWS_NO_VALUE,
    And,
    Equals,
    GetAtt,
    GetAZs,
    If,
    Join,
    Not,
    Output,
    Parameter,
    Ref,
    Select,
    Sub,
    Template,
    awslambda,
    certificatemanager,
    cloudfront,
    cloudwatch,
    ec2,
    iam,
    logs,
    rds,
    route53,
    s3,
    secretsmanager,
    ses,
    sns,
    sqs,
)

from cms import iam_policy
from cms import metrics as site_metrics
from infra import ci, config

ROOT = config.ROOT
OUTPUT_DIR = ROOT / ".build" / "infra"
MEDIA_HEADERS_FILE = ROOT / "docs" / "cloudfront-media-headers.json"

# Aurora PostgreSQL 16.3+ and 17.4+ can scale Serverless v2 to 0 ACUs (auto-pause); the
# production instance runs the same major version, so what dev and staging run is it.
AURORA_ENGINE_VERSION = "17.9"
POSTGRES_ENGINE_VERSION = "17.9"
MASTER_USERNAME = "cms_admin"
# The database server's own settings (docs/database.md): in the parameter group, not sent
# by the site on connect (a SET or a startup option pins an RDS Proxy session), and below
# the function's timeout (zappa_settings.json timeout_seconds, 60), so a runaway query or
# a container frozen mid-transaction (its row locks held) is ended by the server before
# Lambda gives up on the request. UTC, so Django sends no SET TIME ZONE.
STATEMENT_TIMEOUT_MS = 30_000
IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000
LOCK_TIMEOUT_MS = 10_000
DATABASE_PARAMETERS = {
    # TLS only (PostgreSQL 15 and later on RDS default to it; a custom group says so).
    "rds.force_ssl": "1",
    "timezone": "UTC",
    "statement_timeout": str(STATEMENT_TIMEOUT_MS),
    "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_TIMEOUT_MS),
    "lock_timeout": str(LOCK_TIMEOUT_MS),
}
# RDS Proxy: how long a client waits for a pooled connection before its query fails
# (a 503, cms.db.unavailable), below the function's timeout; idle connections kept warm.
PROXY_BORROW_TIMEOUT = 10
PROXY_MAX_IDLE_CONNECTIONS_PERCENT = 50
VPC_CIDR = "10.42.0.0/16"
SUBNET_CIDRS = ("10.42.0.0/20", "10.42.16.0/20")
# CloudFront's managed policies (the same ids in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# Route 53's hosted zone for every CloudFront alias target.
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
API_ORIGIN = "api"
MEDIA_ORIGIN = "media"
# The dead-letter queue keeps failed task invocations as long as SQS allows.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
LOG_RETENTION_DAYS = 365
# RDS Proxy's client connections above which the alarm rings: far above what the site's
# concurrency normally holds (one per warm container), well under the proxy's limits.
PROXY_CONNECTIONS_ALARM = 400

# What ``docs/caching.md`` asks of the CloudFront Function on API behaviours.
FORWARDED_HOST_CODE = """\
function handler(event) {
  var request = event.request;
  request.headers["x-forwarded-host"] = { value: request.headers.host.value };
  return request;
}
"""

# The purge relay: CloudFront's API has no VPC endpoint and the function's VPC has no
# NAT, so the function invokes this small function (outside any VPC) with
# {"paths": ["/a", "/b/*"], "reference": "unique id"}; it answers
# {"invalidation_id": ..., "status": ...}. Its role may only invalidate this stage's
# distribution. tests/infra/test_template.py runs this code against moto's CloudFront.
PURGE_RELAY_CODE = """\
import os
import time

import boto3

cloudfront = boto3.client("cloudfront")


def handler(event, context):
    paths = event.get("paths") if isinstance(event, dict) else None
    if not isinstance(paths, list) or not paths or not all(
        isinstance(p, str) and p.startswith("/") for p in paths
    ):
        raise ValueError('expected {"paths": ["/path", ...], "reference": "..."}')
    reference = str(event.get("reference") or time.time_ns())
    answer = cloudfront.create_invalidation(
        DistributionId=os.environ["DISTRIBUTION_ID"],
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": reference,
        },
    )["Invalidation"]
    return {"invalidation_id": answer["Id"], "status": answer["Status"]}
"""

OUTPUT_KEYS = config.OUTPUT_KEYS


def _stage(stage) -> config.Stage:
    return stage if isinstance(stage, config.Stage) else config.load(stage)


def _statement(sid, actions, resources, effect="Allow", **extra):
    return {"Sid": sid, "Effect": effect, "Action": actions, "Resource": resources, **extra}


def _database_secret_arn(settings: config.Stage):
    logical = "DatabaseCluster" if settings.database == "aurora-serverless" else "Database"
    return GetAtt(logical, "MasterUserSecret.SecretArn")


# Placeholders in the role's policy and what CloudFormation puts in their place.
def _policy_variables(settings: config.Stage) -> dict:
    return {
        "DatabaseSecretArn": _database_secret_arn(settings),
        "FunctionSecurityGroupId": GetAtt("FunctionSecurityGroup", "GroupId"),
    }


def role_inputs(stage) -> iam_policy.StageInputs:
    """The function role's policy inputs, as CloudFormation placeholders."""
    settings = _stage(stage)
    names = settings.names
    return iam_policy.StageInputs(
        stage=settings.name,
        function_name=names.function,
        partition="${AWS::Partition}",
        region="${AWS::Region}",
        account_id="${AWS::AccountId}",
        media_bucket="${MediaBucket}",
        secret_arns=("${DjangoSecret}", "${OriginVerifySecret}", "${DatabaseSecretArn}"),
        subnet_ids=("${PrivateSubnetA}", "${PrivateSubnetB}"),
        security_group_ids=("${FunctionSecurityGroupId}",),
        dead_letter_queue="${DeadLetterQueue.Arn}",
        purge_function=names.purge_function,
        xray=settings.xray,
        mail_from=settings.mail_from or "",
        placeholders=True,
    )


def role_policy(stage) -> dict:
    """The function role's policy for ``stage`` (``make iam-policy``), with the stack's
    placeholders (``${MediaBucket}``…) where CloudFormation puts the values."""
    return iam_policy.render(role_inputs(stage))


def _subbed(value, variables: dict):
    """``value`` with every string holding a placeholder wrapped in Fn::Sub (with only the
    variables it uses, as cfn-lint asks)."""
    if isinstance(value, dict):
        return {k: _subbed(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_subbed(v, variables) for v in value]
    if isinstance(value, str) and "${" in value:
        used = {k: v for k, v in variables.items() if f"${{{k}}}" in value}
        return Sub(value, **used) if used else Sub(value)
    return value


def _intrinsics(value):
    """JSON intrinsics ({"Fn::Sub": …}, {"Ref": …}) as troposphere objects."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            return Sub(value["Fn::Sub"])
        if set(value) == {"Ref"}:
            return Ref(value["Ref"])
        return {k: _intrinsics(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_intrinsics(v) for v in value]
    return value


def media_headers_policies() -> dict[str, cloudfront.ResponseHeadersPolicy]:
    """The response headers policies of docs/cloudfront-media-headers.json (the one copy,
    checked against the site's own media views by tests/cms/test_media_headers.py)."""
    resources = json.loads(MEDIA_HEADERS_FILE.read_text())["Resources"]
    return {
        name: cloudfront.ResponseHeadersPolicy.from_dict(name, _intrinsics(resource["Properties"]))
        for name, resource in resources.items()
        if resource["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    }


def _trust(*services):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _boundary(settings: config.Stage) -> dict:
    """A branch stage's roles carry the CI stack's permissions boundary (infra/ci.py):
    CI's branch-stage role may only make roles with it, so whatever a pull request puts
    in this template, its roles can do no more than the boundary allows."""
    if not ci.is_branch_stage(settings.name):
        return {}
    return {"PermissionsBoundary": Sub(ci.boundary_arn(settings.project))}


def _scaling(sizing: config.Aurora) -> rds.ServerlessV2ScalingConfiguration:
    """Serverless v2 scaling; troposphere's validator still says capacity >= 0.5, from
    before Aurora could pause at 0 ACUs (November 2024), so MinCapacity is set past it
    (cfn-lint checks the rendered value against CloudFormation's own schema)."""
    scaling = rds.ServerlessV2ScalingConfiguration(
        MinCapacity=max(sizing.min_capacity, 0.5),
        MaxCapacity=sizing.max_capacity,
        SecondsUntilAutoPause=sizing.seconds_until_auto_pause,
    )
    scaling.properties["MinCapacity"] = sizing.min_capacity
    return scaling


def _private_bucket(logical, name, *, deletion, lifecycle, **properties) -> s3.Bucket:
    """A bucket nobody outside the account reaches: Block Public Access on all four,
    owner-enforced (no ACLs), encrypted; ``lifecycle`` rules beside the one that aborts
    incomplete multipart uploads after a day."""
    return s3.Bucket(
        logical,
        DeletionPolicy=deletion,
        UpdateReplacePolicy=deletion,
        BucketName=Sub(name),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        BucketEncryption=s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm="AES256"
                    )
                )
            ]
        ),
        LifecycleConfiguration=s3.LifecycleConfiguration(
            Rules=[
                *lifecycle,
                s3.LifecycleRule(
                    Id="abort-incomplete-multipart",
                    Status="Enabled",
                    AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                        DaysAfterInitiation=1
                    ),
                ),
            ]
        ),
        **properties,
    )


def _deny_insecure_transport(bucket_arn: str) -> dict:
    """The bucket-policy statement refusing any request made without TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [Sub(bucket_arn), Sub(f"{bucket_arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _alarm(t, logical, name, description, namespace, metric, dimensions, statistic,
           comparison, threshold, *, missing="notBreaching", periods=1):  # fmt: skip
    # A percentile ("p99") is an extended statistic.
    statistic = {"ExtendedStatistic" if statistic.startswith("p") else "Statistic": statistic}
    t.add_resource(
        cloudwatch.Alarm(
            logical,
            AlarmName=name,
            AlarmDescription=description,
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[cloudwatch.MetricDimension(Name=k, Value=v) for k, v in dimensions],
            **statistic,
            Period=300,
            EvaluationPeriods=periods,
            Threshold=threshold,
            ComparisonOperator=comparison,
            TreatMissingData=missing,
            AlarmActions=[Ref("AlarmTopic")],
            OKActions=[Ref("AlarmTopic")],
        )
    )


# The site's alarms on its own metrics (cms.metrics; docs/observability.md says why these).
# More failed task runs in 5 minutes than one task failing its three tries (that one is
# the dead-letter alarm's): a dependency is down.
TASK_FAILURES_ALARM = 3
# A go-live whose purge was sent later than this: visitors saw stale pages that long.
PUBLISH_LAG_ALARM_SECONDS = 300
# The slowest 1% of requests, for 15 minutes in a row (a lone cold start does not ring).
LATENCY_P99_ALARM_MS = 3000
LATENCY_ALARM_PERIODS = 3
# New containers in 5 minutes: a burst of scaling, and as many new database connections.
COLD_START_BURST_ALARM = 50
# Requests answered 503 for want of the database in 5 minutes: more than a restart's
# handful (cms.db.unavailable).
DATABASE_UNAVAILABLE_ALARM = 5
# Saved Logs Insights queries (CloudWatch console, Logs Insights, "Saved queries").
QUERIES = {
    "errors": "fields @timestamp, request_id, logger, message, exception\n"
    '| filter level = "ERROR" or level = "CRITICAL"\n'
    "| sort @timestamp desc\n| limit 100",
    # Replace REQUEST_ID with Lambda's, API Gateway's (x-amzn-RequestId) or CloudFront's
    # (X-Amz-Cf-Id, the header a visitor's browser shows) id.
    "one-request": "fields @timestamp, level, logger, message, status, exception\n"
    '| filter request_id = "REQUEST_ID" or apigw_request_id = "REQUEST_ID"'
    ' or cf_id = "REQUEST_ID" or @requestId = "REQUEST_ID"\n'
    "| sort @timestamp asc",
    "slowest-paths": 'filter logger = "cms.access"\n'
    "| stats count(*) as requests, pct(duration_ms, 50) as p50, pct(duration_ms, 99) as p99,"
    " max(duration_ms) as slowest by path\n| sort p99 desc\n| limit 25",
    "server-errors": 'filter logger = "cms.access" and status >= 500\n'
    "| fields @timestamp, method, path, status, duration_ms, request_id, cf_id\n"
    "| sort @timestamp desc\n| limit 100",
    "failed-tasks": 'filter logger = "cms.task_runs" or (event = "task" and outcome = "failed")'
    "\n| fields @timestamp, task_id, task, message, request_id\n| sort @timestamp desc",
    "cold-starts": 'filter @type = "REPORT" and ispresent(@initDuration)\n'
    "| stats count(*) as cold_starts, avg(@initDuration) as avg_init_ms,"
    " max(@initDuration) as max_init_ms by bin(1h)",
}


def _site_alarm(t, settings, logical, what, description, metric, statistic, threshold,
                **options):  # fmt: skip
    _alarm(t, logical, settings.names.alarm(what), description, site_metrics.NAMESPACE, metric,
           [(site_metrics.DIMENSION, settings.name)], statistic, "GreaterThanThreshold",
           threshold, **options)  # fmt: skip


def _metric(metric, statistic="Sum", label=None, **extra) -> list:
    """A dashboard line of one of the site's metrics (cms.metrics), on the stage."""
    return [site_metrics.NAMESPACE, metric, site_metrics.DIMENSION, "${Stage}",
            {"stat": statistic, "label": label or f"{metric} ({statistic})", **extra}]  # fmt: skip


def _graph(title, lines, *, x, y, width=8, height=6, **properties) -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": height,
        "properties": {"title": title, "region": "${AWS::Region}", "view": "timeSeries",
                       "period": 300, "metrics": lines, **properties},
    }  # fmt: skip


def dashboard_body(settings, aurora: bool) -> dict:
    """The stage's dashboard (CloudWatch dashboard body structure), with ${...} for
    Fn::Sub: the site's metrics beside Lambda's, API Gateway's, SQS's and the database's."""
    names, m = settings.names, site_metrics
    fn = [("FunctionName", names.function)]
    lambda_line = lambda metric, stat="Sum", **e: ["AWS/Lambda", metric, *fn[0],  # noqa: E731
                                                   {"stat": stat, **e}]  # fmt: skip
    api = ["ApiName", names.function, "Stage", "${Stage}"]  # as ServerErrorsAlarm's
    database = (
        ["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", names.database]
        if aurora
        else ["AWS/RDS", "ClientConnections", "ProxyName", names.database]
    )
    alarms = [f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:"
              f"{names.alarm(what)}" for what in ALARMS]  # fmt: skip
    # fmt: off
    widgets = [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": (
            f"# {names.function}\nThe site's metrics (namespace {m.NAMESPACE}, "
            "cms/metrics.py) beside AWS's. Log fields, queries and alarm thresholds: "
            "docs/observability.md."
        )}},
        _graph("Requests (API Gateway)", [
            ["AWS/ApiGateway", "Count", *api, {"stat": "Sum", "label": "requests"}],
            ["AWS/ApiGateway", "4XXError", *api, {"stat": "Sum", "label": "4xx"}],
            ["AWS/ApiGateway", "5XXError", *api, {"stat": "Sum", "label": "5xx"}],
        ], x=0, y=2),
        _graph("Request latency, Django (ms)", [
            _metric(m.REQUEST_LATENCY, "p50"), _metric(m.REQUEST_LATENCY, "p90"),
            _metric(m.REQUEST_LATENCY, "p99"),
        ], x=8, y=2, annotations={"horizontal": [
            {"label": "p99 alarm", "value": LATENCY_P99_ALARM_MS}]}),
        _graph("Lambda duration (ms)", [
            lambda_line("Duration", "p50"), lambda_line("Duration", "p99"),
            lambda_line("Duration", "Maximum"),
        ], x=16, y=2),
        _graph("Invocations, errors, throttles", [
            lambda_line("Invocations"), lambda_line("Errors"), lambda_line("Throttles"),
        ], x=0, y=8),
        _graph("Concurrent executions", [lambda_line("ConcurrentExecutions", "Maximum")],
               x=8, y=8),
        _graph("Cold starts", [
            _metric(m.COLD_START, id="cold"),
            lambda_line("Invocations", id="invocations", visible=False),
            [{"expression": "100 * cold / invocations", "id": "rate", "yAxis": "right",
              "label": "cold starts, % of invocations"}],
        ], x=16, y=8),
        _graph("Tasks", [
            _metric(m.TASK_FAILURES), _metric(m.DEAD_LETTERS),
            ["AWS/SQS", "NumberOfMessagesSent", "QueueName", names.dead_letter_queue,
             {"stat": "Sum", "label": "dead-letter queue: messages in"}],
        ], x=0, y=14),
        _graph("Publish lag (s)", [_metric(m.PUBLISH_LAG, "Maximum"),
                                   _metric(m.PUBLISH_LAG, "Average")],
               x=8, y=14, annotations={"horizontal": [
                   {"label": "alarm", "value": PUBLISH_LAG_ALARM_SECONDS}]}),
        _graph("CDN purges", [_metric(m.CDN_PATHS_PURGED), _metric(m.CDN_WILDCARD_FALLBACKS)],
               x=16, y=14),
        _graph("Minute tick", [
            ["AWS/Events", "Invocations", "RuleName", names.tick_rule, {"stat": "Sum"}],
            ["AWS/Events", "FailedInvocations", "RuleName", names.tick_rule, {"stat": "Sum"}],
        ], x=0, y=20),
        _graph("Database", [
            [*database, {"stat": "Maximum"}],
            _metric(m.DATABASE_UNAVAILABLE),
        ], x=8, y=20),
        {"type": "alarm", "x": 16, "y": 20, "width": 8, "height": 6,
         "properties": {"title": "Alarms", "alarms": alarms}},
        {"type": "log", "x": 0, "y": 26, "width": 24, "height": 6, "properties": {
            "title": "Errors, newest first", "region": "${AWS::Region}", "view": "table",
            "query": f"SOURCE '/aws/lambda/{names.function}' | {QUERIES['errors']}".replace(
                "\n", " "),
        }},
    ]
    # fmt: on
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}


# Every alarm of the stack, by the suffix of its name (infra.config Names.alarm).
ALARMS = ("5xx-rate", "throttles", "errors", "dead-letters", "tick-overdue", "db-connections",
          "task-failures", "publish-lag", "latency-p99", "cold-start-burst",
          "db-unavailable")  # fmt: skip


def _observability(t, settings, aurora: bool) -> None:
    m = site_metrics
    _site_alarm(t, settings, "TaskFailuresAlarm", "task-failures",
                f"More than {TASK_FAILURES_ALARM} task runs failed in 5 minutes (the "
                "operations panel has their tracebacks)", m.TASK_FAILURES, "Sum",
                TASK_FAILURES_ALARM)  # fmt: skip
    _site_alarm(t, settings, "PublishLagAlarm", "publish-lag",
                f"A scheduled change reached the CDN more than {PUBLISH_LAG_ALARM_SECONDS} s "
                "late (the minute tick or the purge is failing)", m.PUBLISH_LAG, "Maximum",
                PUBLISH_LAG_ALARM_SECONDS)  # fmt: skip
    _site_alarm(t, settings, "LatencyAlarm", "latency-p99",
                f"The slowest 1% of requests took over {LATENCY_P99_ALARM_MS} ms for "
                f"{5 * LATENCY_ALARM_PERIODS} minutes", m.REQUEST_LATENCY, "p99",
                LATENCY_P99_ALARM_MS, periods=LATENCY_ALARM_PERIODS)  # fmt: skip
    _site_alarm(t, settings, "ColdStartBurstAlarm", "cold-start-burst",
                f"Over {COLD_START_BURST_ALARM} new containers in 5 minutes, each with its own "
                "database connection", m.COLD_START, "Sum", COLD_START_BURST_ALARM)  # fmt: skip
    _site_alarm(t, settings, "DatabaseUnavailableAlarm", "db-unavailable",
                f"Over {DATABASE_UNAVAILABLE_ALARM} requests in 5 minutes answered 503 because "
                "the database could not be reached", m.DATABASE_UNAVAILABLE, "Sum",
                DATABASE_UNAVAILABLE_ALARM)  # fmt: skip
    # Branch stages get the alarms only: their CI role may make alarms, not dashboards or
    # saved queries (infra/ci.py), and nobody watches a pull request's dashboard.
    if ci.is_branch_stage(settings.name):
        return
    body = json.dumps(dashboard_body(settings, aurora), separators=(",", ":"))
    t.add_resource(
        cloudwatch.Dashboard(
            "Dashboard",
            DashboardName=settings.names.function,
            DashboardBody=Sub(body, Stage=settings.name),
        )
    )
    log_group = f"/aws/lambda/{settings.names.function}"
    for what, query in QUERIES.items():
        logical = "Query" + "".join(part.title() for part in what.split("-"))
        t.add_resource(
            logs.QueryDefinition(
                logical,
                Name=f"{settings.names.function}/{what}",
                QueryString=query,
                LogGroupNames=[log_group],
            )
        )


def build(stage) -> Template:
    """The stage's main stack."""
    settings = _stage(stage)
    names = settings.names
    zappa = iam_policy.stage_settings(settings.name)
    aurora = settings.database == "aurora-serverless"
    keep = settings.keep_data
    t = Template(
        Description=f"{names.function}: everything around the function (infra/template.py; "
        "make infra STAGE=" + settings.name + ")"
    )
    t.set_version("2010-09-09")

    # --- Parameters and conditions ---------------------------------------------------
    t.add_parameter(
        Parameter(
            "ApiDomain",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[a-z0-9.-]+\.amazonaws\.com$",
            Description="The API Gateway host Zappa created (set by make deploy); empty "
            "until the first deploy",
        )
    )
    t.add_condition("HasApi", Not(Equals(Ref("ApiDomain"), "")))
    if settings.domain:
        # Only a stage with a domain has these (an unused parameter is a lint warning):
        # the deploy passes those the template declares.
        t.add_parameter(
            Parameter(
                "CertificateArn",
                Type="String",
                Default="",
                AllowedPattern=r"^$|^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$",
                Description="The us-east-1 certificate for the stage's domain (certificate "
                "stack output); empty: CloudFront's default certificate",
            )
        )
        t.add_parameter(
            Parameter(
                "HostedZoneId",
                Type="String",
                Default="",
                AllowedPattern=r"^$|^Z[A-Z0-9]{1,31}$",
                Description="Route 53 zone of the domain: alias records are created there",
            )
        )
        t.add_condition("HasCertificate", Not(Equals(Ref("CertificateArn"), "")))
        t.add_condition("HasZone", Not(Equals(Ref("HostedZoneId"), "")))
        t.add_condition("PointsDomain", And({"Condition": "HasZone"},
                                           {"Condition": "HasCertificate"}))  # fmt: skip

    # --- Secrets ---------------------------------------------------------------------
    t.add_resource(
        secretsmanager.Secret(
            "DjangoSecret",
            Name=names.django_secret,
            Description=f"{names.function}: Django's SECRET_KEY (JSON key SECRET_KEY)",
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate="{}",
                GenerateStringKey="SECRET_KEY",
                PasswordLength=64,
                ExcludePunctuation=True,
            ),
        )
    )
    t.add_resource(
        secretsmanager.Secret(
            "OriginVerifySecret",
            Name=names.origin_verify_secret,
            Description=f"{names.function}: the X-Origin-Verify value only CloudFront sends",
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate="{}",
                GenerateStringKey="ORIGIN_VERIFY_SECRET",
                PasswordLength=48,
                ExcludePunctuation=True,
            ),
        )
    )

    # --- Media bucket ----------------------------------------------------------------
    # Named, not Ref'd, by the distribution: the bucket's CORS rule names the
    # distribution's domain, so the distribution must not depend on the bucket.
    bucket_host = Sub(f"{names.media_bucket_template}.s3.${{AWS::Region}}.${{AWS::URLSuffix}}")
    if settings.domain:
        site_domain = If("HasCertificate", settings.domain, GetAtt("Distribution", "DomainName"))
    else:
        site_domain = GetAtt("Distribution", "DomainName")
    retain = "Retain" if keep else "Delete"
    t.add_resource(
        _private_bucket(
            "MediaBucket",
            names.media_bucket_template,
            deletion=retain,
            # The quarantine: an upload is checked and promoted to media/ or refused
            # within minutes; whatever is left after a day is litter.
            lifecycle=[
                s3.LifecycleRule(
                    Id="expire-uploads", Status="Enabled", Prefix="uploads/", ExpirationInDays=1
                )
            ],
            # Browsers POST uploads straight to the bucket (a presigned POST) from the site.
            CorsConfiguration=s3.CorsConfiguration(
                CorsRules=[
                    s3.CorsRules(
                        AllowedMethods=["POST"],
                        AllowedOrigins=[Join("", ["https://", site_domain])],
                        MaxAge=3000,
                    )
                ]
            ),
        )
    )
    # Zappa's package bucket: zappa deploy and update upload the zip here and remove it
    # once the function has it. In the stack so that its global name is the account's own
    # and make destroy removes it with the rest (it holds no data worth keeping).
    deployment_arn = f"arn:${{AWS::Partition}}:s3:::{names.deployment_bucket_template}"
    t.add_resource(
        _private_bucket(
            "DeploymentBucket",
            names.deployment_bucket_template,
            deletion="Delete",
            # Packages a failed deploy left behind.
            lifecycle=[
                s3.LifecycleRule(Id="expire-packages", Status="Enabled", ExpirationInDays=7)
            ],
        )
    )
    t.add_resource(
        s3.BucketPolicy(
            "DeploymentBucketPolicy",
            Bucket=Ref("DeploymentBucket"),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [_deny_insecure_transport(deployment_arn)],
            },
        )
    )
    bucket_arn = f"arn:${{AWS::Partition}}:s3:::{names.media_bucket_template}"
    distribution_arn = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
    distribution_arn += "${Distribution}"
    t.add_resource(
        s3.BucketPolicy(
            "MediaBucketPolicy",
            Bucket=Ref("MediaBucket"),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OnlyTheDistributionReadsMedia",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": Sub(f"{bucket_arn}/media/*"),
                        "Condition": {"StringEquals": {"AWS:SourceArn": Sub(distribution_arn)}},
                    },
                    _deny_insecure_transport(bucket_arn),
                ],
            },
        )
    )

    # --- CloudFront ------------------------------------------------------------------
    t.add_resource(
        cloudfront.OriginAccessControl(
            "MediaOriginAccessControl",
            OriginAccessControlConfig=cloudfront.OriginAccessControlConfig(
                Name=names.origin_access_control,
                Description=f"{names.function}: CloudFront signs its requests for media",
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    for policy in media_headers_policies().values():
        t.add_resource(policy)
    t.add_resource(
        cloudfront.Function(
            "ForwardedHostFunction",
            Name=names.host_function,
            AutoPublish=True,
            FunctionCode=FORWARDED_HOST_CODE,
            FunctionConfig=cloudfront.FunctionConfig(
                Comment="The visitor's host as X-Forwarded-Host (docs/caching.md)",
                Runtime="cloudfront-js-2.0",
            ),
        )
    )
    t.add_resource(
        cloudfront.CachePolicy(
            "PageCachePolicy",
            CachePolicyConfig=cloudfront.CachePolicyConfig(
                Name=names.cache_policy,
                Comment="Follow the origin's Cache-Control; key on query strings only",
                MinTTL=0,
                DefaultTTL=0,
                MaxTTL=31536000,
                ParametersInCacheKeyAndForwardedToOrigin=cloudfront.ParametersInCacheKeyAndForwardedToOrigin(
                    EnableAcceptEncodingGzip=True,
                    EnableAcceptEncodingBrotli=True,
                    CookiesConfig=cloudfront.CacheCookiesConfig(CookieBehavior="none"),
                    HeadersConfig=cloudfront.CacheHeadersConfig(HeaderBehavior="none"),
                    QueryStringsConfig=cloudfront.CacheQueryStringsConfig(
                        QueryStringBehavior="all"
                    ),
                ),
            ),
        )
    )
    t.add_resource(
        cloudfront.OriginRequestPolicy(
            "PageOriginRequestPolicy",
            OriginRequestPolicyConfig=cloudfront.OriginRequestPolicyConfig(
                Name=names.origin_request_policy,
                Comment="Query strings and the visitor's host; never cookies",
                CookiesConfig=cloudfront.OriginRequestCookiesConfig(CookieBehavior="none"),
                HeadersConfig=cloudfront.OriginRequestHeadersConfig(
                    HeaderBehavior="whitelist", Headers=["X-Forwarded-Host"]
                ),
                QueryStringsConfig=cloudfront.OriginRequestQueryStringsConfig(
                    QueryStringBehavior="all"
                ),
            ),
        )
    )
    host_function = [
        cloudfront.FunctionAssociation(
            EventType="viewer-request", FunctionARN=GetAtt("ForwardedHostFunction", "FunctionARN")
        )
    ]

    def api_behaviour(pattern, cache, request, methods):
        behaviour = cloudfront.CacheBehavior(
            PathPattern=pattern,
            TargetOriginId=API_ORIGIN,
            ViewerProtocolPolicy="redirect-to-https",
            AllowedMethods=methods,
            CachedMethods=["GET", "HEAD"],
            CachePolicyId=cache,
            FunctionAssociations=host_function,
            Compress=True,
        )
        if request:
            behaviour.OriginRequestPolicyId = request
        return behaviour

    def media_behaviour(pattern, headers):
        return cloudfront.CacheBehavior(
            PathPattern=pattern,
            TargetOriginId=MEDIA_ORIGIN,
            ViewerProtocolPolicy="redirect-to-https",
            AllowedMethods=["GET", "HEAD"],
            CachedMethods=["GET", "HEAD"],
            CachePolicyId=CACHING_OPTIMIZED,
            ResponseHeadersPolicyId=Ref(headers),
            Compress=True,
        )

    origin_secret = Sub(
        "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString:ORIGIN_VERIFY_SECRET}}"
    )
    if settings.domain:
        certificate = If(
            "HasCertificate",
            cloudfront.ViewerCertificate(
                AcmCertificateArn=Ref("CertificateArn"),
                SslSupportMethod="sni-only",
                MinimumProtocolVersion="TLSv1.2_2021",
            ),
            cloudfront.ViewerCertificate(CloudFrontDefaultCertificate=True),
        )
        aliases = If("HasCertificate", [settings.domain], Ref(AWS_NO_VALUE))
    else:
        certificate = cloudfront.ViewerCertificate(CloudFrontDefaultCertificate=True)
        aliases = Ref(AWS_NO_VALUE)
    t.add_resource(
        cloudfront.Distribution(
            "Distribution",
            DistributionConfig=cloudfront.DistributionConfig(
                Comment=names.function,
                Enabled=True,
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass="PriceClass_100",
                Aliases=aliases,
                ViewerCertificate=certificate,
                Origins=[
                    cloudfront.Origin(
                        Id=API_ORIGIN,
                        DomainName=If("HasApi", Ref("ApiDomain"), bucket_host),
                        OriginPath=If("HasApi", f"/{settings.name}", Ref(AWS_NO_VALUE)),
                        CustomOriginConfig=cloudfront.CustomOriginConfig(
                            OriginProtocolPolicy="https-only",
                            OriginSSLProtocols=["TLSv1.2"],
                        ),
                        OriginCustomHeaders=If(
                            "HasApi",
                            [
                                cloudfront.OriginCustomHeader(
                                    HeaderName="X-Origin-Verify", HeaderValue=origin_secret
                                )
                            ],
                            Ref(AWS_NO_VALUE),
                        ),
                    ),
                    cloudfront.Origin(
                        Id=MEDIA_ORIGIN,
                        DomainName=bucket_host,
                        S3OriginConfig=cloudfront.S3OriginConfig(OriginAccessIdentity=""),
                        OriginAccessControlId=GetAtt("MediaOriginAccessControl", "Id"),
                    ),
                ],
                CacheBehaviors=[
                    api_behaviour(
                        "/admin/*", CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER, ALL_METHODS
                    ),
                    api_behaviour(
                        "/preview/*", CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER, ALL_METHODS
                    ),
                    media_behaviour("/media/documents/*", "DocumentHeaders"),
                    media_behaviour("/media/*", "MediaHeaders"),
                    api_behaviour("/static/*", CACHING_OPTIMIZED, None, ["GET", "HEAD"]),
                ],
                DefaultCacheBehavior=cloudfront.DefaultCacheBehavior(
                    TargetOriginId=API_ORIGIN,
                    ViewerProtocolPolicy="redirect-to-https",
                    AllowedMethods=ALL_METHODS,
                    CachedMethods=["GET", "HEAD"],
                    CachePolicyId=Ref("PageCachePolicy"),
                    OriginRequestPolicyId=Ref("PageOriginRequestPolicy"),
                    FunctionAssociations=host_function,
                    Compress=True,
                ),
            ),
        )
    )
    if settings.domain:
        for kind in ("A", "AAAA"):
            t.add_resource(
                route53.RecordSetType(
                    f"DomainRecord{kind}",
                    Condition="PointsDomain",
                    HostedZoneId=Ref("HostedZoneId"),
                    Name=settings.domain,
                    Type=kind,
                    AliasTarget=route53.AliasTarget(
                        HostedZoneId=CLOUDFRONT_ZONE_ID,
                        DNSName=GetAtt("Distribution", "DomainName"),
                    ),
                )
            )

    # --- Network: private subnets, no internet gateway, no NAT ------------------------
    t.add_resource(
        ec2.VPC("Vpc", CidrBlock=VPC_CIDR, EnableDnsSupport=True, EnableDnsHostnames=True)
    )
    for index, (suffix, cidr) in enumerate(zip("AB", SUBNET_CIDRS, strict=True)):
        t.add_resource(
            ec2.Subnet(
                f"PrivateSubnet{suffix}",
                VpcId=Ref("Vpc"),
                CidrBlock=cidr,
                AvailabilityZone=Select(index, GetAZs("")),
                MapPublicIpOnLaunch=False,
            )
        )
        t.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"PrivateSubnet{suffix}Routes",
                SubnetId=Ref(f"PrivateSubnet{suffix}"),
                RouteTableId=Ref("PrivateRouteTable"),
            )
        )
    subnets = [Ref("PrivateSubnetA"), Ref("PrivateSubnetB")]
    t.add_resource(ec2.RouteTable("PrivateRouteTable", VpcId=Ref("Vpc")))
    # No egress at all unless a rule below adds it (a group without rules allows all).
    nothing_out = [
        ec2.SecurityGroupRule(
            IpProtocol="-1", CidrIp="127.0.0.1/32", Description="Nothing: no outbound traffic"
        )
    ]
    t.add_resource(
        ec2.SecurityGroup(
            "FunctionSecurityGroup",
            GroupDescription=f"{names.function}: the function (outbound only)",
            VpcId=Ref("Vpc"),
            SecurityGroupEgress=[
                # HTTPS reaches only the S3 gateway and the interface endpoints: the
                # subnets have no other route out of the VPC.
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    CidrIp="0.0.0.0/0",
                    Description="S3 gateway and VPC endpoints (no route beyond them)",
                ),
            ],
        )
    )
    t.add_resource(
        ec2.SecurityGroup(
            "EndpointSecurityGroup",
            GroupDescription=f"{names.function}: interface endpoints (HTTPS from the function)",
            VpcId=Ref("Vpc"),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    SourceSecurityGroupId=GetAtt("FunctionSecurityGroup", "GroupId"),
                    Description="HTTPS from the function",
                )
            ],
            SecurityGroupEgress=nothing_out,
        )
    )
    t.add_resource(
        ec2.SecurityGroup(
            "DatabaseSecurityGroup",
            GroupDescription=f"{names.function}: the database (PostgreSQL from the function)",
            VpcId=Ref("Vpc"),
            SecurityGroupEgress=nothing_out,
        )
    )
    database_peers = [("Function", "FunctionSecurityGroup")]
    if not aurora:
        # RDS Proxy sits in the database group and connects to the instance in it.
        database_peers.append(("Proxy", "DatabaseSecurityGroup"))
    for peer, group in database_peers:
        t.add_resource(
            ec2.SecurityGroupIngress(
                f"DatabaseIngressFrom{peer}",
                GroupId=GetAtt("DatabaseSecurityGroup", "GroupId"),
                IpProtocol="tcp",
                FromPort=config.DATABASE_PORT,
                ToPort=config.DATABASE_PORT,
                SourceSecurityGroupId=GetAtt(group, "GroupId"),
                Description=f"PostgreSQL from the {peer.lower()}",
            )
        )
    t.add_resource(
        ec2.SecurityGroupEgress(
            "FunctionEgressToDatabase",
            GroupId=GetAtt("FunctionSecurityGroup", "GroupId"),
            IpProtocol="tcp",
            FromPort=config.DATABASE_PORT,
            ToPort=config.DATABASE_PORT,
            DestinationSecurityGroupId=GetAtt("DatabaseSecurityGroup", "GroupId"),
            Description="PostgreSQL to the database",
        )
    )
    if not aurora:
        t.add_resource(
            ec2.SecurityGroupEgress(
                "ProxyEgressToDatabase",
                GroupId=GetAtt("DatabaseSecurityGroup", "GroupId"),
                IpProtocol="tcp",
                FromPort=config.DATABASE_PORT,
                ToPort=config.DATABASE_PORT,
                DestinationSecurityGroupId=GetAtt("DatabaseSecurityGroup", "GroupId"),
                Description="The proxy to the instance",
            )
        )
    bucket_objects = Sub(f"{bucket_arn}/*")
    t.add_resource(
        ec2.VPCEndpoint(
            "S3Endpoint",
            VpcId=Ref("Vpc"),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            RouteTableIds=[Ref("PrivateRouteTable")],
            # From this VPC, S3 is this stage's media bucket and nothing else.
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OnlyTheStagesMediaBucket",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": [*iam_policy.MEDIA_OBJECT_ACTIONS, "s3:ListBucket"],
                        "Resource": [Sub(bucket_arn), bucket_objects],
                    }
                ],
            },
        )
    )
    interface_endpoints = [("LambdaEndpoint", "lambda"), ("SecretsEndpoint", "secretsmanager")]
    if settings.xray:
        # Lambda's X-Ray daemon sends segments from inside the function's network.
        interface_endpoints.append(("XRayEndpoint", "xray"))
    if settings.mail_from:
        # The SES API (django-ses) from inside the function's network: SES has offered
        # interface endpoints for its API, not only SMTP, since December 2025.
        interface_endpoints.append(("EmailEndpoint", "email"))
    for logical, service in interface_endpoints:
        t.add_resource(
            ec2.VPCEndpoint(
                logical,
                VpcId=Ref("Vpc"),
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                VpcEndpointType="Interface",
                PrivateDnsEnabled=True,
                SubnetIds=subnets,
                SecurityGroupIds=[GetAtt("EndpointSecurityGroup", "GroupId")],
            )
        )

    # --- Database --------------------------------------------------------------------
    snapshot = "Snapshot" if keep else "Delete"
    t.add_resource(
        rds.DBSubnetGroup(
            "DatabaseSubnetGroup",
            DBSubnetGroupName=names.database_subnet_group,
            DBSubnetGroupDescription=f"{names.function}: the database's private subnets",
            SubnetIds=subnets,
        )
    )
    database_groups = [GetAtt("DatabaseSecurityGroup", "GroupId")]
    major = (AURORA_ENGINE_VERSION if aurora else POSTGRES_ENGINE_VERSION).split(".")[0]
    # Aurora's settings are the cluster's; an instance's are its own.
    group, family = (
        (rds.DBClusterParameterGroup, f"aurora-postgresql{major}")
        if aurora
        else (rds.DBParameterGroup, f"postgres{major}")
    )
    t.add_resource(
        group(
            "DatabaseParameters",
            Description=f"{names.function}: timeouts below the function's, UTC",
            Family=family,
            Parameters=DATABASE_PARAMETERS,
        )
    )
    if aurora:
        sizing = settings.sizing
        t.add_resource(
            rds.DBCluster(
                "DatabaseCluster",
                DeletionPolicy=snapshot,
                UpdateReplacePolicy=snapshot,
                DBClusterIdentifier=names.database,
                Engine="aurora-postgresql",
                EngineVersion=AURORA_ENGINE_VERSION,
                DatabaseName=config.DATABASE_NAME,
                Port=config.DATABASE_PORT,
                MasterUsername=MASTER_USERNAME,
                ManageMasterUserPassword=True,
                ServerlessV2ScalingConfiguration=_scaling(sizing),
                DBClusterParameterGroupName=Ref("DatabaseParameters"),
                StorageEncrypted=True,
                DeletionProtection=keep,
                BackupRetentionPeriod=7,
                CopyTagsToSnapshot=True,
                EnableCloudwatchLogsExports=["postgresql"],
                DBSubnetGroupName=Ref("DatabaseSubnetGroup"),
                VpcSecurityGroupIds=database_groups,
            )
        )
        t.add_resource(
            rds.DBInstance(
                "DatabaseInstance",
                DBInstanceIdentifier=f"{names.database}-1",
                DBClusterIdentifier=Ref("DatabaseCluster"),
                DBInstanceClass="db.serverless",
                Engine="aurora-postgresql",
                # The cluster's (Aurora ignores it on an instance; moto needs it).
                EngineVersion=AURORA_ENGINE_VERSION,
                PubliclyAccessible=False,
                AutoMinorVersionUpgrade=True,
            )
        )
        database_host = GetAtt("DatabaseCluster", "Endpoint.Address")
        database_port = GetAtt("DatabaseCluster", "Endpoint.Port")
    else:
        sizing = settings.sizing
        t.add_resource(
            rds.DBInstance(
                "Database",
                DeletionPolicy=snapshot,
                UpdateReplacePolicy=snapshot,
                DBInstanceIdentifier=names.database,
                Engine="postgres",
                EngineVersion=POSTGRES_ENGINE_VERSION,
                DBInstanceClass=sizing.instance_class,
                DBParameterGroupName=Ref("DatabaseParameters"),
                AllocatedStorage=str(sizing.allocated_storage),
                StorageType="gp3",
                StorageEncrypted=True,
                MultiAZ=sizing.multi_az,
                DBName=config.DATABASE_NAME,
                Port=str(config.DATABASE_PORT),
                MasterUsername=MASTER_USERNAME,
                ManageMasterUserPassword=True,
                PubliclyAccessible=False,
                DeletionProtection=keep,
                BackupRetentionPeriod=7,
                CopyTagsToSnapshot=True,
                AutoMinorVersionUpgrade=True,
                EnableCloudwatchLogsExports=["postgresql"],
                DBSubnetGroupName=Ref("DatabaseSubnetGroup"),
                VPCSecurityGroups=database_groups,
            )
        )
        t.add_resource(
            iam.Role(
                "DatabaseProxyRole",
                RoleName=names.proxy_role,
                AssumeRolePolicyDocument=_trust("rds.amazonaws.com"),
                **_boundary(settings),
                Policies=[
                    iam.Policy(
                        PolicyName="read-database-secret",
                        PolicyDocument={
                            "Version": "2012-10-17",
                            "Statement": [
                                _statement(
                                    "ReadTheDatabaseSecret",
                                    ["secretsmanager:GetSecretValue"],
                                    [_database_secret_arn(settings)],
                                )
                            ],
                        },
                    )
                ],
            )
        )
        t.add_resource(
            rds.DBProxy(
                "DatabaseProxy",
                DBProxyName=names.database,
                EngineFamily="POSTGRESQL",
                RequireTLS=True,
                IdleClientTimeout=1800,
                RoleArn=GetAtt("DatabaseProxyRole", "Arn"),
                Auth=[
                    rds.AuthFormat(
                        AuthScheme="SECRETS",
                        IAMAuth="DISABLED",
                        SecretArn=_database_secret_arn(settings),
                    )
                ],
                VpcSubnetIds=subnets,
                VpcSecurityGroupIds=database_groups,
            )
        )
        t.add_resource(
            rds.DBProxyTargetGroup(
                "DatabaseProxyTargets",
                DBProxyName=Ref("DatabaseProxy"),
                TargetGroupName="default",
                DBInstanceIdentifiers=[Ref("Database")],
                # Its pool: MaxConnectionsPercent of max_connections, what the function's
                # reserved concurrency is sized from (infra.config.lambda_concurrency).
                ConnectionPoolConfigurationInfo=rds.ConnectionPoolConfigurationInfoFormat(
                    MaxConnectionsPercent=config.PROXY_MAX_CONNECTIONS_PERCENT,
                    MaxIdleConnectionsPercent=PROXY_MAX_IDLE_CONNECTIONS_PERCENT,
                    ConnectionBorrowTimeout=PROXY_BORROW_TIMEOUT,
                ),
            )
        )
        database_host = GetAtt("DatabaseProxy", "Endpoint")
        database_port = str(config.DATABASE_PORT)

    # --- Dead letters ----------------------------------------------------------------
    t.add_resource(
        sqs.Queue(
            "DeadLetterQueue",
            QueueName=names.dead_letter_queue,
            MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
            SqsManagedSseEnabled=True,
            # Lambda requires an event source queue's visibility timeout to be at least
            # the function's timeout; AWS advises six times it.
            VisibilityTimeout=6 * int(zappa.get("timeout_seconds", 30)),
        )
    )

    # --- CDN purge relay (outside the VPC) -------------------------------------------
    purge_log_group = f"/aws/lambda/{names.purge_function}"
    t.add_resource(
        logs.LogGroup(
            "PurgeLogGroup", LogGroupName=purge_log_group, RetentionInDays=LOG_RETENTION_DAYS
        )
    )
    purge_logs = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    purge_logs += purge_log_group
    t.add_resource(
        iam.Role(
            "PurgeRole",
            RoleName=names.purge_role,
            AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"),
            **_boundary(settings),
            Policies=[
                iam.Policy(
                    PolicyName="purge-own-distribution",
                    PolicyDocument={
                        "Version": "2012-10-17",
                        "Statement": [
                            _statement(
                                "PurgeOwnDistribution",
                                ["cloudfront:CreateInvalidation"],
                                [Sub(distribution_arn)],
                            ),
                            _statement(
                                "OwnLogGroup",
                                ["logs:CreateLogStream", "logs:PutLogEvents"],
                                [Sub(f"{purge_logs}:*")],
                            ),
                        ],
                    },
                )
            ],
        )
    )
    t.add_resource(
        awslambda.Function(
            "PurgeFunction",
            DependsOn=["PurgeLogGroup"],
            FunctionName=names.purge_function,
            Description=f"{names.function}: sends CloudFront invalidations for the function",
            Runtime="python3.13",
            Handler="index.handler",
            MemorySize=128,
            Timeout=30,
            Role=GetAtt("PurgeRole", "Arn"),
            Code=awslambda.Code(ZipFile=PURGE_RELAY_CODE),
            Environment=awslambda.Environment(Variables={"DISTRIBUTION_ID": Ref("Distribution")}),
        )
    )

    # --- The function's role ---------------------------------------------------------
    t.add_resource(
        iam.Role(
            "FunctionRole",
            RoleName=names.role,
            Description=f"{names.function}: the function's role (cms/iam_policy.py)",
            # Zappa's own trust policy: API Gateway calls the function with this role
            # (the integration's credentials), EventBridge schedules with it.
            AssumeRolePolicyDocument=_trust(
                "lambda.amazonaws.com", "apigateway.amazonaws.com", "events.amazonaws.com"
            ),
            **_boundary(settings),
            Policies=[
                iam.Policy(
                    PolicyName="stage-permissions",
                    PolicyDocument=_subbed(role_policy(settings), _policy_variables(settings)),
                )
            ],
        )
    )

    # --- Email -----------------------------------------------------------------------
    # The sender of the review notifications (settings DEFAULT_FROM_EMAIL, set by make
    # deploy from the same mail_from): SES mails the address a link that verifies it; until
    # then sends fail as failed task runs. The role may send as this identity only.
    if settings.mail_from:
        t.add_resource(ses.EmailIdentity("MailFromIdentity", EmailIdentity=settings.mail_from))

    # --- Alarms ----------------------------------------------------------------------
    t.add_resource(sns.Topic("AlarmTopic", TopicName=names.alarm_topic))
    if settings.alarm_email:
        t.add_resource(
            sns.SubscriptionResource(
                "AlarmEmail",
                TopicArn=Ref("AlarmTopic"),
                Protocol="email",
                Endpoint=settings.alarm_email,
            )
        )
    function = [("FunctionName", names.function)]
    _alarm(t, "ServerErrorsAlarm", names.alarm("5xx-rate"),
           "More than 5% of API Gateway responses were 5xx over 5 minutes", "AWS/ApiGateway",
           "5XXError", [("ApiName", names.function), ("Stage", settings.name)], "Average",
           "GreaterThanThreshold", 0.05)  # fmt: skip
    _alarm(t, "ThrottlesAlarm", names.alarm("throttles"), "Lambda throttled the function",
           "AWS/Lambda", "Throttles", function, "Sum", "GreaterThanThreshold", 0)  # fmt: skip
    _alarm(t, "ErrorsAlarm", names.alarm("errors"),
           "Invocations (tasks, events) failed with an unhandled error", "AWS/Lambda", "Errors",
           function, "Sum", "GreaterThanThreshold", 0)  # fmt: skip
    _alarm(t, "DeadLettersAlarm", names.alarm("dead-letters"),
           "A task invocation failed after Lambda's retries (see the operations panel)",
           "AWS/SQS", "NumberOfMessagesSent", [("QueueName", names.dead_letter_queue)], "Sum",
           "GreaterThanThreshold", 0)  # fmt: skip
    _alarm(t, "TickOverdueAlarm", names.alarm("tick-overdue"),
           "The minute publishing tick did not run for 5 minutes (go-lives are late)",
           "AWS/Events", "Invocations", [("RuleName", names.tick_rule)], "Sum",
           "LessThanThreshold", 1, missing="breaching")  # fmt: skip
    if aurora:
        # Aurora's max_connections at the top of the range (RDS's default formula).
        limit = config.max_connections(settings)
        _alarm(t, "DatabaseConnectionsAlarm", names.alarm("db-connections"),
               "The database holds over 80% of its connections", "AWS/RDS",
               "DatabaseConnections", [("DBClusterIdentifier", names.database)], "Maximum",
               "GreaterThanThreshold", int(limit * 0.8))  # fmt: skip
    else:
        _alarm(t, "DatabaseConnectionsAlarm", names.alarm("db-connections"),
               "Unusually many clients hold proxy connections", "AWS/RDS",
               "ClientConnections", [("ProxyName", names.database)], "Maximum",
               "GreaterThanThreshold", PROXY_CONNECTIONS_ALARM)  # fmt: skip

    # --- The site's own metrics: alarms, the dashboard, saved queries ----------------
    _observability(t, settings, aurora)

    # --- Outputs (the contract: infra/deploy.py reads these) -------------------------
    outputs = {
        "Stage": settings.name,
        "FunctionRoleArn": GetAtt("FunctionRole", "Arn"),
        "MediaBucket": Ref("MediaBucket"),
        "DistributionId": Ref("Distribution"),
        "DistributionDomain": GetAtt("Distribution", "DomainName"),
        "SiteDomain": site_domain,
        "SubnetIds": Join(",", subnets),
        "FunctionSecurityGroupId": GetAtt("FunctionSecurityGroup", "GroupId"),
        "DeadLetterQueueArn": GetAtt("DeadLetterQueue", "Arn"),
        "DjangoSecretArn": Ref("DjangoSecret"),
        "OriginVerifySecretArn": Ref("OriginVerifySecret"),
        "DatabaseSecretArn": _database_secret_arn(settings),
        "DatabaseHost": database_host,
        "DatabasePort": database_port,
        "DatabaseName": config.DATABASE_NAME,
        "AlarmTopicArn": Ref("AlarmTopic"),
        "PurgeFunctionName": Ref("PurgeFunction"),
        "DeploymentBucket": Ref("DeploymentBucket"),
    }
    assert tuple(outputs) == OUTPUT_KEYS  # noqa: S101 (the contract's table)
    for key, value in outputs.items():
        t.add_output(Output(key, Value=value))
    return t


def build_certificate(stage) -> Template:
    """The us-east-1 stack: the stage's certificate, validated through DNS. With the
    domain's Route 53 zone id (parameter HostedZoneId) CloudFormation writes the
    validation record itself; without, the stack waits until someone does (the deploy
    prints the record)."""
    settings = _stage(stage)
    if not settings.domain:
        raise config.ConfigError(
            f"{config.STAGES_FILE.name}: stage {settings.name!r} has no domain; a certificate "
            'stack is only for a stage with one (set "domain")'
        )
    t = Template(Description=f"{settings.names.function}: the certificate for {settings.domain}")
    t.set_version("2010-09-09")
    t.add_parameter(
        Parameter(
            "HostedZoneId",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^Z[A-Z0-9]{1,31}$",
            Description="Route 53 zone of the domain: the validation record is created there",
        )
    )
    t.add_condition("HasZone", Not(Equals(Ref("HostedZoneId"), "")))
    t.add_resource(
        certificatemanager.Certificate(
            "Certificate",
            DomainName=settings.domain,
            ValidationMethod="DNS",
            DomainValidationOptions=If(
                "HasZone",
                [
                    certificatemanager.DomainValidationOption(
                        DomainName=settings.domain, HostedZoneId=Ref("HostedZoneId")
                    )
                ],
                Ref(AWS_NO_VALUE),
            ),
        )
    )
    t.add_output(Output("CertificateArn", Value=Ref("Certificate")))
    return t


def with_domain(stage, domain="www.example.com", zone="example.com") -> config.Stage:
    """``stage`` as if it had a domain (the linter checks that branch for every stage)."""
    return replace(_stage(stage), domain=domain, hosted_zone=zone)


def write(stage, directory: Path = OUTPUT_DIR, suffix="") -> list[Path]:
    """Render the stage's template(s) as YAML into ``directory``; return the paths."""
    settings = _stage(stage)
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / f"{settings.name}{suffix}.yaml"]
    written[0].write_text(build(settings).to_yaml())
    if settings.domain:
        written.append(directory / f"{settings.name}{suffix}-certificate.yaml")
        written[1].write_text(build_certificate(settings).to_yaml())
    return written


def main(argv=None) -> int:
    """``python -m infra template STAGE``: write the stage's templates; no AWS call."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["template"]:
        argv = argv[1:]
    if len(argv) != 1:
        print("usage: python -m infra template STAGE", file=sys.stderr)
        return 2
    try:
        paths = write(argv[0])
    except config.ConfigError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
