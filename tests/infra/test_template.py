"""The stage templates (infra/template.py) as data: no AWS call, except the purge relay's
code, which runs against moto's CloudFront.

Every stage is checked as stages.json has it and as if it had a domain (the branch a
fork switches on): the bucket is private and owner-enforced, only the distribution reads
media/, TLS is 1.2 or later wherever the template can choose, no function URL, no
wildcard resource, no way out of the VPC but its endpoints, and every name is the
stage's own."""

import json
import re

import pytest

from cms import iam_policy
from cms import metrics as site_metrics
from infra import config, template
from tests.aws_fixtures import aws  # noqa: F401 (fixture)

STAGES = config.stage_list()
ACCOUNT = "123456789012"
REGION = "eu-west-1"
# The contract's outputs (docs/deploy.md; infra/deploy.py and cms.lambda_build read them).
CONTRACT_OUTPUTS = {
    "Stage", "FunctionRoleArn", "MediaBucket", "DistributionId", "DistributionDomain",
    "SiteDomain", "SubnetIds", "FunctionSecurityGroupId", "DeadLetterQueueArn",
    "DjangoSecretArn", "OriginVerifySecretArn", "DatabaseSecretArn", "DatabaseHost",
    "DatabasePort", "DatabaseName", "AlarmTopicArn", "PurgeFunctionName",
    "DeploymentBucket",
}  # fmt: skip
ALLOWED_ANY_RESOURCE = iam_policy.AWS_REQUIRES_ANY_RESOURCE


def render(settings) -> dict:
    return json.loads(template.build(settings).to_json())


PLAIN = {stage: render(config.load(stage)) for stage in STAGES}
WITH_DOMAIN = {stage: render(template.with_domain(stage)) for stage in STAGES}
VARIANTS = [(stage, "plain") for stage in STAGES] + [(stage, "domain") for stage in STAGES]


@pytest.fixture(params=VARIANTS, ids=lambda v: f"{v[0]}-{v[1]}")
def stack(request):
    stage, variant = request.param
    return stage, (PLAIN if variant == "plain" else WITH_DOMAIN)[stage]


def of_type(body, kind) -> dict:
    return {k: r for k, r in body["Resources"].items() if r["Type"] == kind}


def one(body, kind) -> dict:
    [resource] = of_type(body, kind).values()
    return resource


def walk(value):
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def distribution(body) -> dict:
    return one(body, "AWS::CloudFront::Distribution")["Properties"]["DistributionConfig"]


def behaviours(body) -> list[dict]:
    config_ = distribution(body)
    return [config_["DefaultCacheBehavior"], *config_["CacheBehaviors"]]


def test_the_media_bucket_is_private_owner_enforced_encrypted_and_kept(stack):
    stage, body = stack
    bucket = body["Resources"]["MediaBucket"]
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    # Kept through a stack's deletion, unless the stage throws its data away (previews).
    kept = "Retain" if config.load(stage).keep_data else "Delete"
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == (kept, kept)
    assert "AccessControl" not in properties
    assert "WebsiteConfiguration" not in properties


def test_cors_allows_only_posts_from_the_site(stack):
    stage, body = stack
    [rule] = body["Resources"]["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    [origin] = rule["AllowedOrigins"]
    # https:// and the site's domain: the stage's own when it has one and its certificate.
    assert origin["Fn::Join"][1][0] == "https://"
    site = origin["Fn::Join"][1][1]
    assert site == body["Outputs"]["SiteDomain"]["Value"]
    if body is WITH_DOMAIN[stage]:
        assert site["Fn::If"][:2] == ["HasCertificate", "www.example.com"]
    else:
        assert site == {"Fn::GetAtt": ["Distribution", "DomainName"]}


def test_uploads_expire_after_a_day_and_so_do_abandoned_multipart_uploads(stack):
    _, body = stack
    rules = body["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [uploads] = [r for r in rules if r.get("Prefix") == "uploads/"]
    assert (uploads["Status"], uploads["ExpirationInDays"]) == ("Enabled", 1)
    [multipart] = [r for r in rules if "AbortIncompleteMultipartUpload" in r]
    assert multipart["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert not [r for r in rules if "ExpirationInDays" in r and r.get("Prefix") != "uploads/"]


def test_only_the_distribution_reads_media_and_only_over_tls(stack):
    _, body = stack
    policy = body["Resources"]["MediaBucketPolicy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"]["Fn::Sub"].endswith("-media-${AWS::AccountId}/media/*")
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source == "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/" + (
        "${Distribution}"
    )
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*"


def test_zappas_package_bucket_is_the_stacks_private_and_named_for_the_account(stack):
    """Bucket names are global: a fixed lambda-cms-<stage>-zappa would be one fork's
    only. The stack's goes with it (make destroy empties it first: packages, not data)."""
    stage, body = stack
    bucket = body["Resources"]["DeploymentBucket"]
    properties = bucket["Properties"]
    assert properties["BucketName"] == {"Fn::Sub": f"lambda-cms-{stage}-zappa-${{AWS::AccountId}}"}
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["DeletionPolicy"] == "Delete"
    [deny] = body["Resources"]["DeploymentBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert (deny["Effect"], deny["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert body["Outputs"]["DeploymentBucket"]["Value"] == {"Ref": "DeploymentBucket"}


def test_origin_access_control_signs_every_media_request(stack):
    _, body = stack
    oac = one(body, "AWS::CloudFront::OriginAccessControl")["Properties"]
    assert oac["OriginAccessControlConfig"] | {"Name": "", "Description": ""} == {
        "Name": "", "Description": "", "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always", "SigningProtocol": "sigv4",
    }  # fmt: skip
    origins = {o["Id"]: o for o in distribution(body)["Origins"]}
    media = origins[template.MEDIA_ORIGIN]
    assert media["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
    assert media["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    to_media = [b for b in behaviours(body) if b["TargetOriginId"] == template.MEDIA_ORIGIN]
    assert sorted(b["PathPattern"] for b in to_media) == ["/media/*", "/media/documents/*"]


def test_behaviours_follow_docs_caching(stack):
    _, body = stack
    by_path = {b.get("PathPattern", "*"): b for b in behaviours(body)}
    assert list(by_path) == ["*", "/admin/*", "/preview/*", "/media/documents/*", "/media/*",
                             "/static/*"]  # fmt: skip
    for path in ("/admin/*", "/preview/*"):
        assert by_path[path]["CachePolicyId"] == template.CACHING_DISABLED
        assert by_path[path]["OriginRequestPolicyId"] == template.ALL_VIEWER_EXCEPT_HOST_HEADER
        assert len(by_path[path]["AllowedMethods"]) == 7
    assert by_path["/media/documents/*"]["ResponseHeadersPolicyId"] == {"Ref": "DocumentHeaders"}
    assert by_path["/media/*"]["ResponseHeadersPolicyId"] == {"Ref": "MediaHeaders"}
    for path in ("/media/documents/*", "/media/*", "/static/*"):
        assert by_path[path]["CachePolicyId"] == template.CACHING_OPTIMIZED
        assert by_path[path]["AllowedMethods"] == ["GET", "HEAD"]
        assert "OriginRequestPolicyId" not in by_path[path]
    assert by_path["*"]["CachePolicyId"] == {"Ref": "PageCachePolicy"}
    assert by_path["*"]["OriginRequestPolicyId"] == {"Ref": "PageOriginRequestPolicy"}
    cache = body["Resources"]["PageCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (cache["MinTTL"], cache["DefaultTTL"], cache["MaxTTL"]) == (0, 0, 31536000)
    key = cache["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert key["EnableAcceptEncodingBrotli"]
    assert key["EnableAcceptEncodingGzip"]
    request = body["Resources"]["PageOriginRequestPolicy"]["Properties"][
        "OriginRequestPolicyConfig"
    ]
    assert request["CookiesConfig"] == {"CookieBehavior": "none"}
    assert request["HeadersConfig"]["Headers"] == ["X-Forwarded-Host"]


def test_every_api_behaviour_sets_the_forwarded_host_and_none_to_the_bucket(stack):
    _, body = stack
    function = one(body, "AWS::CloudFront::Function")["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert 'request.headers["x-forwarded-host"]' in function["FunctionCode"]
    for behaviour in behaviours(body):
        associations = behaviour.get("FunctionAssociations", [])
        if behaviour["TargetOriginId"] == template.API_ORIGIN:
            assert associations == [
                {
                    "EventType": "viewer-request",
                    "FunctionARN": {"Fn::GetAtt": ["ForwardedHostFunction", "FunctionARN"]},
                }
            ]
        else:
            assert associations == []


def test_the_api_origin_carries_the_secret_header_once_there_is_an_api(stack):
    stage, body = stack
    [api] = [o for o in distribution(body)["Origins"] if o["Id"] == template.API_ORIGIN]
    assert api["DomainName"]["Fn::If"][:2] == ["HasApi", {"Ref": "ApiDomain"}]
    # Before the first deploy: the bucket's own S3 host, which answers 403 to all.
    assert api["DomainName"]["Fn::If"][2]["Fn::Sub"].endswith(
        ".s3.${AWS::Region}.${AWS::URLSuffix}"
    )
    assert api["OriginPath"] == {"Fn::If": ["HasApi", f"/{stage}", {"Ref": "AWS::NoValue"}]}
    [header] = api["OriginCustomHeaders"]["Fn::If"][1]
    assert header["HeaderName"] == "X-Origin-Verify"
    assert header["HeaderValue"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}"
        ":SecretString:ORIGIN_VERIFY_SECRET}}"
    }
    assert api["OriginCustomHeaders"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert body["Parameters"]["ApiDomain"]["Default"] == ""


def test_https_only_and_tls_12_or_later_wherever_it_can_be_chosen(stack):
    stage, body = stack
    config_ = distribution(body)
    assert {b["ViewerProtocolPolicy"] for b in behaviours(body)} == {"redirect-to-https"}
    for origin in config_["Origins"]:
        if "CustomOriginConfig" in origin:
            assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
            assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert config_["HttpVersion"] == "http2and3"
    assert config_["IPV6Enabled"] is True
    certificate = config_["ViewerCertificate"]
    if body is WITH_DOMAIN[stage]:
        condition, with_certificate, without = certificate["Fn::If"]
        assert condition == "HasCertificate"
        assert with_certificate == {
            "AcmCertificateArn": {"Ref": "CertificateArn"},
            "MinimumProtocolVersion": "TLSv1.2_2021",
            "SslSupportMethod": "sni-only",
        }
        assert without == {"CloudFrontDefaultCertificate": True}
        assert config_["Aliases"] == {
            "Fn::If": ["HasCertificate", ["www.example.com"], {"Ref": "AWS::NoValue"}]
        }
        records = of_type(body, "AWS::Route53::RecordSet")
        assert sorted(r["Properties"]["Type"] for r in records.values()) == ["A", "AAAA"]
        assert {r["Condition"] for r in records.values()} == {"PointsDomain"}
    else:
        # CloudFront's default certificate (*.cloudfront.net): no minimum can be set.
        assert certificate == {"CloudFrontDefaultCertificate": True}
        assert not of_type(body, "AWS::Route53::RecordSet")


def test_no_function_url_anywhere(stack):
    _, body = stack
    assert not of_type(body, "AWS::Lambda::Url")
    assert "FunctionUrlAuthType" not in json.dumps(body)
    assert not of_type(body, "AWS::Lambda::Permission")


def policies(body):
    """Every IAM-style policy document in the template, with where it is."""
    for name, resource in body["Resources"].items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []):
            yield f"{name}.{policy['PolicyName']}", policy["PolicyDocument"]
        for key in ("PolicyDocument", "AssumeRolePolicyDocument"):
            if key in properties:
                yield f"{name}.{key}", properties[key]


def resources(statement) -> list:
    value = statement.get("Resource", [])
    return value if isinstance(value, list) else [value]


def test_no_wildcard_resource_but_where_aws_requires_one(stack):
    _, body = stack
    for where, document in policies(body):
        for statement in document["Statement"]:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            for resource in resources(statement):
                if resource == "*":
                    assert set(actions) <= ALLOWED_ANY_RESOURCE, where
                    continue
                if isinstance(resource, dict) and "Fn::Sub" not in resource:
                    continue  # a Ref or GetAtt: one resource
                text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
                if isinstance(text, list):
                    text = text[0]
                # Never a wildcard in the partition, service, region or account.
                head = re.sub(r"\$\{[^}]+\}", "X", text).split(":", 5)[:5]
                assert not [p for p in head if "*" in p or "?" in p], (where, text)
            if statement["Effect"] == "Allow":
                assert not [a for a in actions if "*" in a], where


def test_the_purge_relay_may_only_invalidate_this_distribution(stack):
    _, body = stack
    role = body["Resources"]["PurgeRole"]["Properties"]
    [policy] = role["Policies"]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert by_sid["PurgeOwnDistribution"]["Action"] == ["cloudfront:CreateInvalidation"]
    assert by_sid["PurgeOwnDistribution"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                    "${Distribution}"}
    ]  # fmt: skip
    function = body["Resources"]["PurgeFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == template.PURGE_RELAY_CODE
    assert function["Environment"]["Variables"] == {"DISTRIBUTION_ID": {"Ref": "Distribution"}}
    assert "VpcConfig" not in function  # CloudFront's API is not reachable from the VPC
    assert body["Outputs"]["PurgeFunctionName"]["Value"] == {"Ref": "PurgeFunction"}


def test_outputs_are_the_contracts(stack):
    _, body = stack
    assert set(body["Outputs"]) == CONTRACT_OUTPUTS
    assert set(template.OUTPUT_KEYS) == CONTRACT_OUTPUTS


# What CloudFormation puts in place of each placeholder, for one stage.
def stack_values(stage) -> dict:
    names = config.names(stage)
    return {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "MediaBucket": names.media_bucket(ACCOUNT),
        "DjangoSecret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:x/{stage}/django-Ab",
        "OriginVerifySecret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:x/{stage}/o-Ab",
        "DatabaseCluster.MasterUserSecret.SecretArn": (
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-{stage}-Ab"
        ),
        "Database.MasterUserSecret.SecretArn": (
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-{stage}-Ab"
        ),
        "PrivateSubnetA": "subnet-0123456789abcdef0",
        "PrivateSubnetB": "subnet-0123456789abcdef1",
        "FunctionSecurityGroup.GroupId": "sg-0123456789abcdef0",
        "DeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{names.dead_letter_queue}",
        "Distribution": "E2EXAMPLE12345",
    }


def resolve(value, values: dict):
    """A template value with Fn::Sub, Ref and Fn::GetAtt replaced as CloudFormation would."""
    if isinstance(value, list):
        return [resolve(v, values) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return values[value["Ref"]]
    if "Fn::GetAtt" in value:
        return values[".".join(value["Fn::GetAtt"])]
    if "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else (
            value["Fn::Sub"]
        )  # fmt: skip
        local = {**values, **{k: resolve(v, values) for k, v in variables.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda m: local[m.group(1)], text)
    return {k: resolve(v, values) for k, v in value.items()}


@pytest.mark.parametrize("stage", STAGES)
def test_the_role_policy_is_iam_policys_rule_for_the_stacks_resources(stage):
    """Substituted as CloudFormation does, the role's policy is exactly what
    cms.iam_policy renders for those concrete values (and checks them as it does)."""
    body = PLAIN[stage]
    role = body["Resources"]["FunctionRole"]["Properties"]
    assert role["RoleName"] == f"lambda-cms-{stage}"
    [policy] = role["Policies"]
    values = stack_values(stage)
    settings = config.load(stage)
    database_secret = (
        "DatabaseCluster.MasterUserSecret.SecretArn"
        if settings.database == "aurora-serverless"
        else "Database.MasterUserSecret.SecretArn"
    )
    expected = iam_policy.render(
        iam_policy.StageInputs(
            stage=stage,
            function_name=f"lambda-cms-{stage}",
            region=REGION,
            account_id=ACCOUNT,
            media_bucket=values["MediaBucket"],
            secret_arns=(
                values["DjangoSecret"],
                values["OriginVerifySecret"],
                values[database_secret],
            ),
            subnet_ids=(values["PrivateSubnetA"], values["PrivateSubnetB"]),
            security_group_ids=(values["FunctionSecurityGroup.GroupId"],),
            dead_letter_queue=values["DeadLetterQueue.Arn"],
            purge_function=f"lambda-cms-{stage}-purge",
            xray=settings.xray,
        )
    )
    assert resolve(policy["PolicyDocument"], values) == expected
    # make iam-policy prints the same document, placeholders and all.
    assert json.dumps(template.role_policy(stage)) == json.dumps(
        iam_policy.render(template.role_inputs(stage))
    )
    trusted = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert sorted(trusted) == [
        "apigateway.amazonaws.com", "events.amazonaws.com", "lambda.amazonaws.com"
    ]  # fmt: skip


NAME_KEYS = {
    "BucketName", "FunctionName", "RoleName", "QueueName", "TopicName", "Name", "AlarmName",
    "DBClusterIdentifier", "DBInstanceIdentifier", "DBProxyName", "DBSubnetGroupName",
    "LogGroupName",
}  # fmt: skip


def physical_names(body) -> list[tuple[str, str]]:
    """(resource type, name) of every resource the template names."""
    found = []
    for resource in body["Resources"].values():
        kind, properties = resource["Type"], dict(resource.get("Properties", {}))
        if kind == "AWS::RDS::DBProxyTargetGroup":
            continue  # "default", within its own proxy
        if kind == "AWS::RDS::DBInstance" and "DBClusterIdentifier" in properties:
            properties.pop("DBClusterIdentifier")  # the cluster's name, not another
        properties.pop("Dimensions", None)  # what an alarm watches
        for node in walk(properties):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in NAME_KEYS:
                        value = value.get("Fn::Sub", value) if isinstance(value, dict) else value
                        if isinstance(value, str):
                            found.append((kind, value))
    return found


def test_every_stages_names_are_its_own():
    seen: dict[str, str] = {}
    for stage, body in PLAIN.items():
        names = physical_names(body)
        assert len(names) >= 15
        assert len(set(names)) == len(names), names
        for kind, name in names:
            # The stack's name is the stage's (docs/cloudfront-media-headers.json uses it).
            name = name.replace("${AWS::StackName}", config.names(stage).stack)
            assert stage in name, name
            assert (kind, name) not in seen, f"{name} is both {seen[kind, name]}'s and {stage}'s"
            seen[kind, name] = stage


@pytest.mark.parametrize("stage", STAGES)
def test_the_database_is_the_stages_choice(stage):
    body, settings = PLAIN[stage], config.load(stage)
    if settings.database == "aurora-serverless":
        cluster = one(body, "AWS::RDS::DBCluster")
        properties = cluster["Properties"]
        assert properties["Engine"] == "aurora-postgresql"
        assert properties["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0  # pauses
        assert properties["ManageMasterUserPassword"] is True
        assert properties["StorageEncrypted"] is True
        assert properties["DeletionProtection"] is settings.keep_data
        assert cluster["DeletionPolicy"] == ("Snapshot" if settings.keep_data else "Delete")
        instance = one(body, "AWS::RDS::DBInstance")["Properties"]
        assert instance["DBInstanceClass"] == "db.serverless"
        assert instance["PubliclyAccessible"] is False
        assert not of_type(body, "AWS::RDS::DBProxy")
        assert body["Outputs"]["DatabaseHost"]["Value"] == {
            "Fn::GetAtt": ["DatabaseCluster", "Endpoint.Address"]
        }
    else:
        instance = one(body, "AWS::RDS::DBInstance")
        properties = instance["Properties"]
        assert properties["Engine"] == "postgres"
        assert properties["MultiAZ"] is settings.sizing.multi_az
        assert properties["StorageEncrypted"] is True
        assert properties["PubliclyAccessible"] is False
        assert properties["ManageMasterUserPassword"] is True
        assert instance["DeletionPolicy"] == ("Snapshot" if settings.keep_data else "Delete")
        proxy = one(body, "AWS::RDS::DBProxy")["Properties"]
        assert proxy["RequireTLS"] is True
        assert proxy["Auth"][0]["SecretArn"] == {
            "Fn::GetAtt": ["Database", "MasterUserSecret.SecretArn"]
        }
        [statement] = body["Resources"]["DatabaseProxyRole"]["Properties"]["Policies"][0][
            "PolicyDocument"
        ]["Statement"]
        assert statement["Action"] == ["secretsmanager:GetSecretValue"]
        assert statement["Resource"] == [proxy["Auth"][0]["SecretArn"]]
        assert of_type(body, "AWS::RDS::DBProxyTargetGroup")
        assert not of_type(body, "AWS::RDS::DBCluster")
        assert body["Outputs"]["DatabaseHost"]["Value"] == {
            "Fn::GetAtt": ["DatabaseProxy", "Endpoint"]
        }
    assert {stage: config.load(stage).database for stage in STAGES} == {
        "dev": "aurora-serverless", "staging": "aurora-serverless",
        "production": "rds-proxy", "preview": "aurora-serverless",
        "emulator": "aurora-serverless",
    }  # fmt: skip


def test_no_way_out_of_the_vpc_but_its_endpoints(stack):
    _, body = stack
    kinds = {r["Type"] for r in body["Resources"].values()}
    assert not kinds & {"AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP",
                        "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::Route",
                        "AWS::EC2::EgressOnlyInternetGateway"}  # fmt: skip
    subnets = of_type(body, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert {json.dumps(s["Properties"]["AvailabilityZone"]) for s in subnets.values()} == {
        json.dumps({"Fn::Select": [i, {"Fn::GetAZs": ""}]}) for i in (0, 1)
    }
    assert {s["Properties"]["MapPublicIpOnLaunch"] for s in subnets.values()} == {False}
    endpoints = {
        resolve(e["Properties"]["ServiceName"], {"AWS::Region": REGION}): e["Properties"]
        for e in of_type(body, "AWS::EC2::VPCEndpoint").values()
    }
    s3 = endpoints[f"com.amazonaws.{REGION}.s3"]
    assert s3["VpcEndpointType"] == "Gateway"
    assert s3["RouteTableIds"] == [{"Ref": "PrivateRouteTable"}]
    for service in ("lambda", "secretsmanager"):
        endpoint = endpoints[f"com.amazonaws.{REGION}.{service}"]
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is True
        assert endpoint["SubnetIds"] == [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
        assert endpoint["SecurityGroupIds"] == [
            {"Fn::GetAtt": ["EndpointSecurityGroup", "GroupId"]}
        ]


def test_a_traced_stage_reaches_x_ray_through_an_endpoint_too():
    from dataclasses import replace

    traced = render(replace(config.load("staging"), xray=True))
    services = {
        e["Properties"]["ServiceName"]["Fn::Sub"]
        for e in of_type(traced, "AWS::EC2::VPCEndpoint").values()
    }
    assert "com.amazonaws.${AWS::Region}.xray" in services
    assert "XRayAwsRequiresAnyResource" in json.dumps(traced["Resources"]["FunctionRole"])
    assert "xray" not in json.dumps(of_type(PLAIN["staging"], "AWS::EC2::VPCEndpoint"))


def test_a_stage_with_a_sender_makes_its_ses_identity_and_may_send_only_as_it():
    from dataclasses import replace

    body = render(replace(config.load("staging"), mail_from="newsroom@example.com"))
    assert one(body, "AWS::SES::EmailIdentity")["Properties"] == {
        "EmailIdentity": "newsroom@example.com"
    }
    [policy] = body["Resources"]["FunctionRole"]["Properties"]["Policies"]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert by_sid["SendAsOwnSender"]["Action"] == ["ses:SendRawEmail", "ses:SendEmail"]
    assert by_sid["SendAsOwnSender"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
                    "newsroom@example.com"}
    ]  # fmt: skip
    # The function reaches SES's API through an endpoint in its VPC (it has no other way
    # out), with private DNS so django-ses's default email.<region> host resolves to it.
    [email] = [
        e["Properties"]
        for e in of_type(body, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["ServiceName"] == {"Fn::Sub": "com.amazonaws.${AWS::Region}.email"}
    ]
    assert (email["VpcEndpointType"], email["PrivateDnsEnabled"]) == ("Interface", True)
    # A stage without one (every checked-in stage so far) has none of it.
    assert not of_type(PLAIN["staging"], "AWS::SES::EmailIdentity")
    assert ".email" not in json.dumps(of_type(PLAIN["staging"], "AWS::EC2::VPCEndpoint"))
    assert "ses:" not in json.dumps(PLAIN["staging"]["Resources"]["FunctionRole"])


def test_security_groups_let_through_only_what_each_needs(stack):
    _, body = stack
    resources_ = body["Resources"]
    endpoint = resources_["EndpointSecurityGroup"]["Properties"]
    [ingress] = endpoint["SecurityGroupIngress"]
    assert (ingress["FromPort"], ingress["ToPort"]) == (443, 443)
    assert ingress["SourceSecurityGroupId"] == {"Fn::GetAtt": ["FunctionSecurityGroup", "GroupId"]}
    database_in = of_type(body, "AWS::EC2::SecurityGroupIngress")
    for rule in database_in.values():
        properties = rule["Properties"]
        assert properties["GroupId"] == {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}
        assert (properties["FromPort"], properties["ToPort"]) == (5432, 5432)
        assert "CidrIp" not in properties
    assert not resources_["DatabaseSecurityGroup"]["Properties"].get("SecurityGroupIngress")
    for group in of_type(body, "AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert "CidrIp" not in rule  # only from other groups


def test_secrets_are_generated_in_the_secret_store_under_the_stages_names(stack):
    stage, body = stack
    django = body["Resources"]["DjangoSecret"]["Properties"]
    assert django["Name"] == f"lambda-cms/{stage}/django"
    assert django["GenerateSecretString"] == {
        "SecretStringTemplate": "{}", "GenerateStringKey": "SECRET_KEY",
        "PasswordLength": 64, "ExcludePunctuation": True,
    }  # fmt: skip
    origin = body["Resources"]["OriginVerifySecret"]["Properties"]
    assert origin["Name"] == f"lambda-cms/{stage}/origin-verify"
    assert origin["GenerateSecretString"]["GenerateStringKey"] == "ORIGIN_VERIFY_SECRET"
    assert origin["GenerateSecretString"]["PasswordLength"] == 48
    assert "SecretString" not in django
    assert "SecretString" not in origin


def test_the_dead_letter_queue_is_encrypted_and_keeps_messages_two_weeks(stack):
    _, body = stack
    queue = body["Resources"]["DeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    timeout = iam_policy.stage_settings("dev")["timeout_seconds"]
    assert queue["VisibilityTimeout"] >= timeout  # Lambda's rule for an SQS event source


def test_alarms_watch_the_stages_own_metrics(stack):
    stage, body = stack
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in of_type(body, "AWS::CloudWatch::Alarm").values()
    }
    function = f"lambda-cms-{stage}"
    dimensions = {m: {d["Name"]: d["Value"] for d in a["Dimensions"]} for m, a in alarms.items()}
    assert dimensions["5XXError"] == {"ApiName": function, "Stage": stage}
    assert dimensions["Throttles"] == dimensions["Errors"] == {"FunctionName": function}
    assert dimensions["NumberOfMessagesSent"] == {"QueueName": f"{function}-dead-letters"}
    assert dimensions["Invocations"] == {"RuleName": config.names(stage).tick_rule}
    assert alarms["Invocations"]["TreatMissingData"] == "breaching"
    assert alarms["Invocations"]["ComparisonOperator"] == "LessThanThreshold"
    connections = alarms.get("DatabaseConnections") or alarms["ClientConnections"]
    assert connections["ComparisonOperator"] == "GreaterThanThreshold"
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize("stage", ["dev", "a-stage-name-long-enough-to-be-hashed"])
def test_the_tick_alarm_watches_the_rule_zappa_names(stage):
    from zappa.core import Zappa

    event = {"function": config.TICK_FUNCTION, "expression": "rate(1 minute)"}
    function = f"lambda-cms-{stage}"
    zappa_name = Zappa.get_scheduled_event_name(Zappa, event, event["function"], function)
    assert config.Names("lambda-cms", stage).tick_rule == zappa_name


def test_the_media_headers_policies_are_docs_own():
    docs = json.loads(template.MEDIA_HEADERS_FILE.read_text())["Resources"]
    body = PLAIN["staging"]
    for name in ("MediaHeaders", "DocumentHeaders"):
        assert body["Resources"][name] == docs[name]


def test_the_certificate_stack_validates_through_dns_in_the_zone_when_given():
    body = json.loads(template.build_certificate(template.with_domain("production")).to_json())
    certificate = one(body, "AWS::CertificateManager::Certificate")["Properties"]
    assert certificate["DomainName"] == "www.example.com"
    assert certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainValidationOptions"] == {
        "Fn::If": [
            "HasZone",
            [{"DomainName": "www.example.com", "HostedZoneId": {"Ref": "HostedZoneId"}}],
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert set(body["Outputs"]) == {"CertificateArn"}
    with pytest.raises(config.ConfigError, match="has no domain"):
        template.build_certificate("dev")


def test_make_infra_template_writes_the_yaml_without_aws(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(template, "OUTPUT_DIR", tmp_path)
    monkeypatch.setattr(template.write, "__defaults__", (tmp_path, ""))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers there
    assert template.main(["template", "staging"]) == 0
    assert (tmp_path / "staging.yaml").read_text().startswith("AWSTemplateFormatVersion")
    assert str(tmp_path / "staging.yaml") in capsys.readouterr().out
    written = template.write(template.with_domain("staging"), tmp_path, suffix="-x")
    assert [p.name for p in written] == ["staging-x.yaml", "staging-x-certificate.yaml"]
    assert template.main(["template", "Bad_Stage"]) == 1
    assert "Bad_Stage" in capsys.readouterr().err


def test_the_purge_relay_sends_the_invalidation(aws, monkeypatch):  # noqa: F811
    from tests.cms.test_cdn import create_distribution

    distribution_id = create_distribution()
    monkeypatch.setenv("DISTRIBUTION_ID", distribution_id)
    relay: dict = {}
    exec(compile(template.PURGE_RELAY_CODE, "index.py", "exec"), relay)  # noqa: S102
    answer = relay["handler"]({"paths": ["/articles/*", "/"], "reference": "tx-42"}, None)
    import boto3

    listed = boto3.client("cloudfront").list_invalidations(DistributionId=distribution_id)
    assert [i["Id"] for i in listed["InvalidationList"]["Items"]] == [answer["invalidation_id"]]
    invalidation = boto3.client("cloudfront").get_invalidation(
        DistributionId=distribution_id, Id=answer["invalidation_id"]
    )["Invalidation"]
    assert invalidation["InvalidationBatch"]["CallerReference"] == "tx-42"
    assert sorted(invalidation["InvalidationBatch"]["Paths"]["Items"]) == ["/", "/articles/*"]
    for bad in ({}, {"paths": []}, {"paths": ["no-slash"]}, {"paths": "/"}):
        with pytest.raises(ValueError, match="paths"):
            relay["handler"](bad, None)


# --- stages.json and the names -------------------------------------------------------


def write_stages(tmp_path, **changes) -> tuple:
    stages = json.loads(config.STAGES_FILE.read_text())
    for stage, entry in changes.items():
        stages[stage] = entry if entry is None or "database" in entry else {
            **stages[stage], **entry
        }  # fmt: skip
        if stages[stage] is None:
            del stages[stage]
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(stages))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"database": "mysql"}, r"database 'mysql' is not a database kind; use one of"),
        ({"hosted_zone": "example.com"}, r"hosted_zone 'example.com' is set but domain is null"),
        ({"domain": "www.example.com", "hosted_zone": "example.org"},
         r"domain 'www.example.com' is not in hosted_zone 'example.org'"),
        ({"domain": "WWW.Example.com"}, r"domain 'WWW.Example.com' is not valid"),
        ({"domain": "https://www.example.com/"}, r"domain 'https://www.example.com/' is not valid"),
        ({"hosted_zone": "example.com.", "domain": "www.example.com"}, r"no final dot"),
        ({"alarm_email": "ops"}, r"alarm_email 'ops' is not valid"),
        ({"mail_from": "newsroom"}, r"mail_from 'newsroom' is not valid"),
        ({"keep_data": "yes"}, r"keep_data must be true or false"),
        ({"colour": "blue"}, r"unknown key\(s\) \['colour'\]"),
        ({"aurora": {"min_capacity": 0, "max_capacity": 0.25, "seconds_until_auto_pause": 300}},
         r"aurora.max_capacity is 0.25; set a number from 1 to 256"),
        ({"aurora": {"min_capacity": 0, "max_capacity": 2}},
         r"aurora needs \['seconds_until_auto_pause'\]"),
        ({"aurora": {"min_capacity": 0, "max_capacity": 2, "seconds_until_auto_pause": 60}},
         r"seconds_until_auto_pause is 60; set a whole number from 300 to 86400"),
        ({"rds_proxy": {"instance_class": "db.t4g.micro", "allocated_storage": 20,
                        "multi_az": False}}, r"'rds_proxy' sizes the other database kind"),
    ],
)  # fmt: skip
def test_stage_settings_mistakes_name_the_stage_the_key_and_the_fix(tmp_path, changes, message):
    path = write_stages(tmp_path, dev=changes)
    with pytest.raises(config.ConfigError, match=message) as caught:
        config.load("dev", stages_file=path)
    assert "'dev'" in str(caught.value)


def test_a_stage_missing_from_stages_json_or_from_zappa_settings_is_refused(tmp_path):
    with pytest.raises(config.ConfigError, match=r"stage 'staging' is missing.*copy"):
        config.load("staging", stages_file=write_stages(tmp_path, staging=None))
    with pytest.raises(config.ConfigError, match=r"Stage 'qa' is not in zappa_settings.json"):
        config.load("qa")


def test_rds_proxy_needs_its_sizing(tmp_path):
    path = write_stages(tmp_path, production={"database": "rds-proxy", "keep_data": True})
    with pytest.raises(config.ConfigError, match=r"'production'.*needs 'rds_proxy', e.g."):
        config.load("production", stages_file=path)


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ("Dev", "lower-case letters, digits and single hyphens"),
        ("dev_1", "lower-case letters, digits and single hyphens"),
        ("dev--1", "lower-case letters, digits and single hyphens"),
        ("", "lower-case letters"),
        ("blue-infra", r"must not end in -infra or -cert.*stage named 'blue'"),
        ("blue-cert", "must not end in -infra or -cert"),
        ("a" * 34, r"too long: media bucket 'lambda-cms-a{34}-media-0{12}' is 64 characters, "
                   r"AWS allows 63"),
    ],
)  # fmt: skip
def test_stage_names_that_would_clash_or_not_fit_are_refused(stage, message):
    with pytest.raises(config.ConfigError, match=message):
        config.check_stage_name(stage, "lambda-cms")


@pytest.mark.parametrize(
    ("stage", "other", "message"),
    [
        ("dev-purge", "dev", r"Lambda function name 'lambda-cms-dev-purge' is also stage 'dev'"),
        ("dev-db-proxy", "dev", r"IAM role name 'lambda-cms-dev-db-proxy' is also stage 'dev'"),
        ("blue-infra", "blue", r"CloudFormation stack name 'lambda-cms-blue-infra'"),
        ("dev", "dev-purge", r"Stage 'dev': its Lambda function name 'lambda-cms-dev-purge'"),
    ],
)
def test_a_stage_whose_names_are_another_stages_is_refused(stage, other, message):
    with pytest.raises(config.ConfigError, match=message):
        config.check_distinct(stage, "lambda-cms", [stage, other])


def test_the_checked_in_stages_share_no_name():
    for stage in STAGES:
        config.check_distinct(stage, "lambda-cms", STAGES)


def test_the_longest_stage_name_allowed_fits_every_limit():
    config.check_stage_name("a" * 33, "lambda-cms")
    for what, (name, limit) in config.Names("lambda-cms", "a" * 33).limits().items():
        assert len(name) <= limit, what


def test_every_checked_in_stage_loads():
    assert set(json.loads(config.STAGES_FILE.read_text())) == set(STAGES)
    for stage in STAGES:
        settings = config.load(stage)
        # Previews (every branch stage is made from it) are thrown away with their data.
        assert settings.keep_data is (stage != "preview")
        assert settings.region == iam_policy.stage_settings(stage)["aws_region"]
        if settings.database == "aurora-serverless":
            assert settings.sizing.min_capacity == 0


# -- the site's own metrics: alarms, dashboard, saved queries (cms/metrics.py) ---------

SITE_ALARMS = {
    site_metrics.TASK_FAILURES: ("Sum", template.TASK_FAILURES_ALARM),
    site_metrics.PUBLISH_LAG: ("Maximum", template.PUBLISH_LAG_ALARM_SECONDS),
    site_metrics.REQUEST_LATENCY: ("p99", template.LATENCY_P99_ALARM_MS),
    site_metrics.COLD_START: ("Sum", template.COLD_START_BURST_ALARM),
    site_metrics.DATABASE_UNAVAILABLE: ("Sum", template.DATABASE_UNAVAILABLE_ALARM),
}


def dashboard(stage) -> dict:
    """The stage's dashboard body as CloudWatch gets it (Fn::Sub's ${Stage} filled in)."""
    sub = one(PLAIN[stage], "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]
    text, values = sub["Fn::Sub"]
    assert values == {"Stage": stage}
    # Whatever else is left for Fn::Sub is a pseudo parameter it knows.
    assert set(re.findall(r"\$\{([^}]+)\}", text)) <= {"Stage", "AWS::Region", "AWS::Partition",
                                                      "AWS::AccountId"}  # fmt: skip
    return json.loads(text.replace("${Stage}", stage))


def graphed(body) -> list[tuple[str, str, dict]]:
    """(namespace, metric, dimensions) of every line of every graph of a dashboard."""
    found = []
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            names = [part for part in line if isinstance(part, str)]
            if len(names) >= 2:
                namespace, metric, *dims = names
                found.append((namespace, metric, dict(zip(dims[::2], dims[1::2], strict=True))))
    return found


def test_every_alarm_rings_the_stages_topic_both_ways(stack):
    stage, body = stack
    for alarm in of_type(body, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], properties["AlarmName"]
        assert properties["OKActions"] == [{"Ref": "AlarmTopic"}]
        assert properties["AlarmName"].startswith(f"lambda-cms-{stage}-")
        assert properties["TreatMissingData"] in ("notBreaching", "breaching")


def test_the_sites_alarms_watch_cms_metrics_names_on_the_stage(stack):
    stage, body = stack
    site = [a["Properties"] for a in of_type(body, "AWS::CloudWatch::Alarm").values()
            if a["Properties"]["Namespace"] == site_metrics.NAMESPACE]  # fmt: skip
    assert {a["MetricName"] for a in site} == set(SITE_ALARMS)
    for alarm in site:
        assert alarm["MetricName"] in site_metrics.NAMES
        assert alarm["Dimensions"] == [{"Name": site_metrics.DIMENSION, "Value": stage}]
        statistic, threshold = SITE_ALARMS[alarm["MetricName"]]
        assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == statistic
        assert alarm["Threshold"] == threshold
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"  # no go-live, no lag to alarm on
    [latency] = [a for a in site if a["MetricName"] == site_metrics.REQUEST_LATENCY]
    assert "Statistic" not in latency  # a percentile is an extended statistic
    assert latency["EvaluationPeriods"] == template.LATENCY_ALARM_PERIODS


@pytest.mark.parametrize("stage", STAGES)
def test_the_dashboard_graphs_every_site_metric_beside_lambdas_own(stage):
    body = dashboard(stage)
    lines = graphed(body)
    site = {metric for namespace, metric, _ in lines if namespace == site_metrics.NAMESPACE}
    assert site == site_metrics.NAMES  # by the constants: a renamed metric fails here
    for namespace, _, dimensions in lines:
        if namespace == site_metrics.NAMESPACE:
            assert dimensions == {site_metrics.DIMENSION: stage}
    function = {"FunctionName": f"lambda-cms-{stage}"}
    lambdas = {metric for namespace, metric, dims in lines
               if namespace == "AWS/Lambda" and dims == function}  # fmt: skip
    assert {"Errors", "Throttles", "Duration", "ConcurrentExecutions", "Invocations"} <= lambdas
    namespaces = {namespace for namespace, _, _ in lines}
    assert {"AWS/ApiGateway", "AWS/SQS", "AWS/Events", "AWS/RDS"} <= namespaces
    api = {"ApiName": f"lambda-cms-{stage}", "Stage": stage}  # what the 5xx alarm watches
    assert {m for n, m, d in lines if n == "AWS/ApiGateway" and d == api} == {
        "Count", "4XXError", "5XXError"}  # fmt: skip
    assert one(PLAIN[stage], "AWS::CloudWatch::Dashboard")["Properties"]["DashboardName"] == (
        f"lambda-cms-{stage}"
    )


@pytest.mark.parametrize("stage", STAGES)
def test_the_dashboard_shows_every_alarm_of_the_stack(stage):
    [widget] = [w for w in dashboard(stage)["widgets"] if w["type"] == "alarm"]
    shown = {arn.rsplit(":alarm:", 1)[1] for arn in widget["properties"]["alarms"]}
    alarms = {a["Properties"]["AlarmName"]
              for a in of_type(PLAIN[stage], "AWS::CloudWatch::Alarm").values()}  # fmt: skip
    assert shown == alarms


@pytest.mark.parametrize("stage", STAGES)
def test_saved_queries_read_the_functions_log_group_by_the_fields_cms_logs_writes(stage):
    queries = {q["Properties"]["Name"]: q["Properties"]
               for q in of_type(PLAIN[stage], "AWS::Logs::QueryDefinition").values()}  # fmt: skip
    assert set(queries) == {f"lambda-cms-{stage}/{name}" for name in template.QUERIES}
    for query in queries.values():
        assert query["LogGroupNames"] == [f"/aws/lambda/lambda-cms-{stage}"]
    errors = queries[f"lambda-cms-{stage}/errors"]["QueryString"]
    assert 'level = "ERROR"' in errors
    one_request = queries[f"lambda-cms-{stage}/one-request"]["QueryString"]
    for field in ("request_id", "apigw_request_id", "cf_id"):
        assert f'{field} = "REQUEST_ID"' in one_request
    assert "duration_ms" in queries[f"lambda-cms-{stage}/slowest-paths"]["QueryString"]


def test_a_branch_stage_gets_the_alarms_but_no_dashboard_or_saved_queries():
    # Its CI role may make alarms only (infra/ci.py).
    body = render(config.load("pr-7"))
    site = [a for a in of_type(body, "AWS::CloudWatch::Alarm").values()
            if a["Properties"]["Namespace"] == site_metrics.NAMESPACE]  # fmt: skip
    assert len(site) == len(SITE_ALARMS)
    assert of_type(body, "AWS::CloudWatch::Dashboard") == {}
    assert of_type(body, "AWS::Logs::QueryDefinition") == {}
