"""A moto server on loopback, spoken to over real HTTP (boto3 reads AWS_ENDPOINT_URL),
with the few documented shims below where moto and AWS differ in ways the tests meet."""

import re

import pytest
import requests


def _answer_list_function_url_configs():
    """Moto has no ListFunctionUrlConfigs, which ``zappa update`` calls: answer "none"."""
    from moto.awslambda import urls

    def list_function_url_configs(request, full_url, headers):
        return 200, {"content-type": "application/json"}, '{"FunctionUrlConfigs": []}'

    route = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"
    urls.url_paths.setdefault(route, list_function_url_configs)


def _unsupported_getatt(value, resources: dict) -> bool:
    """Whether an Output's value reads an attribute (Fn::GetAtt, or "${Name.Attr}" in
    Fn::Sub) of a resource whose type moto's CloudFormation does not implement."""
    from moto.cloudformation.parsing import resource_class_from_type

    def unsupported(name: str) -> bool:
        resource = resources.get(name)
        return resource is not None and resource_class_from_type(resource["Type"]) is None

    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            name = target[0] if isinstance(target, list) else str(target).split(".")[0]
            if unsupported(name):
                return True
        if "Fn::Sub" in value:
            text = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
            names = re.findall(r"\$\{([A-Za-z0-9]+)\.[A-Za-z0-9.]+\}", str(text))
            if any(unsupported(name) for name in names):
                return True
        return any(_unsupported_getatt(v, resources) for v in value.values())
    if isinstance(value, list):
        return any(_unsupported_getatt(v, resources) for v in value)
    return False


def unresolved(resource: str, attribute: str) -> str:
    """What moto's CloudFormation puts, with the shim below, where a resource property
    reads an attribute of a resource type it does not implement."""
    return f"unresolved-by-moto.{resource}.{attribute}"


def _drop_outputs_reading_unsupported_resources():
    """Emulator shim (moto 5.2.5). Moto's CloudFormation "creates" resource types it does
    not implement (CloudFront, Secrets Manager secrets, RDS clusters and proxies, ACM...)
    as nothing, and leaves out of DescribeStacks the Outputs that Ref them. An Output that
    reads one of their attributes (Fn::GetAtt) instead fails the whole CreateStack with an
    HTTP 500 (ResourceMap.validate_outputs calls a method on the missing model class). The
    stage template needs such outputs on AWS (DistributionDomain, DatabaseHost...), so here
    they are left out the way moto leaves out the Ref ones; the round trip supplies them
    through INFRA_OUTPUTS after creating the resources through their own APIs."""
    from moto.cloudformation import parsing

    if getattr(parsing, "_lambda_cms_shim", False):
        return
    original_validate, original_parse = parsing.ResourceMap.validate_outputs, parsing.parse_output

    def validate_outputs(self):
        outputs = self._template.get("Outputs") or {}
        kept = {
            key: value
            for key, value in outputs.items()
            if not _unsupported_getatt(value.get("Value"), self._resource_json_map)
        }
        self._template = {**self._template, "Outputs": kept}
        try:
            return original_validate(self)
        finally:
            self._template = {**self._template, "Outputs": outputs}

    def parse_output(output_logical_id, output_json, resources_map):
        if _unsupported_getatt(output_json.get("Value"), resources_map._resource_json_map):
            return None
        return original_parse(output_logical_id, output_json, resources_map)

    # In a resource's properties moto resolves a Ref to such a resource as None, but an
    # Fn::GetAtt fails the change set ("references undefined resource"): the bucket's
    # CORS origin reads the distribution's domain. It resolves here to a marker naming
    # what AWS would put there, which a test can read back and recognise.
    original_clean = parsing.clean_json

    def clean_json(resource_json, resources_map):
        if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
            target = resource_json["Fn::GetAtt"]
            if isinstance(target, list) and _unsupported_getatt(
                resource_json, resources_map._resource_json_map
            ):
                return unresolved(*target)
        return original_clean(resource_json, resources_map)

    parsing.ResourceMap.validate_outputs = validate_outputs
    parsing.parse_output = parse_output
    parsing.clean_json = clean_json
    parsing._lambda_cms_shim = True


def _keep_dead_letter_config():
    """Emulator shim (moto 5.2.5): Lambda's API stores a function's DeadLetterConfig and
    returns it in GetFunction(Configuration); moto takes it and forgets it, so nothing
    could check that the deploy set the stage's dead-letter queue."""
    from moto.awslambda.models import LambdaFunction

    if getattr(LambdaFunction, "_lambda_cms_shim", False):
        return
    original_init = LambdaFunction.__init__
    original_get = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self, account_id, spec, region, version=1):
        original_init(self, account_id, spec, region, version)
        self.dead_letter_config = spec.get("DeadLetterConfig") or {}

    def get_configuration(self, on_create=False):
        config = original_get(self, on_create)
        if getattr(self, "dead_letter_config", None):
            config["DeadLetterConfig"] = self.dead_letter_config
        return config

    def update_configuration(self, config_updates):
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = config_updates["DeadLetterConfig"] or {}
        return original_update(self, config_updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration
    LambdaFunction._lambda_cms_shim = True


def _bucket_properties_from_cloudformation():
    """Emulator shim (moto 5.2.5): moto's CloudFormation makes an AWS::S3::Bucket with its
    name, encryption and tags only, and drops the rest of what CloudFormation sets on it.
    Here the other properties the stage template uses (Block Public Access, object
    ownership, CORS, lifecycle) reach moto's S3 as the S3 API would set them, so the round
    trip can read each back through S3's own API."""
    from moto.s3.models import FakeBucket, s3_backends

    if getattr(FakeBucket, "_lambda_cms_shim", False):
        return
    original = FakeBucket.create_from_cloudformation_json.__func__

    def text(value):
        return str(value).lower() if isinstance(value, bool) else str(value)

    def lifecycle_rule(rule):
        made = {"ID": rule.get("Id", ""), "Status": rule["Status"]}
        made["Filter"] = {"Prefix": rule.get("Prefix", "")}
        if "ExpirationInDays" in rule:
            made["Expiration"] = {"Days": text(rule["ExpirationInDays"])}
        if "AbortIncompleteMultipartUpload" in rule:
            days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            made["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": text(days)}
        return made

    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        bucket = original(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        backend = s3_backends[account_id][bucket.partition]
        properties = cloudformation_json.get("Properties", {})
        if block := properties.get("PublicAccessBlockConfiguration"):
            backend.put_public_access_block(bucket.name, {k: text(v) for k, v in block.items()})
        if ownership := properties.get("OwnershipControls"):
            [rule] = ownership["Rules"]
            backend.put_bucket_ownership_controls(bucket.name, rule["ObjectOwnership"])
        if cors := properties.get("CorsConfiguration"):
            backend.put_bucket_cors(
                bucket.name,
                [
                    {
                        "AllowedMethod": rule["AllowedMethods"],
                        "AllowedOrigin": rule["AllowedOrigins"],
                        **({"AllowedHeader": rule["AllowedHeaders"]}
                           if "AllowedHeaders" in rule else {}),
                        **({"MaxAgeSeconds": text(rule["MaxAge"])} if "MaxAge" in rule else {}),
                    }
                    for rule in cors["CorsRules"]
                ],
            )  # fmt: skip
        if lifecycle := properties.get("LifecycleConfiguration"):
            backend.put_bucket_lifecycle(
                bucket.name, [lifecycle_rule(r) for r in lifecycle["Rules"]]
            )
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    FakeBucket._lambda_cms_shim = True


def _network_deleted_with_its_stack():
    """Emulator shim (moto 5.2.5): moto's CloudFormation makes AWS::EC2::VPCEndpoint and
    AWS::EC2::RouteTable but never deletes them with the stack, so the VPC they are in
    cannot go (DependencyViolation) and a stack with a private network could never be
    deleted. Here they are deleted through moto's EC2, as CloudFormation deletes them."""
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.vpcs import VPCEndPoint

    if getattr(VPCEndPoint, "_lambda_cms_shim", False):
        return

    def delete_endpoint(self, account_id, region_name):
        ec2_backends[account_id][region_name].delete_vpc_endpoints([self.id])

    def delete_route_table(self, account_id, region_name):
        # Refused while a subnet is associated or an endpoint routes through it: moto's
        # stack deletion tries again once those (their own resources) are gone, in the
        # order CloudFormation's dependencies give.
        backend = ec2_backends[account_id][region_name]
        if any(
            self.id in (endpoint.route_table_ids or []) and endpoint.state != "deleted"
            for endpoint in backend.vpc_end_points.values()
        ):
            raise DependencyViolationError(f"{self.id} still routes to a VPC endpoint")
        backend.delete_route_table(self.id)

    VPCEndPoint.delete = delete_endpoint
    RouteTable.delete = delete_route_table
    VPCEndPoint._lambda_cms_shim = True


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    _answer_list_function_url_configs()
    _drop_outputs_reading_unsupported_resources()
    _keep_dead_letter_config()
    _bucket_properties_from_cloudformation()
    _network_deleted_with_its_stack()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """Point boto3 at a freshly reset moto server for this test."""
    from cms import aws as aws_module

    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    aws_module.client.cache_clear()
    yield moto_server
    aws_module.client.cache_clear()


def lambda_function(name="lambda-cms-dev", region=None):
    """Create a Lambda function in moto (it is never run: moto has no Docker here)."""
    import io
    import zipfile

    from cms import aws as aws_module

    iam = aws_module.client("iam")
    role = iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return {}\n")
    return aws_module.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="handler.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]


class S3Notifications:
    """Deliver a bucket's ObjectCreated notifications to an SQS queue, so a test can
    read the exact events moto (like S3) produces and hand them to the Lambda handler."""

    def __init__(self, bucket: str, prefix: str):
        import json

        from cms import aws as aws_module

        self.sqs = aws_module.client("sqs")
        self.queue_url = self.sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        aws_module.client("s3").put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "uploads",
                        "QueueArn": queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                    }
                ]
            },
        )
        self._json = json

    def events(self) -> list[dict]:
        """The S3 events delivered since the last call (test events left out)."""
        found = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                body = self._json.loads(message["Body"])
                if "Records" in body:
                    found.append(body)
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def media_bucket(aws, settings):
    """The dev stage's media bucket, in moto, with its upload notifications captured."""
    from cms import aws as aws_module

    settings.MEDIA_BUCKET = "lambda-cms-dev-media"
    aws_module.client("s3").create_bucket(
        Bucket=settings.MEDIA_BUCKET,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    notifications = S3Notifications(settings.MEDIA_BUCKET, settings.UPLOAD_PREFIX)
    notifications.bucket = settings.MEDIA_BUCKET
    return notifications


MEDIA_DOMAIN = "media.example.test"


@pytest.fixture
def s3_media(media_bucket, settings):
    """Media on S3 (moto) as production has it: django-storages, location media/,
    CloudFront-style URLs, direct uploads on."""
    options = {
        "bucket_name": media_bucket.bucket,
        "location": "media",
        "custom_domain": MEDIA_DOMAIN,
        "querystring_auth": False,
        "default_acl": None,
        "file_overwrite": False,
        "object_parameters": {"CacheControl": settings.MEDIA_CACHE_CONTROL},
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "cms.storage.MediaStorage", "OPTIONS": options},
        "renditions": {
            "BACKEND": "cms.storage.MediaStorage",
            "OPTIONS": {**options, "file_overwrite": True},
        },
    }
    settings.MEDIA_URL = f"https://{MEDIA_DOMAIN}/media/"
    settings.DIRECT_UPLOADS = True

    from cms import aws as aws_module

    def keys(prefix=""):
        listed = aws_module.client("s3").list_objects_v2(Bucket=media_bucket.bucket, Prefix=prefix)
        return sorted(obj["Key"] for obj in listed.get("Contents", []))

    media_bucket.keys = keys
    return media_bucket
