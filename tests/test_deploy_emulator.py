"""The emulator stage's whole life against a moto server on loopback, through the real
commands a user runs: ``make infra``, ``make deploy`` (the real Zappa CLI from the
runtime-only build), ``make destroy``; each resource checked through its own service's
API, never by the stack's status.

moto's CloudFormation reports resource types it does not implement as created and makes
nothing (CloudFront, Secrets Manager secrets, the Aurora cluster), and leaves out the
outputs that name them. The test makes those through their own APIs as the template
describes them (the distribution from the template's own DistributionConfig, its refs
resolved), tagged as the stack would tag them, and hands their ids to ``make deploy``
through INFRA_OUTPUTS, so that what the wiring does with real values is exercised:
outputs into Zappa's settings, the dead-letter queue on the function, the CloudFront
origin pointed at the API, and the secrets read by production settings at start.

moto cannot run the function (no Docker); its simple mode answers the release's
invocations of the new version (``migrate``, ``release_smoke``) with a canned success,
or, through the documented shim tests/infra/moto_shims.fail_command, with the
FunctionError Lambda answers when the command raised. The request to the site after a
release goes to SMOKE_URL, a local stand-in for the distribution (moto's CloudFront
serves nothing). What runs inside the function is covered by the in-process handler
tests and tests/cms/test_release_smoke.py.
"""

import ast
import json
import os
import re
import subprocess
import sys
import threading

import pytest
import requests

from cms import aws as aws_adapter
from tests.aws_fixtures import unresolved
from tests.lambda_fixtures import ROOT

pytestmark = pytest.mark.deploy

STAGE = "emulator"
FUNCTION = f"lambda-cms-{STAGE}"
ACCOUNT = "123456789012"  # moto's
REGION = "eu-west-1"
TAGS = {"project": "lambda-cms", "stage": STAGE}
URL_SUFFIX = "amazonaws.com"
NO_VALUE = object()


def client(name):
    return aws_adapter.client(name)


# --- running the commands ---------------------------------------------------------------


def make(target, env, *args):
    """``make TARGET STAGE=emulator …`` as a user runs it, against the moto server."""
    result = subprocess.run(
        ["make", target, f"STAGE={STAGE}", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    result.output = result.stdout + result.stderr
    return result


def zappa_steps(output):
    return [
        line.split("$ zappa ", 1)[1].split()[0]
        for line in output.splitlines()
        if "$ zappa " in line
    ]


@pytest.fixture
def smoke_server():
    """A stand-in for the stage's site (its CloudFront address), answering with a chosen
    status."""
    import http.server

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


@pytest.fixture
def emulator(aws, monkeypatch):
    """The moto server with the stage-stack shims (tests/infra/moto_shims.py) and
    Lambda's simple mode; the environment the make commands run with."""
    from tests.infra import moto_shims

    moto_shims.install()
    requests.post(f"{aws}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10)
    monkeypatch.delenv("INFRA_OUTPUTS", raising=False)
    return {"AWS_ENDPOINT_URL": aws}


# --- what moto's CloudFormation cannot make, made as the template says --------------------


def stage_template(api_domain=""):
    from infra import template

    return template.build(STAGE).to_dict(), {"ApiDomain": api_domain}


def resolve(value, refs, attributes, parameters, conditions):
    """``value`` with CloudFormation's intrinsic functions worked out as CloudFormation
    would: refs and attributes from the resources made, the pseudo parameters, the
    stack's parameters and conditions; AWS::NoValue leaves the property out."""
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::URLSuffix": URL_SUFFIX,
              "AWS::Partition": "aws", "AWS::NoValue": NO_VALUE}  # fmt: skip

    def ref(name):
        for known in (pseudo, parameters, refs):
            if name in known:
                return known[name]
        raise KeyError(f"no value for Ref {name}")

    def again(v):
        return resolve(v, refs, attributes, parameters, conditions)

    if isinstance(value, list):
        return [item for item in map(again, value) if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return ref(value["Ref"])
    if "Fn::GetAtt" in value:
        return attributes[tuple(value["Fn::GetAtt"])]
    if "Fn::If" in value:
        name, yes, no = value["Fn::If"]
        return again(yes if conditions[name] else no)
    if "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        return separator.join(again(items))
    if "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else (
            value["Fn::Sub"][0], {k: again(v) for k, v in value["Fn::Sub"][1].items()}
        )  # fmt: skip

        def sub(match):
            name = match[1]
            if name in variables:
                return variables[name]
            if "." in name and not name.startswith("AWS::"):
                return attributes[tuple(name.split(".", 1))]
            return ref(name)

        return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", sub, text)
    resolved = {key: again(v) for key, v in value.items()}
    return {key: v for key, v in resolved.items() if v is not NO_VALUE}


def resolve_secret_references(value, secrets):
    """CloudFormation's {{resolve:secretsmanager:ARN:SecretString:KEY}} references."""
    pattern = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:(\w+)\}\}")
    if isinstance(value, dict):
        return {k: resolve_secret_references(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secret_references(v, secrets) for v in value]
    if isinstance(value, str):
        return pattern.sub(lambda m: json.loads(secrets[m[1]])[m[2]], value)
    return value


def api_shape(config):
    """A CloudFormation DistributionConfig in the CloudFront API's shape (lists become
    Quantity/Items, a few names differ, ports CloudFormation defaults are spelled out)."""

    def items(values):
        return {"Quantity": len(values), "Items": values}

    def behaviour(b):
        b = dict(b)
        methods = b.pop("AllowedMethods", ["GET", "HEAD"])
        cached = b.pop("CachedMethods", ["GET", "HEAD"])
        b["AllowedMethods"] = {**items(methods), "CachedMethods": items(cached)}
        if "FunctionAssociations" in b:
            b["FunctionAssociations"] = items(b["FunctionAssociations"])
        return b

    def origin(o):
        o = dict(o)
        if "OriginCustomHeaders" in o:
            o["CustomHeaders"] = items(o.pop("OriginCustomHeaders"))
        if "CustomOriginConfig" in o:
            custom = dict(o["CustomOriginConfig"])
            custom["OriginSslProtocols"] = items(custom.pop("OriginSSLProtocols", ["TLSv1.2"]))
            o["CustomOriginConfig"] = {"HTTPPort": 80, "HTTPSPort": 443, **custom}
        o.setdefault("OriginPath", "")
        return o

    shaped = dict(config)
    shaped["IsIPV6Enabled"] = shaped.pop("IPV6Enabled", False)
    shaped["Origins"] = items([origin(o) for o in config["Origins"]])
    shaped["DefaultCacheBehavior"] = behaviour(config["DefaultCacheBehavior"])
    shaped["CacheBehaviors"] = items([behaviour(b) for b in config.get("CacheBehaviors", [])])
    shaped["Aliases"] = items(config.get("Aliases", []))
    shaped["CallerReference"] = f"{FUNCTION}-distribution"
    return shaped


class MadeByHand:
    """The resources moto's CloudFormation skips, made through their APIs from the stage
    template's own properties, tagged as the stack tags its resources."""

    def __init__(self, outputs):
        self.template, parameters = stage_template()
        resources = self.template["Resources"]
        props = {name: r.get("Properties", {}) for name, r in resources.items()}
        tags = [{"Key": k, "Value": v} for k, v in TAGS.items()]
        physical = {
            s["LogicalResourceId"]: s.get("PhysicalResourceId", "")
            for s in client("cloudformation").list_stack_resources(StackName=f"{FUNCTION}-infra")[
                "StackResourceSummaries"
            ]
        }
        refs = {name: physical[name] for name in resources if physical.get(name)}
        # moto makes the subnet group but reports no physical id for it: its name.
        [group] = client("rds").describe_db_subnet_groups(
            DBSubnetGroupName=props["DatabaseSubnetGroup"]["DBSubnetGroupName"]
        )["DBSubnetGroups"]
        assert {s["SubnetIdentifier"] for s in group["Subnets"]} == set(
            outputs["SubnetIds"].split(",")
        )
        refs["DatabaseSubnetGroup"] = group["DBSubnetGroupName"]
        attributes = {("DatabaseSecurityGroup", "GroupId"): physical["DatabaseSecurityGroup"]}

        # The secrets, with values generated as GenerateSecretString would.
        sm = client("secretsmanager")
        self.secrets = {}
        for name in ("DjangoSecret", "OriginVerifySecret"):
            generate = props[name]["GenerateSecretString"]
            value = sm.get_random_password(
                PasswordLength=generate["PasswordLength"],
                ExcludePunctuation=generate.get("ExcludePunctuation", False),
            )["RandomPassword"]
            body = {**json.loads(generate["SecretStringTemplate"]),
                    generate["GenerateStringKey"]: value}  # fmt: skip
            arn = sm.create_secret(
                Name=props[name]["Name"],
                Description=props[name]["Description"],
                SecretString=json.dumps(body),
                Tags=tags,
            )["ARN"]
            refs[name] = arn
            self.secrets[arn] = json.dumps(body)

        # The cluster's parameter group (moto's CloudFormation reports none made), from
        # the template's properties; the cluster names it.
        rds = client("rds")
        self.parameter_group = None
        if not refs.get("DatabaseParameters"):
            group = props["DatabaseParameters"]
            self.parameter_group = f"{FUNCTION}-infra-databaseparameters"
            rds.create_db_cluster_parameter_group(
                DBClusterParameterGroupName=self.parameter_group,
                DBParameterGroupFamily=group["Family"],
                Description=group["Description"],
                Tags=tags,
            )
            refs["DatabaseParameters"] = self.parameter_group

        # The Aurora cluster, with its RDS-managed master secret.
        cluster = {
            k: resolve(v, refs, attributes, parameters, {})
            for k, v in props["DatabaseCluster"].items()
        }
        made = client("rds").create_db_cluster(**cluster, Tags=tags)["DBCluster"]
        self.cluster = made["DBClusterIdentifier"]
        database_secret = made["MasterUserSecret"]["SecretArn"]
        self.secrets[database_secret] = sm.get_secret_value(SecretId=database_secret)[
            "SecretString"
        ]

        # CloudFront: the function, the origin access control, then the distribution.
        cloudfront = client("cloudfront")
        function = props["ForwardedHostFunction"]
        self.function = cloudfront.create_function(
            Name=function["Name"],
            FunctionConfig=function["FunctionConfig"],
            FunctionCode=function["FunctionCode"].encode(),
        )["FunctionSummary"]
        attributes[("ForwardedHostFunction", "FunctionARN")] = self.function["FunctionMetadata"][
            "FunctionARN"
        ]
        self.oac = cloudfront.create_origin_access_control(
            OriginAccessControlConfig=props["MediaOriginAccessControl"]["OriginAccessControlConfig"]
        )["OriginAccessControl"]["Id"]
        attributes[("MediaOriginAccessControl", "Id")] = self.oac
        # moto's CloudFront has no cache, origin-request or response-headers policies:
        # the distribution names stand-ins for their ids.
        for name, resource in resources.items():
            if resource["Type"].startswith("AWS::CloudFront::") and name not in refs:
                refs.setdefault(name, f"standin-{name}")
        self.refs, self.attributes = refs, attributes
        self.distribution = cloudfront.create_distribution_with_tags(
            DistributionConfigWithTags={
                "DistributionConfig": self.distribution_config(api_domain=""),
                "Tags": {"Items": tags},
            }
        )["Distribution"]
        # The bucket policy (moto's CloudFormation has no AWS::S3::BucketPolicy): it
        # names the distribution, so it comes after it.
        refs["Distribution"] = self.distribution["Id"]
        policy = resolve(props["MediaBucketPolicy"], refs, attributes, parameters, {})
        client("s3").put_bucket_policy(
            Bucket=policy["Bucket"], Policy=json.dumps(policy["PolicyDocument"])
        )
        self.outputs = {
            "DistributionId": self.distribution["Id"],
            "DistributionDomain": self.distribution["DomainName"],
            "SiteDomain": self.distribution["DomainName"],
            "DjangoSecretArn": refs["DjangoSecret"],
            "OriginVerifySecretArn": refs["OriginVerifySecret"],
            "DatabaseSecretArn": database_secret,
            "DatabaseHost": made["Endpoint"],
            "DatabasePort": str(made["Port"]),
        }
        assert not set(self.outputs) & set(outputs)  # only what the stack lacks

    def distribution_config(self, api_domain):
        template, parameters = stage_template(api_domain)
        conditions = {"HasApi": bool(api_domain)}
        config = resolve(
            template["Resources"]["Distribution"]["Properties"]["DistributionConfig"],
            self.refs, self.attributes, {**parameters}, conditions,
        )  # fmt: skip
        return api_shape(resolve_secret_references(config, self.secrets))

    def point_at(self, api_domain):
        """What CloudFormation does with the ApiDomain parameter make deploy sets."""
        cloudfront = client("cloudfront")
        current = cloudfront.get_distribution_config(Id=self.distribution["Id"])
        cloudfront.update_distribution(
            Id=self.distribution["Id"],
            IfMatch=current["ETag"],
            DistributionConfig=self.distribution_config(api_domain),
        )

    def remove(self):
        """What deleting the stack deletes of them (make destroy DELETE_DATA=1 next)."""
        cloudfront = client("cloudfront")
        distribution = cloudfront.get_distribution_config(Id=self.distribution["Id"])
        config = {**distribution["DistributionConfig"], "Enabled": False}
        etag = cloudfront.update_distribution(
            Id=self.distribution["Id"], IfMatch=distribution["ETag"], DistributionConfig=config
        )["ETag"]
        cloudfront.delete_distribution(Id=self.distribution["Id"], IfMatch=etag)
        oac_etag = cloudfront.get_origin_access_control(Id=self.oac)["ETag"]
        cloudfront.delete_origin_access_control(Id=self.oac, IfMatch=oac_etag)
        function_etag = cloudfront.describe_function(Name=self.function["Name"])["ETag"]
        cloudfront.delete_function(Name=self.function["Name"], IfMatch=function_etag)
        rds = client("rds")
        rds.modify_db_cluster(DBClusterIdentifier=self.cluster, DeletionProtection=False)
        rds.delete_db_cluster(DBClusterIdentifier=self.cluster, SkipFinalSnapshot=True)
        # RDS deletes a cluster's automated snapshots with it; moto keeps them.
        for snapshot in rds.describe_db_cluster_snapshots(
            DBClusterIdentifier=self.cluster, SnapshotType="automated"
        )["DBClusterSnapshots"]:
            rds.delete_db_cluster_snapshot(
                DBClusterSnapshotIdentifier=snapshot["DBClusterSnapshotIdentifier"]
            )
        if self.parameter_group:
            rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=self.parameter_group)
        for arn in (self.refs["DjangoSecret"], self.refs["OriginVerifySecret"]):
            client("secretsmanager").delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


# --- checks through each service's own API ------------------------------------------------


def stack_outputs():
    [stack] = client("cloudformation").describe_stacks(StackName=f"{FUNCTION}-infra")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}, stack


def check_the_stacks_resources(outputs):
    s3 = client("s3")
    bucket = outputs["MediaBucket"]
    assert bucket == f"lambda-cms-emulator-media-{ACCOUNT}"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
        True,
    )
    [rule] = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rule == {"ObjectOwnership": "BucketOwnerEnforced"}
    [encryption] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [cors] = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert cors["AllowedMethods"] == ["POST"]
    # The site's origin: the distribution's domain, which moto's CloudFormation cannot
    # make (the fixture's shim marks the attribute it would have read).
    assert cors["AllowedOrigins"] == [f"https://{unresolved('Distribution', 'DomainName')}"]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    uploads = [r for r in lifecycle if r.get("Filter", {}).get("Prefix") == "uploads/"]
    assert [r["Expiration"]["Days"] for r in uploads] == [1]

    sqs = client("sqs")
    queue = outputs["DeadLetterQueueArn"].rsplit(":", 1)[-1]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["QueueArn"] == outputs["DeadLetterQueueArn"]
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)

    iam = client("iam")
    role_name = outputs["FunctionRoleArn"].rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    assert role["Arn"] == outputs["FunctionRoleArn"]
    trusted = set()
    for statement in role["AssumeRolePolicyDocument"]["Statement"]:
        services = statement["Principal"]["Service"]
        trusted |= {services} if isinstance(services, str) else set(services)
    # Zappa's own role's trust: Lambda runs the function with it, API Gateway invokes it
    # with it (Zappa sets the role as the integration's credentials), and EventBridge.
    assert trusted == {"lambda.amazonaws.com", "apigateway.amazonaws.com", "events.amazonaws.com"}
    [policy_name] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        # moto keeps a CloudFormation inline policy as the repr of the dict it was given
        document = ast.literal_eval(document)
    named = [
        resource
        for statement in document["Statement"]
        for resource in (
            statement["Resource"] if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    ]  # fmt: skip
    assert f"arn:aws:s3:::{bucket}/media/*" in named
    assert outputs["DeadLetterQueueArn"] in named
    assert f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}" in named
    # The stage's own resources only (and "*" for the actions AWS allows on no narrower
    # one). The secrets are not made by moto's CloudFormation, so their ARNs stay
    # unresolved here: a Ref in Fn::Sub is left as written, a GetAtt marked by the shim.
    ours = {
        *(f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{s}" for s in outputs["SubnetIds"].split(",")),
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{outputs['FunctionSecurityGroupId']}",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*",
        "*",
    }
    unmade = {"${DjangoSecret}", "${OriginVerifySecret}",
              unresolved("DatabaseCluster", "MasterUserSecret.SecretArn")}  # fmt: skip
    assert [r for r in named if r not in ours | unmade and FUNCTION not in r] == []
    assert unmade <= set(named)
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []

    ec2 = client("ec2")
    subnets = outputs["SubnetIds"].split(",")
    found = ec2.describe_subnets(SubnetIds=subnets)["Subnets"]
    assert len(found) == 2
    assert len({s["AvailabilityZone"] for s in found}) == 2
    # (MapPublicIpOnLaunch: moto's CloudFormation ignores it; tests/infra reads the template.)
    [vpc] = {s["VpcId"] for s in found}
    assert (
        ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])[
            "InternetGateways"
        ]
        == []
    )
    assert (
        ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
        == []
    )
    [group] = ec2.describe_security_groups(GroupIds=[outputs["FunctionSecurityGroupId"]])[
        "SecurityGroups"
    ]
    assert group["VpcId"] == vpc
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "VpcEndpoints"
    ]
    services = {e["ServiceName"].rsplit(".", 1)[-1]: e["VpcEndpointType"] for e in endpoints}
    assert services == {"s3": "Gateway", "lambda": "Interface", "secretsmanager": "Interface"}

    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    assert outputs["AlarmTopicArn"] in topics
    purge = client("lambda").get_function(FunctionName=outputs["PurgeFunctionName"])
    assert purge["Configuration"]["Role"] != outputs["FunctionRoleArn"]  # a role of its own


def check_the_bucket_policy(outputs):
    bucket = outputs["MediaBucket"]
    policy = json.loads(client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    allowed = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"], s["Resource"]) for s in allowed] == [
        ({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject", f"arn:aws:s3:::{bucket}/media/*")
    ]
    distribution = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{outputs['DistributionId']}"
    assert allowed[0]["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution}}
    [denied] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert denied["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def function_configuration():
    return client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]


def live_version():
    return client("lambda").get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"]


def published_versions():
    listed = client("lambda").list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    return sorted(int(v["Version"]) for v in listed if v["Version"] != "$LATEST")


def rules():
    return {r["Name"]: r for r in client("events").list_rules()["Rules"]}


def check_the_function(outputs, made):
    function = function_configuration()
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "cms.lambda_entry.lambda_handler"
    assert function["Role"] == outputs["FunctionRoleArn"]
    assert sorted(function["VpcConfig"]["SubnetIds"]) == sorted(outputs["SubnetIds"].split(","))
    assert function["VpcConfig"]["SecurityGroupIds"] == [outputs["FunctionSecurityGroupId"]]
    assert function["DeadLetterConfig"]["TargetArn"] == outputs["DeadLetterQueueArn"]

    # Every event source invokes the live alias, never $LATEST (infra.release); one each.
    live = f"{function['FunctionArn']}:live"
    # (By queue: moto's filter by FunctionName misses mappings made with the function's ARN.)
    [mapping] = client("lambda").list_event_source_mappings(
        EventSourceArn=outputs["DeadLetterQueueArn"]
    )["EventSourceMappings"]
    assert mapping["FunctionArn"] == live
    assert mapping["BatchSize"] == 10

    notification = client("s3").get_bucket_notification_configuration(Bucket=outputs["MediaBucket"])
    [to_lambda] = notification["LambdaFunctionConfigurations"]
    assert to_lambda["LambdaFunctionArn"] == live
    assert to_lambda["Events"] == ["s3:ObjectCreated:*"]
    [rule] = to_lambda["Filter"]["Key"]["FilterRules"]
    assert (rule["Name"].lower(), rule["Value"]) == ("prefix", "uploads/")

    scheduled = rules()
    tick = scheduled[f"{FUNCTION}-sitecontent.events.publishing_tick"]
    assert tick["ScheduleExpression"] == "rate(1 minute)"
    [target] = client("events").list_targets_by_rule(Rule=tick["Name"])["Targets"]
    assert target["Arn"] == live
    # The API invokes the alias too (Zappa's apigateway_lambda_qualifier), after the first
    # deploy's zappa update --no-upload. (moto's CloudFormation keeps an API Gateway
    # method's first integration through a stack update, so what is read back is the
    # template the API stack now has, through CloudFormation's API.)
    body = client("cloudformation").get_template(StackName=FUNCTION)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    uris = [r["Properties"]["Integration"]["Uri"] for r in template["Resources"].values()
            if r["Type"] == "AWS::ApiGateway::Method"]  # fmt: skip
    assert uris
    assert all(u.endswith(f"function:{FUNCTION}:live/invocations") for u in uris)

    env = function["Environment"]["Variables"]
    site = outputs["SiteDomain"]
    assert env == {
        "SITE_NAME": "Lambda CMS (emulator)",
        "LOG_LEVEL": "WARNING",
        "MEDIA_BUCKET": outputs["MediaBucket"],
        "MEDIA_DOMAIN": site,
        "ALLOWED_HOSTS": site,
        "SITE_URL": f"https://{site}",
        "CSRF_TRUSTED_ORIGINS": f"https://{site}",
        "CDN_BACKEND": "cms.cdn.CloudFrontBackend",
        "CLOUDFRONT_DISTRIBUTION_ID": outputs["DistributionId"],
        "CDN_PURGE_FUNCTION": outputs["PurgeFunctionName"],
        "DJANGO_SECRET_ARN": outputs["DjangoSecretArn"],
        "ORIGIN_VERIFY_SECRET_ARN": outputs["OriginVerifySecretArn"],
        "DATABASE_SECRET_ARN": outputs["DatabaseSecretArn"],
        "DATABASE_HOST": outputs["DatabaseHost"],
        "DATABASE_PORT": outputs["DatabasePort"],
        "DATABASE_NAME": outputs["DatabaseName"],
        "PUBLISHING_TICK_MARKER": "s3",
        "CONN_MAX_AGE": "0",  # an aurora-serverless stage: nothing held while idle
        # ... and a paused cluster resumes on the first connection (docs/database.md).
        "DATABASE_CONNECT_TIMEOUT": "35",
        "STAGE": "emulator",  # each log line and metric names its stage (cms.logs)
    }
    # Zappa's package went through the stack's own bucket (and was removed after).
    assert client("s3").list_objects_v2(Bucket=outputs["DeploymentBucket"])["KeyCount"] == 0
    # Names and ARNs only: no value of any secret is on the function.
    values = [v for body in made.secrets.values() for v in json.loads(body).values()]
    assert len(values) == 4  # SECRET_KEY, ORIGIN_VERIFY_SECRET, username, password
    assert not [v for v in values if len(str(v)) > 8 and str(v) in json.dumps(env)]
    return function


START_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
from django.db import connections
db = settings.DATABASES["default"]
params = connections["default"].get_connection_params()  # what a connection would use
print(json.dumps({
    "SECRET_KEY": settings.SECRET_KEY,
    "ORIGIN_VERIFY_SECRETS": list(settings.ORIGIN_VERIFY_SECRETS),
    "DATABASE_SETTINGS": [db["ENGINE"], db["USER"], db["PASSWORD"]],
    "CONNECTION": [params["host"], str(params["port"]), params["dbname"], params["user"],
                   params["password"]],
}))
"""


def settings_started_with(env, aws):
    """Production settings loaded as the function loads them: exactly its environment,
    the settings module Zappa's handler sets, and what Lambda's runtime adds (AWS_REGION
    and AWS_DEFAULT_REGION, credentials: here fake ones, and the moto endpoint)."""
    result = subprocess.run(
        [sys.executable, "-c", START_SETTINGS],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "cms.settings.production",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": aws,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PATH": os.environ["PATH"],
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def tagged_with_the_stage():
    tagging = client("resourcegroupstaggingapi")
    filters = [{"Key": k, "Values": [v]} for k, v in TAGS.items()]
    return [m["ResourceARN"] for m in tagging.get_resources(TagFilters=filters)[
        "ResourceTagMappingList"
    ]]  # fmt: skip


# --- the round trip -----------------------------------------------------------------------


def test_make_infra_deploy_destroy_round_trip(emulator, aws, smoke_server, tmp_path):
    # No stack yet: make deploy stops before building anything and says what to run.
    early = make("deploy", emulator, "FIRST=1")
    assert early.returncode != 0
    assert f"run make infra STAGE={STAGE} first" in early.output
    assert zappa_steps(early.output) == []

    infra = make("infra", emulator)
    assert infra.returncode == 0, infra.output[-3000:]
    outputs, stack = stack_outputs()
    assert {t["Key"]: t["Value"] for t in stack["Tags"]}.items() >= TAGS.items()
    check_the_stacks_resources(outputs)

    # What moto's CloudFormation left out, made through its own APIs.
    made = MadeByHand(outputs)
    supplied = tmp_path / "outputs.json"
    supplied.write_text(json.dumps(made.outputs))
    outputs = {**outputs, **made.outputs}
    check_the_bucket_policy(outputs)
    env = {**emulator, "INFRA_OUTPUTS": str(supplied), "SMOKE_URL": smoke_server.url}

    # No FIRST=1: make deploy sees the stage has no function yet and deploys; the release
    # makes live on the new version, then points the API (made unqualified) at it.
    first = make("deploy", env)
    assert first.returncode == 0, first.output[-4000:]
    assert zappa_steps(first.output) == ["deploy", "update", "status"]
    assert "emulator deployed and answering" in first.output
    assert "version 1 passed its smoke test" in first.output
    assert live_version() == "1"
    function = check_the_function(outputs, made)

    # The API's host became the stack's ApiDomain parameter: CloudFront's page origin.
    api = next(a for a in client("apigateway").get_rest_apis()["items"] if a["name"] == FUNCTION)
    api_domain = f"{api['id']}.execute-api.{REGION}.{URL_SUFFIX}"
    _, stack = stack_outputs()
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["ApiDomain"] == api_domain
    made.point_at(parameters["ApiDomain"])
    config = client("cloudfront").get_distribution_config(Id=outputs["DistributionId"])
    origins = {o["Id"]: o for o in config["DistributionConfig"]["Origins"]["Items"]}
    assert (origins["api"]["DomainName"], origins["api"]["OriginPath"]) == (
        api_domain,
        f"/{STAGE}",
    )
    origin_secret = json.loads(made.secrets[outputs["OriginVerifySecretArn"]])
    assert origins["api"]["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": origin_secret["ORIGIN_VERIFY_SECRET"]}
    ]
    # (moto's CloudFront keeps no OriginAccessControlId on an origin: read the OAC itself.)
    oac = client("cloudfront").get_origin_access_control(Id=made.oac)["OriginAccessControl"]
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert origins["media"]["DomainName"] == (f"{outputs['MediaBucket']}.s3.{REGION}.{URL_SUFFIX}")

    # Secrets are read at start, from the ARNs on the function, and only there.
    variables = function["Environment"]["Variables"]
    started = settings_started_with(variables, aws)
    django_secret = json.loads(made.secrets[outputs["DjangoSecretArn"]])
    database_secret = json.loads(made.secrets[outputs["DatabaseSecretArn"]])
    assert started["SECRET_KEY"] == django_secret["SECRET_KEY"]
    assert started["SECRET_KEY"] not in json.dumps(variables)
    assert started["ORIGIN_VERIFY_SECRETS"][0] == origin_secret["ORIGIN_VERIFY_SECRET"]
    # The database's credentials: never in settings, read from its secret per connection.
    assert started["DATABASE_SETTINGS"] == ["cms.db", "", ""]
    assert started["CONNECTION"] == [
        outputs["DatabaseHost"],
        outputs["DatabasePort"],
        outputs["DatabaseName"],
        database_secret["username"],
        database_secret["password"],
    ]

    # An update whose new version fails its smoke test (inside the function: the shim's
    # FunctionError): nothing moves, live stays on version 1, nothing is rescheduled.
    from tests.infra import moto_shims

    scheduled = rules()
    failure = "release smoke failed: API: GET /api/v1/articles/ answered 500"
    newest = max(published_versions())
    moto_shims.fail_command(FUNCTION, "release_smoke", after_version=newest, message=failure)
    failed = make("deploy", env)
    assert failed.returncode != 0
    assert zappa_steps(failed.output) == ["update"], failed.output[-3000:]
    assert "smoke test failed on version" in failed.output
    assert "API: GET /api/v1/articles/ answered 500" in failed.output
    assert "version 1 serves" in failed.output
    assert live_version() == "1"
    moto_shims.clear_failures()

    # An update that passes: a fresh package, live on the new version, the schedules
    # replaced (never duplicated), the same wiring.
    update = make("deploy", env)
    assert update.returncode == 0, update.output[-3000:]
    assert zappa_steps(update.output) == ["update", "status"]
    new = live_version()
    assert int(new) > 1
    assert f"version {new} serves all requests (before it: version 1)" in update.output
    assert function_configuration()["CodeSha256"] != function["CodeSha256"]
    assert set(rules()) == set(scheduled)
    check_the_function(outputs, made)

    # make rollback: live back to version 1 in one command, saying which.
    rollback = make("rollback", env)
    assert rollback.returncode == 0, rollback.output[-3000:]
    assert f"left version {new}; version 1 now serves" in rollback.output
    assert live_version() == "1"

    # A release the site fails after (the request through CloudFront): rolled back.
    smoke_server.handler.status = 500
    broken = make("deploy", env)
    assert broken.returncode != 0
    assert zappa_steps(broken.output) == ["update", "status"], broken.output[-3000:]
    assert "smoke request answered 500" in broken.output
    assert "now serves" in broken.output
    assert "rolled back" in broken.output
    assert live_version() == "1"
    smoke_server.handler.status = 200
    check_the_function(outputs, made)

    # INFRA_OUTPUTS never overrides what the stack has.
    supplied.write_text(json.dumps({**made.outputs, "MediaBucket": "someone-elses"}))
    refused = make("deploy", env)
    assert refused.returncode != 0
    assert "INFRA_OUTPUTS gives MediaBucket, which the emulator stack has" in refused.output
    assert zappa_steps(refused.output) == []
    supplied.write_text(json.dumps(made.outputs))

    # Teardown: what CloudFormation would delete with the stack goes first (moto's stack
    # never held it), then make destroy removes the function and the stack.
    made.remove()
    destroy = make("destroy", env, "DELETE_DATA=1")
    assert destroy.returncode == 0, destroy.output[-4000:]
    assert client("lambda").list_functions()["Functions"] == []
    assert not [name for name in rules() if name.startswith(FUNCTION)]
    assert tagged_with_the_stage() == []
    live = [s for s in client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"]  # fmt: skip
    assert live == []
    buckets = [b["Name"] for b in client("s3").list_buckets()["Buckets"]]
    assert outputs["MediaBucket"] not in buckets  # DELETE_DATA=1
    assert client("rds").describe_db_clusters()["DBClusters"] == []
    assert client("secretsmanager").list_secrets()["SecretList"] == []
