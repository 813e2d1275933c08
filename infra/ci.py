"""The account's CI stack: what GitHub Actions assumes to deploy (docs/ci.md).

    python -m infra ci-template [--repository OWNER/NAME]   # .build/infra/ci.yaml, no AWS
    python -m infra ci-apply [--repository OWNER/NAME]      # make infra-ci

One stack per account (``ci-<project>``, in the region of the stages it deploys), made
once by a person with administrator credentials, holding:

- GitHub's OIDC provider (an account has at most one per issuer, so it cannot live in a
  stage's stack; ``ci-apply`` leaves an existing one alone and reuses it);
- one deploy role per long-lived stage (``ci-<project>-staging``, ``-production``),
  trusted only by this repository's workflow runs for that stage's trigger (the
  ``sub`` claim: ``repo:OWNER/NAME:ref:refs/heads/main``, ``…:environment:production``)
  and allowed only what ``make deploy`` / ``make rollback`` do to that stage;
- the branch-stage role (``ci-<project>-branches``, trusted by ``…:pull_request``), which
  may also create and destroy whole ``pr-<number>`` stages, and only those: every name it
  touches starts with ``<project>-pr-`` (or, where AWS picks the id, the resource must be
  tagged ``stage=pr-…``), and every role it makes must carry the permissions boundary
  ``ci-<project>-branch-boundary`` (infra.template sets it on branch stages' roles).

Why here and not in each stage's stack: a role in the stack it deploys could widen
itself with a template change; here only the person who runs ``make infra-ci`` changes
what CI may do, and no CI role may touch this stack, its roles or the boundary. The
branch role cannot live in a branch stage's stack either: it makes that stack.

The long-lived stages' roles do not change their stage's infrastructure (``make infra``
previews data-losing changes for a person to read): they deploy code. Names never start
with ``<project>-`` so that no stage's own names (``<project>-<stage>…``) can clash.
"""

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path

from troposphere import Equals, Output, Parameter, Ref, Sub, Template, iam

from infra import config, deploy
from infra.deploy import CERTIFICATE_REGION

ROOT = config.ROOT
CI_FILE = ROOT / "infra" / "ci.json"
OUTPUT_DIR = ROOT / ".build" / "infra"
OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# Each long-lived stage CI deploys, and the `sub` claim of the only runs that may: pushes
# to main (staging), jobs in the protected GitHub environment "production" (tags v*).
TRIGGERS = {"staging": "ref:refs/heads/main", "production": "environment:production"}
# Pull requests (same repository only: GitHub gives forks' runs no OIDC token).
BRANCH_TRIGGER = "pull_request"
BRANCH_PREFIX = "pr-"
REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
# An hour: a first deploy (CloudFront, a database) fits; the credentials expire after.
MAX_SESSION_SECONDS = 3600
# IAM's limit for a managed policy's document (characters, whitespace not counted).
MAX_POLICY_CHARACTERS = 6144
# Actions that take no resource narrower than "*" (IAM's service authorization reference
# lists no resource type for them); each reads, lists or validates, nothing else.
AWS_REQUIRES_ANY_RESOURCE = frozenset(
    {
        "ec2:DescribeSecurityGroups",  # Lambda checks a function's VPC settings with them
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribePrefixLists",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeTags",
        "ec2:DescribeVpcEndpointServices",
        "lambda:ListEventSourceMappings",
        "lambda:ListFunctions",  # make destroy's proof that the stage's functions are gone
        "lambda:CreateEventSourceMapping",  # tied to the stage's function by a condition
        "events:ListRuleNamesByTarget",  # the target (the stage's function) is the filter
        "tag:GetResources",  # make destroy's proof that nothing tagged with the stage is left
        "secretsmanager:GetRandomPassword",  # CloudFormation generates the stage's secrets
        "logs:DescribeLogGroups",
        "rds:DescribeDBEngineVersions",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)


class CiError(Exception):
    """What stopped ci-template or ci-apply; the message names the problem and the fix."""


# --- names ------------------------------------------------------------------------------


def project() -> str:
    return config.names(config.stage_list()[0]).project


def stack_name(project_name: str) -> str:
    return f"ci-{project_name}"


def role_name(project_name: str, who: str) -> str:
    """``who``: a stage of TRIGGERS, or "branches"."""
    return f"ci-{project_name}-{who}"


def boundary_name(project_name: str) -> str:
    """The managed policy every role a branch stage's stack makes must carry."""
    return f"ci-{project_name}-branch-boundary"


def boundary_arn(project_name: str) -> str:
    """As a Fn::Sub string (infra.template puts it on branch stages' roles)."""
    return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/{boundary_name(project_name)}"


def branch_template() -> str:
    return getattr(config, "BRANCH_TEMPLATE", "preview")


def is_branch_stage(stage: str) -> bool:
    """infra.config's rule when it has one (helper *branch*), else the pull-request form."""
    rule = getattr(config, "is_branch_stage", None)
    if rule is not None:
        return rule(stage)
    return bool(re.fullmatch(r"(?:pr-\d+|br-[a-z0-9-]+)", stage))


def read_repository(given: str | None = None) -> str:
    """OWNER/NAME of the GitHub repository: --repository, else infra/ci.json."""
    value = given
    if value is None:
        try:
            value = json.loads(CI_FILE.read_text()).get("repository")
        except (OSError, ValueError, AttributeError) as exc:
            raise CiError(f"{CI_FILE.name}: not a readable JSON object ({exc})") from exc
    if not value:
        raise CiError(
            f'Which GitHub repository deploys? Set "repository": "OWNER/NAME" in infra/'
            f"{CI_FILE.name} (or pass --repository OWNER/NAME)"
        )
    if not isinstance(value, str) or not REPOSITORY.match(value):
        raise CiError(f"repository {value!r} is not OWNER/NAME (as in github.com/OWNER/NAME)")
    return value


# --- policies ---------------------------------------------------------------------------

P = "arn:${AWS::Partition}"
ACCOUNT = "${AWS::AccountId}"


class Scope:
    """What one role deploys: a stage (``staging``) or every branch stage (``pr-*``),
    with each name pattern its policies use."""

    def __init__(self, project_name: str, stage: str, region: str):
        self.project, self.stage, self.region = project_name, stage, region
        self.branches = stage.endswith("*")
        self.function = f"{project_name}-{stage}"
        # Tag conditions: exactly the stage, or any branch stage.
        self.match = "StringLike" if self.branches else "StringEquals"

    def arn(self, service: str, rest: str) -> str:
        return f"{P}:{service}:{self.region}:{ACCOUNT}:{rest}"

    @property
    def functions(self) -> list[str]:
        base = self.arn("lambda", f"function:{self.function}")
        return [base] if self.branches else [base, f"{base}:*"]

    @property
    def stacks(self) -> list[str]:
        if self.branches:
            # make destroy also looks for (and removes) a certificate stack in us-east-1.
            return [self.arn("cloudformation", f"stack/{self.function}/*"),
                    f"{P}:cloudformation:{CERTIFICATE_REGION}:{ACCOUNT}:stack/"
                    f"{self.function}-cert/*"]  # fmt: skip
        names = [self.function, f"{self.function}-infra"]
        return [self.arn("cloudformation", f"stack/{name}/*") for name in names]

    def bucket(self, kind: str) -> str:
        return f"arn:${{AWS::Partition}}:s3:::{self.function}-{kind}-{ACCOUNT}"

    def rule_names(self) -> list[str]:
        """Zappa names its EventBridge rules FUNCTION-EVENT, or, when that is 64
        characters or more, SHA1(FUNCTION)-EVENT (Zappa.get_scheduled_event_name)."""
        names = [f"{self.function}-*"]
        if not self.branches:
            digest = hashlib.sha1(self.function.encode()).hexdigest()  # noqa: S324 (Zappa's)
            names.append(f"{digest[:16]}*")
        return [self.arn("events", f"rule/{name}") for name in names]

    def tagged(self, key: str = "aws:ResourceTag") -> dict:
        return {self.match: {f"{key}/stage": self.stage}}


# The statements are laid out by hand (one action list per statement, verbs on a line)
# so that a reviewer reads them as IAM shows them.
# fmt: off
def _actions(service: str, verbs: str) -> list[str]:
    """``_actions("s3", "GetObject PutObject")``: ["s3:GetObject", "s3:PutObject"]."""
    return [f"{service}:{verb}" for verb in verbs.split()]


def _statement(sid, actions, resources, condition=None, effect="Allow") -> dict:
    statement = {"Sid": sid, "Effect": effect, "Action": sorted(actions),
                 "Resource": resources if resources == "*" else list(resources)}
    if condition:
        statement["Condition"] = condition
    return statement


def deploy_statements(scope: Scope) -> list[dict]:
    """What ``make deploy`` and ``make rollback`` do to one stage (cms/lambda_build.py,
    infra/release.py, and the Zappa commands they run)."""
    stack_actions = _actions(
        "cloudformation",
        "CreateChangeSet DeleteChangeSet DescribeChangeSet ExecuteChangeSet ListChangeSets "
        "CreateStack UpdateStack DescribeStacks DescribeStackEvents DescribeStackResource "
        "DescribeStackResources ListStackResources GetTemplate GetTemplateSummary",
    )
    function_actions = _actions(
        "lambda",
        "GetFunction GetFunctionConfiguration CreateFunction UpdateFunctionCode "
        "UpdateFunctionConfiguration PublishVersion ListVersionsByFunction GetAlias "
        "CreateAlias UpdateAlias ListAliases InvokeFunction AddPermission RemovePermission "
        "GetPolicy TagResource ListTags ListFunctionUrlConfigs DeleteFunctionConcurrency",
    )
    # The first deploy points CloudFront at the new API: a parameter-only update of the
    # stage's stack (infra.deploy.set_api_domain), which changes the distribution and
    # resolves the origin header's secret, with these credentials. The branch role has
    # both through the branch-stage statements.
    origin_secret = config.Names(scope.project, scope.stage).origin_verify_secret
    api_domain = [] if scope.branches else [
        _statement("PointTheStagesDistribution",
                   _actions("cloudfront", "GetDistribution GetDistributionConfig "
                                          "UpdateDistribution"),
                   [f"{P}:cloudfront::{ACCOUNT}:distribution/*"], scope.tagged()),
        _statement("TheStagesOriginHeader",
                   _actions("secretsmanager", "GetSecretValue DescribeSecret"),
                   [scope.arn("secretsmanager", f"secret:{origin_secret}-*")]),
    ]
    if scope.branches:
        stack_actions += _actions("cloudformation", "DeleteStack UpdateTerminationProtection")
        function_actions += _actions("lambda", "DeleteFunction DeleteAlias")
    mapping = {"ArnLike": {"lambda:FunctionArn": scope.functions}}
    apis = f"{P}:apigateway:{scope.region}::/restapis"
    role = [f"{P}:iam::{ACCOUNT}:role/{scope.function}"]
    return [
        # The stage's stack (outputs, the ApiDomain parameter) and Zappa's API stack.
        # CloudFormation acts with these credentials: it can do no more than they can.
        _statement("TheStagesStacks", stack_actions, scope.stacks),
        _statement("TheStagesFunction", function_actions, scope.functions),
        # Zappa keeps num_retained_versions: it deletes older versions, never the function.
        *(
            []
            if scope.branches
            else [_statement("OldVersions", ["lambda:DeleteFunction"], [scope.functions[1]])]
        ),
        _statement("EventSourcesOfTheFunction", ["lambda:CreateEventSourceMapping"], "*",
                   mapping),
        _statement(
            "ChangeEventSourcesOfTheFunction",
            _actions("lambda", "GetEventSourceMapping UpdateEventSourceMapping "
                               "DeleteEventSourceMapping"),
            [scope.arn("lambda", "event-source-mapping:*")],
            mapping,
        ),
        _statement(
            "ListWhatLambdaAndTheVpcHave",
            ["lambda:ListEventSourceMappings", "events:ListRuleNamesByTarget",
             *_actions("ec2", "DescribeSecurityGroups DescribeSubnets DescribeVpcs")],
            "*",
        ),
        _statement("PackageBucket", _actions("s3", "ListBucket GetBucketLocation"),
                   [scope.bucket("zappa")]),
        _statement("Packages", _actions("s3", "GetObject PutObject DeleteObject "
                                              "AbortMultipartUpload"),
                   [f"{scope.bucket('zappa')}/*"]),
        # Zappa's S3 event source: the upload notification on the media bucket.
        _statement("MediaBucketNotification",
                   _actions("s3", "GetBucketNotification PutBucketNotification"),
                   [scope.bucket("media")]),
        # API Gateway ids are AWS's choice: the stage's API is the one tagged with it
        # (Zappa's stack carries the stage's tags; an API's parts inherit its tags).
        _statement("ListApis", ["apigateway:GET"], [apis]),
        _statement("CreateTheStagesApi", _actions("apigateway", "POST PUT"),
                   [apis, f"{P}:apigateway:{scope.region}::/tags/*"],
                   scope.tagged("aws:RequestTag")),
        _statement("TheStagesApi", _actions("apigateway", "GET POST PUT PATCH DELETE"),
                   [f"{apis}/*"], scope.tagged()),
        _statement(
            "TheStagesSchedules",
            _actions("events", "PutRule DeleteRule DescribeRule EnableRule DisableRule "
                               "PutTargets RemoveTargets ListTargetsByRule TagResource "
                               "ListTagsForResource"),
            scope.rule_names(),
        ),
        _statement("PassTheFunctionsRole", ["iam:PassRole"], role,
                   {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com",
                                                             "apigateway.amazonaws.com"]}}),
        _statement("ReadTheFunctionsRole", ["iam:GetRole"], role),
        # The release watches the stage's alarms while it moves traffic.
        _statement("TheStagesAlarms", ["cloudwatch:DescribeAlarms"],
                   [scope.arn("cloudwatch", f"alarm:{scope.function}-*")]),
        *api_domain,
    ]


def branch_statements(scope: Scope, project_name: str) -> list[list[dict]]:
    """What ``make infra`` and ``make destroy`` do to a branch stage, in policies that
    fit IAM's size limit: only names starting with ``<project>-pr-``, or (where AWS picks
    the id) resources tagged ``stage=pr-…``; roles only with the boundary."""
    fn = scope.function
    boundary = {"StringEquals": {"iam:PermissionsBoundary": Sub(boundary_arn(project_name))}}
    buckets = [scope.bucket("media"), scope.bucket("zappa")]
    roles = [f"{P}:iam::{ACCOUNT}:role/{fn}"]
    storage = [
        _statement(
            "BranchBuckets",
            _actions("s3", "CreateBucket DeleteBucket ListBucket ListBucketVersions "
                           "GetBucketLocation GetBucketTagging PutBucketTagging GetBucketPolicy "
                           "PutBucketPolicy DeleteBucketPolicy GetBucketPublicAccessBlock "
                           "PutBucketPublicAccessBlock GetBucketOwnershipControls "
                           "PutBucketOwnershipControls GetEncryptionConfiguration "
                           "PutEncryptionConfiguration GetLifecycleConfiguration "
                           "PutLifecycleConfiguration GetBucketCORS PutBucketCORS "
                           "GetBucketVersioning GetBucketAcl"),
            buckets,
        ),
        _statement("BranchObjects",
                   _actions("s3", "GetObject PutObject DeleteObject DeleteObjectVersion"),
                   [f"{b}/*" for b in buckets]),
        _statement(
            "BranchSecrets",
            _actions("secretsmanager", "CreateSecret DeleteSecret DescribeSecret "
                                       "GetSecretValue PutSecretValue UpdateSecret "
                                       "TagResource UntagResource"),
            [scope.arn("secretsmanager", f"secret:{project_name}/{scope.stage}")],
        ),
        # RDS names the database's secret itself (rds!cluster-…) when it manages the
        # password; it tags it with the cluster's ARN.
        _statement(
            "DatabaseSecret",
            _actions("secretsmanager", "CreateSecret TagResource DescribeSecret "
                                       "DeleteSecret RotateSecret"),
            [scope.arn("secretsmanager", "secret:rds!*")],
            {"StringLike": {"aws:RequestTag/aws:rds:primaryDBClusterArn":
                            scope.arn("rds", f"cluster:{fn}-db")}},
        ),
        _statement(
            "BranchDatabase",
            _actions("rds", "CreateDBCluster CreateDBInstance ModifyDBCluster ModifyDBInstance "
                            "DeleteDBCluster DeleteDBInstance DescribeDBClusters "
                            "DescribeDBInstances AddTagsToResource RemoveTagsFromResource "
                            "ListTagsForResource CreateDBSubnetGroup DeleteDBSubnetGroup "
                            "ModifyDBSubnetGroup DescribeDBSubnetGroups "
                            "DescribeDBClusterSnapshots DeleteDBClusterSnapshot "
                            "DescribeDBSnapshots DeleteDBSnapshot"),
            [scope.arn("rds", f"{kind}:{fn}-db*")
             for kind in ("cluster", "db", "subgrp", "cluster-snapshot", "snapshot")],
        ),
        # AWS's own default parameter and option groups, which a new database uses.
        _statement(
            "DefaultDatabaseGroups",
            _actions("rds", "CreateDBCluster CreateDBInstance"),
            [scope.arn("rds", "cluster-pg:default.*"), scope.arn("rds", "pg:default.*"),
             scope.arn("rds", "og:default:*")],
        ),
        _statement("RdsServiceRole", ["iam:CreateServiceLinkedRole"],
                   [f"{P}:iam::{ACCOUNT}:role/aws-service-role/rds.amazonaws.com/*"],
                   {"StringEquals": {"iam:AWSServiceName": "rds.amazonaws.com"}}),
        _statement(
            "ListAndGenerate",
            ["tag:GetResources", "secretsmanager:GetRandomPassword", "logs:DescribeLogGroups",
             "rds:DescribeDBEngineVersions", "lambda:ListFunctions",
             *_actions("ec2", "DescribeNetworkInterfaces DescribeRouteTables "
                              "DescribeVpcEndpoints DescribeVpcAttribute "
                              "DescribeAvailabilityZones DescribePrefixLists "
                              "DescribeSecurityGroupRules DescribeTags "
                              "DescribeVpcEndpointServices")],
            "*",
        ),
    ]
    network_kinds = ("vpc", "subnet", "route-table", "security-group", "vpc-endpoint")
    network = [scope.arn("ec2", f"{kind}/*") for kind in network_kinds]
    creates = _actions("ec2", "CreateVpc CreateSubnet CreateRouteTable CreateSecurityGroup "
                              "CreateVpcEndpoint CreateTags")
    distributions = [f"{P}:cloudfront::{ACCOUNT}:distribution/*"]
    platform = [
        # EC2 ids are AWS's: a branch stage's network is what carries its stage tag
        # (CloudFormation tags what it creates with the stack's tags).
        _statement("CreateTaggedNetwork", creates, network, scope.tagged("aws:RequestTag")),
        _statement(
            "ChangeTaggedNetwork",
            [*creates,
             *_actions("ec2", "DeleteTags DeleteVpc ModifyVpcAttribute DeleteSubnet "
                              "ModifySubnetAttribute DeleteRouteTable AssociateRouteTable "
                              "DisassociateRouteTable DeleteSecurityGroup "
                              "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress "
                              "RevokeSecurityGroupIngress RevokeSecurityGroupEgress "
                              "ModifyVpcEndpoint DeleteVpcEndpoints")],
            network,
            scope.tagged(),
        ),
        _statement("CreateTaggedDistribution",
                   _actions("cloudfront", "CreateDistribution TagResource"), distributions,
                   scope.tagged("aws:RequestTag")),
        _statement(
            "ChangeTaggedDistribution",
            _actions("cloudfront", "GetDistribution GetDistributionConfig UpdateDistribution "
                                   "DeleteDistribution TagResource UntagResource "
                                   "ListTagsForResource CreateInvalidation"),
            distributions,
            scope.tagged(),
        ),
        # Cache, request and header policies and origin access controls take neither a
        # name in their ARN nor tags: their ids are AWS's choice (docs/ci.md says what
        # this allows).
        _statement(
            "DistributionPolicies",
            [f"cloudfront:{verb}{kind}"
             for kind in ("CachePolicy", "OriginRequestPolicy", "ResponseHeadersPolicy",
                          "OriginAccessControl")
             for verb in ("Create", "Get", "Update", "Delete")],
            [f"{P}:cloudfront::{ACCOUNT}:{kind}/*" for kind in
             ("cache-policy", "origin-request-policy", "response-headers-policy",
              "origin-access-control")],
        ),
        _statement(
            "BranchCloudFrontFunctions",
            _actions("cloudfront", "CreateFunction DescribeFunction GetFunction UpdateFunction "
                                   "PublishFunction DeleteFunction"),
            [f"{P}:cloudfront::{ACCOUNT}:function/{fn}-*"],
        ),
    ]
    rest = [
        _statement(
            "BranchQueues",
            _actions("sqs", "CreateQueue DeleteQueue GetQueueAttributes SetQueueAttributes "
                            "GetQueueUrl TagQueue UntagQueue ListQueueTags"),
            [scope.arn("sqs", f"{fn}-*")],
        ),
        _statement(
            "BranchTopics",
            _actions("sns", "CreateTopic DeleteTopic GetTopicAttributes SetTopicAttributes "
                            "TagResource UntagResource ListTagsForResource Subscribe "
                            "Unsubscribe"),
            [scope.arn("sns", f"{fn}-*")],
        ),
        _statement(
            "BranchAlarms",
            _actions("cloudwatch", "PutMetricAlarm DeleteAlarms TagResource UntagResource "
                                   "ListTagsForResource"),
            [scope.arn("cloudwatch", f"alarm:{fn}-*")],
        ),
        _statement(
            "BranchLogGroups",
            _actions("logs", "CreateLogGroup DeleteLogGroup PutRetentionPolicy "
                             "DeleteRetentionPolicy TagResource UntagResource "
                             "ListTagsForResource TagLogGroup ListTagsLogGroup"),
            [scope.arn("logs", f"log-group:/aws/lambda/{fn}"),
             scope.arn("logs", f"log-group:/aws/lambda/{fn}:*")],
        ),
        # Roles only with the boundary: whatever policy a branch stage's template gives
        # its roles, they can do no more than the boundary allows.
        _statement("BranchRolesWithTheBoundary",
                   _actions("iam", "CreateRole PutRolePolicy PutRolePermissionsBoundary"),
                   roles, boundary),
        _statement(
            "BranchRoles",
            _actions("iam", "DeleteRole DeleteRolePolicy GetRole GetRolePolicy "
                            "ListRolePolicies ListAttachedRolePolicies TagRole UntagRole "
                            "UpdateRole UpdateRoleDescription UpdateAssumeRolePolicy "
                            "ListRoleTags ListInstanceProfilesForRole"),
            roles,
        ),
        _statement("PassBranchRoles", ["iam:PassRole"], roles,
                   {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com",
                                                             "apigateway.amazonaws.com",
                                                             "rds.amazonaws.com"]}}),
        # Even if a policy above were widened: the boundary stays on and stays as it is.
        _statement(
            "KeepTheBoundary",
            _actions("iam", "DeleteRolePermissionsBoundary CreatePolicyVersion DeletePolicy "
                            "DeletePolicyVersion SetDefaultPolicyVersion DetachRolePolicy "
                            "AttachRolePolicy"),
            [f"{P}:iam::{ACCOUNT}:role/*", Sub(boundary_arn(project_name))],
            effect="Deny",
        ),
    ]
    return [storage, platform, rest]


def boundary_statements(scope: Scope, project_name: str) -> list[dict]:
    """The cap on every role a branch stage's stack makes (the function's, the purge
    relay's, the database proxy's): the union of what cms/iam_policy.py and
    infra/template.py give them, over branch stages' names only."""
    fn = scope.function
    log_groups = scope.arn("logs", f"log-group:/aws/lambda/{fn}")
    return [
        _statement("BranchLogs", _actions("logs", "CreateLogGroup CreateLogStream PutLogEvents"),
                   [log_groups, f"{log_groups}:*"]),
        _statement("InvokeBranchFunctions", ["lambda:InvokeFunction"],
                   [scope.arn("lambda", f"function:{fn}")]),
        _statement("BranchMedia", _actions("s3", "GetObject PutObject DeleteObject"),
                   [f"{scope.bucket('media')}/*"]),
        _statement("BranchMediaBucket", ["s3:ListBucket"], [scope.bucket("media")]),
        # A purge is a cache refill, never a read or a write of content.
        _statement("Purge", ["cloudfront:CreateInvalidation"],
                   [f"{P}:cloudfront::{ACCOUNT}:distribution/*"]),
        _statement("BranchDeadLetters",
                   _actions("sqs", "SendMessage ReceiveMessage DeleteMessage "
                                   "GetQueueAttributes"),
                   [scope.arn("sqs", f"{fn}-dead-letters")]),
        _statement("BranchSecrets", ["secretsmanager:GetSecretValue"],
                   [scope.arn("secretsmanager", f"secret:{project_name}/{scope.stage}")]),
        # The database's RDS-managed secret, only of a branch stage's cluster.
        _statement("BranchDatabaseSecret", ["secretsmanager:GetSecretValue"],
                   [scope.arn("secretsmanager", "secret:rds!*")],
                   {"StringLike": {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn":
                                   scope.arn("rds", f"cluster:{fn}-db")}}),
        # Lambda makes the function's network interfaces with its role, in the stage's
        # subnets and security group (tagged with the stage by its stack).
        _statement("NewNetworkInterfaces",
                   _actions("ec2", "CreateNetworkInterface DeleteNetworkInterface "
                                   "AssignPrivateIpAddresses UnassignPrivateIpAddresses"),
                   [scope.arn("ec2", "network-interface/*")]),
        _statement("InBranchSubnets", ["ec2:CreateNetworkInterface"],
                   [scope.arn("ec2", "subnet/*"), scope.arn("ec2", "security-group/*")],
                   scope.tagged()),
        _statement("LambdaNetworking",
                   ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                    "xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                   "*"),
    ]
# fmt: on


def _plain(value):
    return value.to_dict() if hasattr(value, "to_dict") else str(value)


def _sub(value):
    """Strings with ${…} as Fn::Sub, through lists and dicts."""
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return Sub(value)
    return value


def _document(statements: list[dict]) -> dict:
    document = {"Version": "2012-10-17", "Statement": _sub(statements)}
    size = len(re.sub(r"\s", "", json.dumps(document, default=_plain)))
    if size > MAX_POLICY_CHARACTERS:  # a bug here, not an operator's mistake
        raise CiError(f"a CI policy is {size} characters, over IAM's {MAX_POLICY_CHARACTERS}")
    return document


def _trust(repository: str, trigger: str) -> dict:
    """Only this repository's runs for ``trigger`` (the token's ``sub``), with the token
    meant for STS (``aud``)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsOfThisRepositoryOnly",
                "Effect": "Allow",
                "Principal": {
                    "Federated": Sub(
                        f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{OIDC_HOST}"
                    )
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{OIDC_HOST}:aud": AUDIENCE,
                        f"{OIDC_HOST}:sub": f"repo:{repository}:{trigger}",
                    }
                },
            }
        ],
    }


def deployed_stages() -> dict[str, config.Stage]:
    """The long-lived stages CI deploys, checked."""
    stages = {}
    for stage in TRIGGERS:
        try:
            stages[stage] = config.load(stage)
        except config.ConfigError as exc:
            raise CiError(f"CI deploys {stage}: {exc}") from exc
    clashing = [s for s in config.stage_list() if s.startswith(BRANCH_PREFIX)]
    if clashing:
        raise CiError(
            f"Stage(s) {', '.join(clashing)} start with {BRANCH_PREFIX!r}, which names branch "
            "stages: the branch-stage role could change them. Rename them"
        )
    return stages


def build(repository: str) -> Template:
    """The account's CI stack for ``repository`` (OWNER/NAME)."""
    repository = read_repository(repository)
    name = project()
    stages = deployed_stages()
    branch_region = config.load(branch_template()).region
    t = Template(
        Description=f"{name}: GitHub Actions' OIDC provider and deploy roles for {repository} "
        "(infra/ci.py; make infra-ci)"
    )
    t.set_version("2010-09-09")
    t.add_parameter(
        Parameter(
            "CreateOidcProvider",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description=f"false when the account already has {OIDC_HOST}'s provider (one "
            "per account): the roles trust that one (make infra-ci finds out)",
        )
    )
    t.add_condition("MakesProvider", Equals(Ref("CreateOidcProvider"), "true"))
    t.add_resource(
        iam.OIDCProvider(
            "GitHubOidcProvider",
            Condition="MakesProvider",
            Url=f"https://{OIDC_HOST}",
            ClientIdList=[AUDIENCE],
        )
    )

    def role(logical, who, trigger, documents: list[tuple[str, list[dict]]]):
        t.add_resource(
            iam.Role(
                logical,
                RoleName=role_name(name, who),
                Description=f"GitHub Actions of {repository} ({trigger}): deploys {who}",
                MaxSessionDuration=MAX_SESSION_SECONDS,
                AssumeRolePolicyDocument=_trust(repository, trigger),
            )
        )
        for index, (part, statements) in enumerate(documents):
            t.add_resource(
                iam.ManagedPolicy(
                    f"{logical}Policy{index}",
                    ManagedPolicyName=f"{role_name(name, who)}-{part}",
                    Description=f"What CI may do to {who}: {part}",
                    PolicyDocument=_document(statements),
                    Roles=[Ref(logical)],
                )
            )
        t.add_output(Output(f"{logical}Arn", Value=Sub(f"${{{logical}.Arn}}")))

    for stage, settings in stages.items():
        logical = f"{stage.title().replace('-', '')}DeployRole"
        scope = Scope(name, stage, settings.region)
        role(logical, stage, TRIGGERS[stage], [("deploy", deploy_statements(scope))])

    branches = Scope(name, f"{BRANCH_PREFIX}*", branch_region)
    t.add_resource(
        iam.ManagedPolicy(
            "BranchBoundary",
            ManagedPolicyName=boundary_name(name),
            Description="The most any role a branch stage's stack makes may do",
            PolicyDocument=_document(boundary_statements(branches, name)),
        )
    )
    storage, platform, rest = branch_statements(branches, name)
    role(
        "BranchDeployRole",
        "branches",
        BRANCH_TRIGGER,
        [("deploy", deploy_statements(branches)), ("storage", storage),
         ("platform", platform), ("roles", rest)],
    )  # fmt: skip
    t.add_output(Output("BranchBoundaryArn", Value=Ref("BranchBoundary")))
    return t


def write(repository: str, directory: Path | None = None) -> Path:
    """The CI stack's YAML in ``directory`` (default .build/infra/); no AWS call."""
    directory = directory or OUTPUT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ci.yaml"
    path.write_text(build(repository).to_yaml())
    return path


# --- ci-apply ---------------------------------------------------------------------------


def apply(repository: str | None = None) -> dict:
    """``make infra-ci``: create or update the CI stack through a previewed change set
    (infra.deploy's helpers). Returns the stack's outputs."""
    repository = read_repository(repository)
    name = project()
    region = config.load(next(iter(TRIGGERS))).region
    again = "make infra-ci"
    try:
        account = deploy.check_credentials(region, again)
        deploy.log(f"account {account}, region {region}, repository {repository}")
        cf = deploy.client("cloudformation", region)
        stack = deploy.describe_stack(cf, stack_name(name))
        deploy.check_not_busy(stack, again)
        owned = deploy.owned_physical_ids(cf, stack)
        providers = deploy.client("iam", region).list_open_id_connect_providers()
        existing = {p["Arn"] for p in providers.get("OpenIDConnectProviderList", [])}
        ours = any(arn.endswith(f"/{OIDC_HOST}") for arn in owned)
        elsewhere = not ours and any(arn.endswith(f"/{OIDC_HOST}") for arn in existing)
        if elsewhere:
            deploy.log(f"{OIDC_HOST}: the account has its provider already; the roles trust it")
        body = deploy.render(build(repository))
        parameters = [{"ParameterKey": "CreateOidcProvider",
                       "ParameterValue": "false" if elsewhere else "true"}]  # fmt: skip
        new = stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS"
        kind = "CREATE" if new else "UPDATE"
        tags = [{"Key": "project", "Value": name}, {"Key": "purpose", "Value": "ci"}]
        made = deploy.create_change_set(cf, stack_name(name), body, parameters, tags, kind)
        if made is None:
            deploy.log(f"{stack_name(name)}: no changes (the change set is deleted)")
        else:
            change_set, changes = made
            deploy.show_changes(stack_name(name), kind, changes)
            started = time.time()
            deploy.execute(cf, stack_name(name), change_set)
            deploy.wait(cf, stack_name(name), kind, started)
            deploy.log(f"{stack_name(name)}: {'created' if new else 'updated'}")
        deploy.protect(cf, stack_name(name), on=True)
        stack = deploy.describe_stack(cf, stack_name(name))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    except deploy.DeployError as exc:
        raise CiError(str(exc)) from exc
    deploy.log("Set these variables in GitHub (Settings > Secrets and variables > Actions >")
    deploy.log(f"Variables; no secret is needed): AWS_ACCOUNT_ID={account} AWS_REGION={region}")
    for key, value in outputs.items():
        deploy.log(f"  {key} = {value}")
    return outputs


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m infra")
    parser.add_argument("command", choices=["ci-template", "ci-apply"])
    parser.add_argument("--repository", help="OWNER/NAME (default: infra/ci.json)")
    options = parser.parse_args(argv)
    try:
        if options.command == "ci-template":
            path = write(options.repository)
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        else:
            apply(options.repository)
    except (CiError, config.ConfigError) as exc:
        print(f"[infra] STOPPED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
