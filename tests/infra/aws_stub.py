"""A loopback endpoint in front of the moto server that answers chosen requests the way
AWS does (its real error XML, or a response moto does not produce) and forwards the rest.

Moto cannot say "your token has expired", cannot own a bucket in another account, and
leaves Replacement out of DescribeChangeSet; AWS does all three. Pointing
AWS_ENDPOINT_URL here makes the code under test meet those answers over real HTTP, through
boto3's own parsing, with nothing of ours mocked.
"""

import http.client
import http.server
import re
import threading
import urllib.parse
from dataclasses import dataclass

# AWS's error response for the Query protocol (STS, CloudFormation), as STS sends it.
QUERY_ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>{code}</Code>
    <Message>{message}</Message>
  </Error>
  <RequestId>4a2f6a52-7c3b-4d2e-9d8e-2f0c5e7b1a10</RequestId>
</ErrorResponse>
"""
STS_ERRORS = {
    "ExpiredToken": (400, "The security token included in the request is expired"),
    "InvalidClientTokenId": (403, "The security token included in the request is invalid."),
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def service(self) -> str:
        """From the SigV4 credential scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request."""
        found = re.search(
            r"Credential=[^/]+/\d+/[^/]+/([^/]+)/", self.headers.get("authorization", "")
        )
        return found[1] if found else ""

    @property
    def action(self) -> str:
        """The Query protocol's Action (STS, CloudFormation)."""
        values = urllib.parse.parse_qs(self.body.decode(errors="replace"))
        return values.get("Action", [""])[0]


class AwsStub:
    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlsplit(upstream)
        # (matches(request) -> bool, respond(request, forward) -> (status, headers, body))
        self.rules = []
        self.seen: list[Request] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                stub.seen.append(request)
                for matches, respond in stub.rules:
                    if matches(request):
                        status, headers, body = respond(request, stub.forward)
                        break
                else:
                    status, headers, body = stub.forward(request)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, request: Request):
        connection = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=60
        )
        headers = {k: v for k, v in request.headers.items() if k not in ("connection",)}
        connection.request(request.method, request.path, body=request.body or None, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), body

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # --- answers -----------------------------------------------------------------------

    def sts_error(self, code: str):
        """STS answers every call with ``code`` (STS_ERRORS), in AWS's XML."""
        status, message = STS_ERRORS[code]
        body = QUERY_ERROR.format(code=code, message=message).encode()
        self.rules.append(
            (
                lambda r: r.service == "sts",
                lambda r, forward: (status, {"Content-Type": "text/xml"}, body),
            )
        )

    def bucket_owned_elsewhere(self, bucket: str):
        """S3 answers HeadBucket for ``bucket`` with 403, as for another account's bucket
        (HEAD responses carry no body: botocore reports the code "403")."""
        self.rules.append(
            (
                lambda r: (
                    r.service == "s3"
                    and r.method == "HEAD"
                    and r.path.split("?")[0].strip("/") == bucket
                ),
                lambda r, forward: (403, {"Content-Type": "application/xml"}, b""),
            )
        )

    def replacement_in_change_sets(self, logical_id: str, replacement: str, property_name: str):
        """DescribeChangeSet reports ``logical_id``'s change as AWS does for a property
        that requires recreation: Replacement, Scope and Details with RequiresRecreation
        (API reference, ResourceChange and ResourceChangeDetail)."""
        recreation = "Always" if replacement == "True" else "Conditionally"
        extra = (
            f"<Replacement>{replacement}</Replacement>"
            "<Scope><member>Properties</member></Scope>"
            "<Details><member><Target><Attribute>Properties</Attribute>"
            f"<Name>{property_name}</Name><RequiresRecreation>{recreation}</RequiresRecreation>"
            "</Target><Evaluation>Static</Evaluation><ChangeSource>DirectModification"
            "</ChangeSource></member></Details>"
        )
        pattern = re.compile(rf"(<LogicalResourceId>{re.escape(logical_id)}</LogicalResourceId>)")

        def respond(request, forward):
            status, headers, body = forward(request)
            return status, headers, pattern.sub(lambda m: m[1] + extra, body.decode()).encode()

        self.rules.append(
            (lambda r: r.service == "cloudformation" and r.action == "DescribeChangeSet", respond)
        )


STACK_EVENT = """<member>
  <EventId>{logical}-UPDATE_FAILED-2026</EventId>
  <StackName>{stack}</StackName>
  <StackId>{stack_id}</StackId>
  <LogicalResourceId>{logical}</LogicalResourceId>
  <PhysicalResourceId>{logical}-physical</PhysicalResourceId>
  <ResourceType>{kind}</ResourceType>
  <Timestamp>{timestamp}</Timestamp>
  <ResourceStatus>{status}</ResourceStatus>
  <ResourceStatusReason>{reason}</ResourceStatusReason>
</member>"""
STACK_EVENTS = """<DescribeStackEventsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStackEventsResult>
    <StackEvents>{members}</StackEvents>
  </DescribeStackEventsResult>
  <ResponseMetadata><RequestId>5ccc7dcd-744c-11e5-be70-1b08c228efb3</RequestId></ResponseMetadata>
</DescribeStackEventsResponse>"""


def fail_updates(stub: AwsStub, events: list[dict]):
    """After an ExecuteChangeSet, CloudFormation "rolls back": DescribeStacks reports
    UPDATE_ROLLBACK_COMPLETE and DescribeStackEvents the failed resources (each a dict of
    logical, kind, status, reason), in the API reference's shapes."""
    import datetime

    executed = []

    def after_execute(request, forward):
        executed.append(True)
        return forward(request)

    def rolled_back(request, forward):
        status, headers, body = forward(request)
        text = re.sub(
            r"<StackStatus>UPDATE_(?:IN_PROGRESS|COMPLETE)</StackStatus>",
            "<StackStatus>UPDATE_ROLLBACK_COMPLETE</StackStatus>",
            body.decode(),
        )
        return status, headers, text.encode()

    def failed_events(request, forward):
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        stack = urllib.parse.parse_qs(request.body.decode())["StackName"][0]
        members = "".join(
            STACK_EVENT.format(stack=stack, stack_id=stack, timestamp=now, **event)
            for event in events
        )
        return 200, {"Content-Type": "text/xml"}, STACK_EVENTS.format(members=members).encode()

    def cloudformation(action, only_after=False):
        return lambda r: (
            r.service == "cloudformation" and r.action == action and (executed or not only_after)
        )

    stub.rules += [
        (cloudformation("ExecuteChangeSet"), after_execute),
        (cloudformation("DescribeStacks", only_after=True), rolled_back),
        (cloudformation("DescribeStackEvents", only_after=True), failed_events),
    ]


def report_stack_status(stub: AwsStub, status: str):
    """DescribeStacks reports every stack in ``status`` (one moto never reaches: busy,
    rolled back...)."""

    def respond(request, forward):
        code, headers, body = forward(request)
        text = re.sub(r"<StackStatus>[A-Z_]+</StackStatus>", f"<StackStatus>{status}</StackStatus>",
                      body.decode())  # fmt: skip
        return code, headers, text.encode()

    stub.rules.append(
        (lambda r: r.service == "cloudformation" and r.action == "DescribeStacks", respond)
    )
