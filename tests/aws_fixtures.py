"""A moto server on loopback, spoken to over real HTTP (boto3 reads AWS_ENDPOINT_URL)."""

import pytest
import requests


def _answer_list_function_url_configs():
    """Moto has no ListFunctionUrlConfigs, which ``zappa update`` calls: answer "none"."""
    from moto.awslambda import urls

    def list_function_url_configs(request, full_url, headers):
        return 200, {"content-type": "application/json"}, '{"FunctionUrlConfigs": []}'

    route = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"
    urls.url_paths.setdefault(route, list_function_url_configs)


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    _answer_list_function_url_configs()
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
