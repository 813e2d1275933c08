"""Lambda events in the shapes AWS documents, with this project's values.

- API Gateway REST API, proxy integration (payload 1.0) and HTTP API (payload 2.0):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
- Application Load Balancer target:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
- Lambda function URL (payload 2.0, auth type NONE):
  https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
- CloudFront in front of a REST API: CloudFront's request headers and origin custom
  headers, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorCustomOrigin.html
- EventBridge scheduled rule:
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-scheduler.html
- S3 notifications are not built here: tests capture the ones moto sends (see
  tests/aws_fixtures.py), which follow
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
"""

import base64
import uuid
from urllib.parse import urlencode

ACCOUNT = "123456789012"
REGION = "eu-west-1"
API_HOST = f"abc123defg.execute-api.{REGION}.amazonaws.com"
ALB_HOST = f"lambda-cms-alb-1234567890.{REGION}.elb.amazonaws.com"
FUNCTION_URL_HOST = f"x7lhq2mdsabcdefghijklmnopq0rstuv.lambda-url.{REGION}.on.aws"
SITE_HOST = "www.example.com"
# An address of CloudFront's edge, as API Gateway sees the connection from it.
CLOUDFRONT_EDGE = "130.176.0.10"


def _body(body: bytes | str | None):
    if body is None:
        return None, False
    if isinstance(body, str):
        body = body.encode()
    return base64.b64encode(body).decode(), True


def rest_api(
    method="GET", path="/", *, query=None, headers=None, body=None, stage="dev", host=API_HOST
):
    """API Gateway REST API proxy event (payload format 1.0)."""
    headers = {
        "Host": host,
        "User-Agent": "Mozilla/5.0 (test)",
        "X-Forwarded-For": "203.0.113.7, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    query = query or {}
    encoded, is_b64 = _body(body)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": "Zx1abcDEFgHIJ=",
            "requestTime": "27/Nov/2026:09:00:00 +0000",
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": 1795770000000,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0 (test)"},
            "domainName": host,
            "apiId": host.split(".")[0],
        },
        "body": encoded,
        "isBase64Encoded": is_b64,
    }


def http_api(
    method="GET", path="/", *, query=None, headers=None, cookies=None, body=None, host=API_HOST
):
    """API Gateway HTTP API event (payload format 2.0), default stage."""
    headers = {
        "host": host,
        "user-agent": "Mozilla/5.0 (test)",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    encoded, is_b64 = _body(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "cookies": cookies or [],
        "headers": headers,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": host.split(".")[0],
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "Mozilla/5.0 (test)",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "27/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795770000000,
        },
        "body": encoded,
        "isBase64Encoded": is_b64,
    }


def alb(method="GET", path="/", *, query=None, headers=None, body=None, host=ALB_HOST):
    """Application Load Balancer target event (single-value headers)."""
    headers = {
        "accept": "text/html",
        "host": host,
        "user-agent": "Mozilla/5.0 (test)",
        "x-amzn-trace-id": "Root=1-6747e1a0-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    encoded, is_b64 = _body(body)
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/lambda-cms/6d0ecf831eec9f09"
            }
        },
        "httpMethod": method,
        "path": path,
        "queryStringParameters": query or {},
        "headers": headers,
        "body": encoded or "",
        "isBase64Encoded": is_b64,
    }


def cloudfront_rest_api(
    method="GET",
    path="/",
    *,
    viewer="198.51.100.9",
    viewer_forwarded_for=None,
    origin_secret=None,
    headers=None,
    body=None,
    stage="dev",
):
    """A REST API event for a request that came through the site's CloudFront.

    CloudFront appends the viewer's address to whatever X-Forwarded-For the viewer sent,
    adds Via and X-Amz-Cf-Id and the origin custom header (X-Origin-Verify, overwriting
    any the viewer sent), and calls API Gateway by the API's host name; the CloudFront
    Function of docs/caching.md sets X-Forwarded-Host to the viewer's host. API Gateway
    then appends the edge's address and sees the edge as the source.
    """
    forwarded = [*([viewer_forwarded_for] if viewer_forwarded_for else []), viewer, CLOUDFRONT_EDGE]
    added = {
        "Via": "2.0 6e4d0a1b2c3d4e5f6a7b8c9d0e1f2a3b.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": "Yj2Zc0nF3mQp1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEF==",
        "X-Forwarded-For": ", ".join(forwarded),
        "X-Forwarded-Host": SITE_HOST,
        **({"X-Origin-Verify": origin_secret} if origin_secret else {}),
    }
    event = rest_api(method, path, headers={**(headers or {}), **added}, body=body, stage=stage)
    event["requestContext"]["identity"]["sourceIp"] = CLOUDFRONT_EDGE
    return event


def function_url(
    method="GET", path="/", *, query=None, headers=None, cookies=None, body=None,
    host=FUNCTION_URL_HOST,
):  # fmt: skip
    """A Lambda function URL event (payload 2.0, auth type NONE): no stage in the path."""
    event = http_api(
        method, path, query=query, headers=headers, cookies=cookies, body=body, host=host
    )
    event["requestContext"]["accountId"] = "anonymous"
    event["headers"]["x-amzn-trace-id"] = "Root=1-6747e1a0-0123456789abcdef01234567"
    return event


def scheduled(rule_name: str):
    """EventBridge event for a scheduled rule named ``rule_name``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-27T09:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


class LambdaContext:
    """The attributes of the context object the Python runtime passes."""

    function_name = "lambda-cms-dev"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lambda-cms-dev"
    memory_limit_in_mb = "1024"
    aws_request_id = "8f5b5c0e-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/lambda-cms-dev"
    log_stream_name = "2026/11/27/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self):
        return 60_000
