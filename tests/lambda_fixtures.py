"""Zappa's own handler, configured from the real zappa_settings.json.

``zappa save-python-settings-file`` (Zappa's CLI, offline) turns a stage of
zappa_settings.json into the zappa_settings.py that ships in the package; the handler
reads that module exactly as it does on Lambda. A typo in zappa_settings.json shows up
here as a failing event.

The stage is the one ``make deploy`` writes into the build copy: the committed settings
with a stack's outputs filled in (``cms.lambda_build.stage_settings_from_outputs``), here
from ``stack_outputs`` below, so the S3 and dead-letter routes name a real bucket and queue.
"""

import base64
import functools
import json
import logging
import re
import subprocess
import sys
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import set_script_prefix

from tests.events import LambdaContext

ROOT = Path(__file__).resolve().parents[1]
STAGE = "dev"


def zappa_cli(*args, cwd=ROOT, check=True):
    return subprocess.run(
        [Path(sys.executable).parent / "zappa", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def stage_config(stage=STAGE) -> dict:
    """A stage's settings with ``extends`` resolved, as Zappa's CLI resolves them (a
    fresh copy each call: callers may change it)."""
    return json.loads(_stage_config_json(stage))


@functools.cache
def _stage_config_json(stage) -> str:
    # Zappa's CLI builds boto3 clients as it loads settings (most of a second); the
    # committed file does not change while the suite runs.
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    return json.dumps(cli.stage_config)


ACCOUNT = "123456789012"


def stack_outputs(stage=STAGE) -> dict:
    """Outputs shaped like a stage stack's (infra/), for settings made without AWS. The
    bucket is the one the media fixtures create (tests/aws_fixtures.py)."""
    region = "eu-west-1"
    secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:"
    return {
        "Stage": stage,
        "FunctionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/lambda-cms-{stage}-function",
        "MediaBucket": f"lambda-cms-{stage}-media",
        "DeploymentBucket": f"lambda-cms-{stage}-zappa-{ACCOUNT}",
        "DistributionId": "E2EXAMPLE0ABCD",
        "DistributionDomain": "d111111abcdef8.cloudfront.net",
        "SiteDomain": "d111111abcdef8.cloudfront.net",
        "SubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        "FunctionSecurityGroupId": "sg-0123456789abcdef0",
        "DeadLetterQueueArn": f"arn:aws:sqs:{region}:{ACCOUNT}:lambda-cms-{stage}-dead-letters",
        "DjangoSecretArn": f"{secret}lambda-cms/{stage}/django-AbCdEf",
        "OriginVerifySecretArn": f"{secret}lambda-cms/{stage}/origin-verify-AbCdEf",
        "DatabaseSecretArn": f"{secret}rds!cluster-0a1b2c-AbCdEf",
        "DatabaseHost": f"lambda-cms-{stage}.cluster-abcdefghijkl.{region}.rds.amazonaws.com",
        "DatabasePort": "5432",
        "DatabaseName": "cms",
        "AlarmTopicArn": f"arn:aws:sns:{region}:{ACCOUNT}:lambda-cms-{stage}-alarms",
    }


def deployed_settings_file(directory: Path, stage=STAGE, outputs=None) -> Path:
    """zappa_settings.json as ``make deploy`` writes it into the build copy."""
    from cms import lambda_build

    everything = json.loads((ROOT / "zappa_settings.json").read_text())
    everything[stage] = lambda_build.stage_settings_from_outputs(
        stage, stage_config(stage), outputs or stack_outputs(stage)
    )
    everything[stage].pop("extends", None)
    path = Path(directory) / "zappa_settings.json"
    path.write_text(json.dumps(everything, indent=2))
    return path


def rule_name(function: str, *, name=None, stage=STAGE) -> str:
    """The EventBridge rule name Zappa's ``schedule`` gives an event."""
    from zappa.core import Zappa

    zappa = Zappa.__new__(Zappa)  # only its naming helpers are needed
    event = {"function": function, **({"name": name} if name else {})}
    return zappa.get_scheduled_event_name(event, function, f"lambda-cms-{stage}")


@pytest.fixture(scope="session")
def zappa_settings_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp(f"zappa-{STAGE}")
    settings_file = deployed_settings_file(out)
    zappa_cli("save-python-settings-file", STAGE, "-s", settings_file, "-o",
              out / "zappa_settings.py")  # fmt: skip
    return out


@contextmanager
def keep_test_connections():
    # As Django's test client does: the request signals would close the connection
    # that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="session")
def _zappa_handler(zappa_settings_dir):
    sys.path.insert(0, str(zappa_settings_dir))
    from zappa.handler import LambdaHandler

    root_level = logging.getLogger().level
    LambdaHandler("zappa_settings")  # a singleton: loads settings and the Django app once
    logging.getLogger().setLevel(root_level)
    return LambdaHandler


@pytest.fixture(scope="session")
def _entry_point(_zappa_handler):
    """The function zappa_settings.json names as the Lambda handler (it wraps Zappa's)."""
    from django.utils.module_loading import import_string

    return import_string(stage_config()["lambda_handler"])


def _invoker(handler, settings):
    from tests import events

    settings.ALLOWED_HOSTS = [
        *settings.ALLOWED_HOSTS,
        events.API_HOST,
        events.ALB_HOST,
        events.FUNCTION_URL_HOST,
        "www.example.com",
    ]

    def invoke(event, context=None):
        try:
            with keep_test_connections():
                return handler(json.loads(json.dumps(event)), context or LambdaContext())
        finally:
            # The request set the stage's SCRIPT_NAME as the thread's URL prefix;
            # reverse() in the test itself should not see it.
            set_script_prefix("/")

    return invoke


@pytest.fixture
def lambda_handler(_entry_point, settings):
    """Call the function's handler in-process, the way Lambda's runtime calls it: the
    entry point zappa_settings.json names, in front of Zappa's ``lambda_handler``."""
    return _invoker(_entry_point, settings)


@pytest.fixture
def zappa_lambda_handler(_zappa_handler, settings):
    """Zappa's own handler with nothing in front: what an event would do without ours."""
    return _invoker(_zappa_handler.lambda_handler, settings)


# -- signing in to the admin through the handler ------------------------------------

LOGIN = "/admin/login/"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def body_of(response) -> bytes:
    """A Zappa response's body, decoded when its front door base64-encoded it."""
    body = response.get("body") or ""
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def set_cookies(response) -> list[str]:
    """The Set-Cookie values of a Zappa response, however its front door carries them
    (payload 2.0: a "cookies" list; 1.0: multi-value headers; ALB: a single header)."""
    if response.get("cookies"):
        return response["cookies"]
    multi = (response.get("multiValueHeaders") or {}).get("Set-Cookie")
    if multi:
        return multi
    single = (response.get("headers") or {}).get("Set-Cookie")
    return [single] if single else []


def signed_in(response) -> bool:
    """The sign-in succeeded: a redirect that sets a session cookie."""
    return response["statusCode"] == 302 and any(
        cookie.startswith("sessionid=") for cookie in set_cookies(response)
    )


def login_fields(html: str, username: str, password: str) -> dict:
    """What a browser posts back from the admin's sign-in form: its hidden fields (the
    CSRF token, ``next``) and the credentials typed in."""
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert "csrfmiddlewaretoken" in hidden, html[:500]
    return {**hidden, "username": username, "password": password}


def admin_sign_in(handler, make_event, *, username, password):
    """The admin's sign-in round trip through ``handler`` as a browser makes it: GET the
    form, then POST it back with the CSRF cookie it set and its token, from the page's
    own origin (Origin and Referer, which Django's CSRF check compares with the host).

    ``make_event`` is a front door of tests.events (rest_api, http_api, alb...); returns
    the POST's response."""
    form = handler(make_event("GET", LOGIN))
    assert form["statusCode"] == 200, body_of(form)[:300]
    html = body_of(form).decode()
    cookies = SimpleCookie()
    for value in set_cookies(form):
        cookies.load(value)
    host = {k.lower(): v for k, v in make_event()["headers"].items()}["host"]
    # The page's address as the browser shows it: the form posts back to it, under the
    # stage prefix Zappa gives an execute-api host.
    page = re.search(r'<form action="([^"]+)" method="post" id="login-form"', html)[1]
    return handler(
        make_event(
            "POST",
            LOGIN,
            headers={
                "Content-Type": FORM_CONTENT_TYPE,
                "Cookie": f"csrftoken={cookies['csrftoken'].value}",
                "Origin": f"https://{host}",
                "Referer": f"https://{host}{page}",
            },
            body=urlencode(login_fields(html, username, password)),
        )
    )
