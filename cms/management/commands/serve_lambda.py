"""Serve the site through Zappa's real Lambda handler: ``manage.py serve_lambda``.

Each HTTP request on loopback becomes an API Gateway (REST, payload 1.0) event for
Zappa's ``lambda_handler``, and the scheduled events of the chosen stage in
zappa_settings.json (the publishing tick, keep-warm) fire at their rate, so a developer
sees what Lambda will do. Like one Lambda container, it handles one event at a time.

Uses whatever Django settings manage.py uses (local by default: SQLite, tasks inline).
Options: --stage (default dev), --port (default 8000), --speedup N (fire schedules N
times faster, for demos and tests).
"""

import base64
import http.server
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    match = RATE.match(expression.strip())
    if not match:
        return None
    return int(match[1]) * SECONDS[match[2].rstrip("s")]


def stage_config(stage: str) -> dict:
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(Path(settings.BASE_DIR) / "zappa_settings.json"))
    return cli.stage_config


def scheduled_events(stage: str) -> list[dict]:
    """The stage's cron events plus Zappa's keep-warm, with the rule names Zappa gives."""
    from zappa.core import Zappa

    config = stage_config(stage)
    events = [e for e in config.get("events", []) if "expression" in e]
    if config.get("keep_warm", True):
        events.append({
            "name": "zappa-keep-warm",
            "function": "handler.keep_warm_callback",
            "expression": config.get("keep_warm_expression", "rate(4 minutes)"),
        })  # fmt: skip
    namer = Zappa.__new__(Zappa)  # only its naming helper is needed
    lambda_name = f"{config['project_name']}-{stage}"
    for event in events:
        event["rule"] = namer.get_scheduled_event_name(event, event["function"], lambda_name)
    return events


def scheduled_event(rule: str) -> dict:
    return {
        "version": "0",
        "id": f"local-{time.time_ns()}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "local",
        "resources": [f"arn:aws:events:local:000000000000:rule/{rule}"],
        "detail": {},
    }


def http_event(handler: http.server.BaseHTTPRequestHandler, body: bytes) -> dict:
    url = urlsplit(handler.path)
    headers = dict(handler.headers.items())
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    return {
        "resource": "/{proxy+}",
        "path": url.path,
        "httpMethod": handler.command,
        "headers": headers,
        "multiValueHeaders": {name: handler.headers.get_all(name) for name in headers},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {
            k: [v for key, v in parse_qsl(url.query, keep_blank_values=True) if key == k]
            for k in query
        }
        or None,
        "pathParameters": {"proxy": url.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "stage": "local",
            "httpMethod": handler.command,
            "path": url.path,
            "requestId": f"local-{time.time_ns()}",
            "identity": {"sourceIp": handler.client_address[0]},
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


class Command(BaseCommand):
    help = "Serve the site through Zappa's Lambda handler and fire the stage's cron events."

    def add_arguments(self, parser):
        parser.add_argument("--stage", default="dev")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--speedup", type=float, default=1.0)

    def handle(self, *args, stage, host, port, speedup, **options):
        # Zappa marks every request HTTPS (API Gateway speaks nothing else); the browser
        # here speaks HTTP, so trust its origin for CSRF checks.
        settings.CSRF_TRUSTED_ORIGINS = [*settings.CSRF_TRUSTED_ORIGINS, f"http://{host}:{port}"]
        handler_class = self.load_handler(stage)
        lock = threading.Lock()  # one event at a time, like one Lambda container

        def invoke(event):
            with lock:
                return handler_class.lambda_handler(event, None)

        for event in scheduled_events(stage):
            period = rate_seconds(event["expression"])
            if period is None:
                self.stderr.write(f"Not fired locally (only rate() is): {event['expression']}")
                continue
            threading.Thread(
                target=self.fire, args=(invoke, event, period / speedup), daemon=True
            ).start()
            self.stdout.write(f"Every {period / speedup:g}s: {event['function']}")

        # Threads per connection (browsers keep several open); the lock still lets one
        # event at a time into the handler.
        server = http.server.ThreadingHTTPServer((host, port), self.request_handler(invoke))
        self.stdout.write(f"Serving through Zappa's handler on http://{host}:{port}/")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def load_handler(self, stage):
        """Zappa's handler, configured from zappa_settings.py generated for ``stage``."""
        folder = Path(tempfile.mkdtemp(prefix="zappa-local-"))
        result = subprocess.run(  # noqa: S603 - this virtualenv's zappa, our arguments
            [Path(sys.executable).parent / "zappa", "save-python-settings-file", stage,
             "-o", folder / "zappa_settings.py"],
            cwd=settings.BASE_DIR, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode:
            raise CommandError(f"zappa could not read stage {stage!r}:\n{result.stderr}")
        sys.path.insert(0, str(folder))
        from zappa.handler import LambdaHandler

        LambdaHandler("zappa_settings")
        return LambdaHandler

    def fire(self, invoke, event, period):
        while True:
            time.sleep(period)
            try:
                result = invoke(scheduled_event(event["rule"]))
                self.stdout.write(f"[schedule] {event['function']}: {result}")
                self.stdout.flush()
            except Exception as exc:
                self.stderr.write(f"[schedule] {event['function']} failed: {exc!r}")

    @staticmethod
    def request_handler(invoke):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one_request(self):
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline or not self.parse_request():
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                response = invoke(http_event(self, self.rfile.read(length) if length else b""))
                body = response.get("body") or ""
                payload = (
                    base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
                )
                self.send_response(response["statusCode"])
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    if name.lower() in {"content-length", "connection"}:
                        continue
                    for value in values:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                self.wfile.flush()

            def log_message(self, *args):
                pass  # Zappa's handler logs each request already

        return Handler
