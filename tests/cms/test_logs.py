"""The site's log lines as CloudWatch receives them (cms/logs.py).

Logging is configured with the LOGGING dict production settings build (read from a
process that loaded cms.settings.production), events go through the function's own
entry point and Zappa's handler (tests/lambda_fixtures.py), and what reaches stderr is
read back line by line (stdout stays empty): every line must parse as one JSON object,
carry the ids of its invocation, and hold no cookie, token, password or secret of the
settings, whatever shape the secret was logged in.
"""

import json
import logging
import logging.config
import os
import re
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings

from cms import logs
from tests import events
from tests.events import LambdaContext
from tests.factories import UserFactory
from tests.lambda_fixtures import body_of, rule_name
from tests.lambda_runtime import ORIGIN_SECRET as ORIGIN
from tests.lambda_runtime import production_env

pytestmark = pytest.mark.django_db

ROOT = django_settings.BASE_DIR
# Values that must never reach a log line, each sent the way a client sends it.
SESSION = "sess1on-value-that-must-not-leak-0123"
CSRF = "Csrf0Token0Value0That0Must0Not0Leak0123456789ab"
BEARER = "eyJhbGciOiJIUzI1NiJ9.bearer-must-not-leak.c2lnbmF0dXJl"
QUERY_TOKEN = "query-token-must-not-leak-42"
ORIGIN_SECRET = "origin-verify-secret-must-not-leak-0123456789"
PASSWORD = "typed-password-must-not-leak"
SECRETS = (SESSION, CSRF, BEARER, QUERY_TOKEN, ORIGIN_SECRET, PASSWORD)
REQUEST_ID = LambdaContext.aws_request_id


@pytest.fixture(scope="session", name="production_logging")
def production_logging_fixture(tmp_path_factory) -> dict:
    """settings.LOGGING as cms.settings.production builds it (no LOG_FORMAT set)."""
    env = production_env(tmp_path_factory.mktemp("prod") / "db.sqlite3")
    result = subprocess.run(
        [sys.executable, "-c", "import json; from django.conf import settings; "
         "print(json.dumps(settings.LOGGING))"],
        cwd=ROOT, env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE":
                       "cms.settings.production", **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


class Output:
    """What the process wrote since the last read, as Lambda ships it to CloudWatch: the
    log and metric lines on stderr, nothing on stdout (a print() would be a plain line)."""

    def __init__(self, capsys):
        self.capsys = capsys
        self.seen = ""

    def read(self) -> list[dict]:
        """The JSON objects of the lines written since the last read (each line must be
        exactly one)."""
        captured = self.capsys.readouterr()
        self.seen += captured.out + captured.err
        lines = [line for line in captured.err.splitlines() if line.strip()]
        objects = []
        for line in lines:
            value = json.loads(line)  # raises on any line that is not JSON
            assert isinstance(value, dict), line
            objects.append(value)
        assert captured.out == "", captured.out
        return objects

    def logs(self) -> list[dict]:
        return [line for line in self.read() if "_aws" not in line]


@pytest.fixture(name="lambda_logs")
def lambda_logs_fixture(production_logging, capsys, monkeypatch, settings):
    """Production's logging, on Lambda (a version and a stage), read from stdout."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    monkeypatch.setenv("STAGE", "dev")
    settings.METRICS_ENABLED = True
    settings.ORIGIN_VERIFY_SECRETS = [ORIGIN_SECRET]
    logging.config.dictConfig(production_logging)
    output = Output(capsys)
    capsys.readouterr()
    yield output
    logging.config.dictConfig(django_settings.LOGGING)
    logging.captureWarnings(False)  # as the test settings' plain handler leaves it


@pytest.fixture(autouse=True)
def _warnings_printed_again():
    yield
    logging.captureWarnings(False)


def browser_headers() -> dict:
    return {
        "Cookie": f"sessionid={SESSION}; csrftoken={CSRF}",
        "Authorization": f"Bearer {BEARER}",
    }


def assert_nothing_secret(output: Output):
    for value in SECRETS:
        assert value not in output.seen


# -- HTTP ------------------------------------------------------------------------------


def test_an_http_request_is_json_lines_with_its_ids_and_one_access_line(
    lambda_handler, lambda_logs
):
    event = events.cloudfront_rest_api("GET", "/articles/", origin_secret=ORIGIN_SECRET,
                                       headers=browser_headers())  # fmt: skip
    event["queryStringParameters"] = {"token": QUERY_TOKEN, "page": "1"}
    event["multiValueQueryStringParameters"] = {"token": [QUERY_TOKEN], "page": ["1"]}
    response = lambda_handler(event)
    assert response["statusCode"] == 200
    lines = lambda_logs.logs()
    [access] = [line for line in lines if line["logger"] == "cms.access"]
    assert access["level"] == "INFO"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/articles/", 200)
    assert isinstance(access["duration_ms"], float)
    assert access["duration_ms"] > 0
    assert access["request_id"] == REQUEST_ID
    assert access["apigw_request_id"] == event["requestContext"]["requestId"]
    assert access["cf_id"] == event["headers"]["X-Amz-Cf-Id"]
    assert (access["stage"], access["function_version"]) == ("dev", "7")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access["timestamp"])
    assert access["message"].startswith("GET /articles/ 200 ")
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "stage"} <= line.keys()
        assert line["request_id"] == REQUEST_ID
    assert_nothing_secret(lambda_logs)
    assert "page=1" not in lambda_logs.seen  # no query string at all


@pytest.mark.parametrize("make_event", [events.http_api, events.function_url, events.alb],
                         ids=["v2", "function-url", "alb"])  # fmt: skip
def test_every_front_door_gives_its_ids_and_leaks_nothing(lambda_handler, lambda_logs, make_event):
    headers = {k.lower(): v for k, v in browser_headers().items()}
    if make_event is events.alb:
        event = make_event("GET", "/no/such/page/", query={"token": QUERY_TOKEN}, headers=headers)
    else:
        event = make_event("GET", "/no/such/page/", query={"token": QUERY_TOKEN},
                           headers={"authorization": headers["authorization"]},
                           cookies=[f"sessionid={SESSION}", f"csrftoken={CSRF}"])  # fmt: skip
    assert lambda_handler(event)["statusCode"] == 404
    lines = lambda_logs.logs()
    [access] = [line for line in lines if line["logger"] == "cms.access"]
    assert (access["status"], access["path"]) == (404, "/no/such/page/")
    if "requestId" in event["requestContext"]:
        assert access["apigw_request_id"] == event["requestContext"]["requestId"]
    else:
        assert "apigw_request_id" not in access  # a load balancer gives none
        assert access["trace_id"] == event["headers"]["x-amzn-trace-id"]
    # Django's own "Not Found" line: one JSON object, the status as a field, no request.
    [not_found] = [line for line in lines if line["logger"] == "django.request"]
    assert (not_found["level"], not_found["status"]) == ("WARNING", 404)
    assert "request" not in not_found
    assert_nothing_secret(lambda_logs)


def test_a_failed_sign_in_logs_neither_the_password_nor_the_cookies(lambda_handler, lambda_logs):
    UserFactory(username="ed", password="the right one", is_staff=True)
    response = lambda_handler(events.rest_api("GET", "/admin/login/"))
    csrf = next(c for c in response["multiValueHeaders"]["Set-Cookie"] if "csrftoken" in c)
    token = csrf.split(";")[0].split("=", 1)[1]
    hidden = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body_of(response).decode())
    posted = lambda_handler(
        events.rest_api(
            "POST",
            "/admin/login/",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}; sessionid={SESSION}",
                "Origin": f"https://{events.API_HOST}",
                "Referer": f"https://{events.API_HOST}/dev/admin/login/",
            },
            body=urlencode({"csrfmiddlewaretoken": hidden[1], "username": "ed",
                            "password": PASSWORD}),
        )
    )  # fmt: skip
    assert posted["statusCode"] == 200  # the form again, with its error
    lines = lambda_logs.logs()
    assert [line["status"] for line in lines if line["logger"] == "cms.access"] == [200, 200]
    assert token not in lambda_logs.seen
    assert hidden[1] not in lambda_logs.seen
    assert_nothing_secret(lambda_logs)


def test_a_refused_request_is_logged_once_with_its_status(lambda_handler, lambda_logs, settings):
    settings.ORIGIN_VERIFY_REQUIRED = True
    event = events.rest_api("GET", "/", headers={"X-Origin-Verify": "wrong-" + ORIGIN_SECRET})
    assert lambda_handler(event)["statusCode"] == 403
    lines = lambda_logs.logs()
    [access] = [line for line in lines if line["logger"] == "cms.access"]
    assert access["status"] == 403
    [refusal] = [line for line in lines if line["logger"] == "cms.middleware"]
    assert (refusal["level"], refusal["method"]) == ("WARNING", "GET")
    assert_nothing_secret(lambda_logs)


def test_request_fields_end_with_the_request(lambda_handler, lambda_logs):
    lambda_handler(events.http_api("GET", "/articles/"))
    logging.getLogger("cms.test").warning("between invocations")
    [line] = lambda_logs.logs()[-1:]
    assert line["message"] == "between invocations"
    assert not {"request_id", "apigw_request_id", "method", "path"} & line.keys()
    assert line["stage"] == "dev"


# -- events and errors -----------------------------------------------------------------


def test_an_unhandled_error_is_one_line_with_its_traceback(lambda_logs):
    with logs.invocation({}, LambdaContext()):
        try:
            raise ValueError(f"while talking to postgres://cms:{PASSWORD}@db/cms")
        except ValueError:
            logging.getLogger("cms.test").exception("It failed")
    [line] = lambda_logs.logs()
    assert (line["level"], line["message"], line["request_id"]) == (
        "ERROR",
        "It failed",
        REQUEST_ID,
    )
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: while talking to postgres://cms:[redacted]@db/cms" in line["exception"]
    assert "\n" in line["exception"]  # inside the string: still one line of output
    assert PASSWORD not in lambda_logs.seen


def test_a_scheduled_event_gets_a_line_saying_what_ran_and_how_long(lambda_handler, lambda_logs):
    lambda_handler(events.scheduled(rule_name("sitecontent.events.publishing_tick")))
    [line] = [line for line in lambda_logs.logs() if line["logger"] == "cms.lambda_entry"]
    assert (line["event"], line["outcome"], line["request_id"]) == (
        "scheduled",
        "handled",
        REQUEST_ID,
    )
    assert line["duration_ms"] >= 0


def test_keep_warm_pings_log_nothing(lambda_handler, lambda_logs):
    event = events.scheduled(rule_name("handler.keep_warm_callback", name="zappa-keep-warm"))
    assert lambda_handler(event) is None
    assert lambda_logs.logs() == []


def test_a_refused_event_is_logged_by_its_keys_with_the_request_id(lambda_handler, lambda_logs):
    lambda_handler({"raw_command": f"print({PASSWORD!r})"})
    [line] = lambda_logs.logs()
    assert (line["level"], line["request_id"]) == ("ERROR", REQUEST_ID)
    assert "raw_command" in line["message"]
    assert PASSWORD not in lambda_logs.seen


# -- redaction, whatever shape a secret is logged in ------------------------------------

HEADERS = {"Host": "www.example.com", **browser_headers(), "X-Origin-Verify": ORIGIN_SECRET}
ENVIRON = {
    "HTTP_COOKIE": f"sessionid={SESSION}",
    "HTTP_AUTHORIZATION": f"Bearer {BEARER}",
    "HTTP_X_ORIGIN_VERIFY": ORIGIN_SECRET,
    "PATH_INFO": "/",
}
ENVIRON = {
    "HTTP_COOKIE": f"sessionid={SESSION}",
    "HTTP_AUTHORIZATION": f"Bearer {BEARER}",
    "HTTP_X_ORIGIN_VERIFY": ORIGIN_SECRET,
    "PATH_INFO": "/",
}
LEAKS = {
    "headers repr": ("Headers %s", (HEADERS,), {}),
    "wsgi environ repr": ("META %r", (ENVIRON,), {}),
    "event as json": ("Event %s", (json.dumps({"headers": HEADERS}),), {}),
    "query string": ("GET /preview/?token=%s&x=1", (QUERY_TOKEN,), {}),
    "form body": ("Body %s", (f"username=ed&password={PASSWORD}&csrfmiddlewaretoken={CSRF}",), {}),
    "cookie header line": ("Cookie: sessionid=%s; csrftoken=%s", (SESSION, CSRF), {}),
    "set-cookie": ("Set-Cookie: sessionid=%s; HttpOnly", (SESSION,), {}),
    "signed url": (
        "Fetched https://b.s3.amazonaws.com/k?X-Amz-Signature=%s&X-Amz-Credential=%s",
        (QUERY_TOKEN, BEARER),
        {},
    ),
    "bearer": ("Called the API with bearer %s", (BEARER,), {}),
    "structured extra": ("Request", (), {"extra": {"headers": HEADERS, "cookies": [SESSION]}}),
    "origin secret bare": ("Compared %s", (ORIGIN_SECRET,), {}),
}


@pytest.mark.parametrize("log_format", ["json", "plain"])
@pytest.mark.parametrize("leak", LEAKS.values(), ids=LEAKS.keys())
def test_secrets_are_redacted_in_every_shape_and_format(log_format, leak, capsys, settings):
    settings.ORIGIN_VERIFY_SECRETS = [ORIGIN_SECRET]
    message, args, kwargs = leak
    logging.config.dictConfig(logs.logging_config(log_format, "INFO"))
    try:
        logging.getLogger("cms.test").warning(message, *args, **kwargs)
    finally:
        logging.config.dictConfig(django_settings.LOGGING)
    captured = capsys.readouterr()
    written = captured.out + captured.err
    if log_format == "json" or args:  # the plain format shows no extra fields at all
        assert logs.REDACTED in written
    for value in SECRETS:
        assert value not in written
    if log_format == "json":
        [line] = captured.err.splitlines()
        assert json.loads(line)["logger"] == "cms.test"


def test_the_settings_secrets_are_redacted_wherever_they_appear(capsys, settings, monkeypatch):
    settings.SECRET_KEY = "django-secret-key-value-" + "k" * 30
    settings.SECRET_KEY_FALLBACKS = ["old-django-secret-key-" + "o" * 30]
    monkeypatch.setitem(django_settings.DATABASES["default"], "PASSWORD", PASSWORD)
    logging.config.dictConfig(logs.logging_config("json", "INFO"))
    try:
        logging.getLogger("cms.test").error(
            "Oops %s %s %s", settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS[0], PASSWORD
        )
    finally:
        logging.config.dictConfig(django_settings.LOGGING)
    err = capsys.readouterr().err
    assert json.loads(err)["message"] == "Oops [redacted] [redacted] [redacted]"


def test_what_cms_secrets_read_is_redacted_but_not_the_database_host(capsys, monkeypatch):
    from cms import secrets

    rds = {"username": "cms_admin", "password": "rds-managed-" + PASSWORD, "host": "db.internal"}
    monkeypatch.setitem(secrets._cache, "arn:aws:secretsmanager:eu-west-1:1:secret:rds", (0, rds))
    logging.config.dictConfig(logs.logging_config("json", "INFO"))
    try:
        logging.getLogger("cms.test").error("Could not connect as %(username)s to %(host)s "
                                            "with %(password)s", rds)  # fmt: skip
    finally:
        logging.config.dictConfig(django_settings.LOGGING)
    message = json.loads(capsys.readouterr().err)["message"]
    assert message == "Could not connect as cms_admin to db.internal with [redacted]"


def test_ordinary_text_is_left_alone():
    text = "Published 3 articles; the password reset form; a basic token-free line: ok"
    assert logs.redact(text, []) == text


# -- formats and stage -----------------------------------------------------------------


def settings_value(name, settings_module, **env):
    code = f"from django.conf import settings; print(settings.{name})"
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": settings_module}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env},
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout.strip().splitlines()[-1]


def test_laptops_log_plain_text_unless_asked_and_lambda_and_production_json(tmp_path):
    assert settings_value("LOG_FORMAT", "cms.settings.local") == "plain"
    assert settings_value("LOG_FORMAT", "cms.settings.local", LOG_FORMAT="json") == "json"
    on_lambda = {"AWS_LAMBDA_FUNCTION_NAME": "lambda-cms-dev"}
    assert settings_value("LOG_FORMAT", "cms.settings.local", **on_lambda) == "json"
    production = production_env(tmp_path / "db.sqlite3")
    assert settings_value("LOG_FORMAT", "cms.settings.production", **production) == "json"
    assert settings_value("METRICS_ENABLED", "cms.settings.production", **production) == "True"
    assert settings_value("METRICS_ENABLED", "cms.settings.local") == "False"


PRODUCTION_PROBE = """
import logging, os, warnings
import django
django.setup()
from django.test import Client
Client().get("/", secure=True)
Client(HTTP_X_ORIGIN_VERIFY="not-" + os.environ["ORIGIN_VERIFY_SECRETS"]).get("/", secure=True)
warnings.warn("a warning")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("cms.probe").exception("boom")
"""


def test_under_production_settings_every_line_from_start_to_error_is_json(tmp_path):
    """A fresh process: settings, django.setup(), requests refused (no CloudFront header,
    a wrong one), an error with its traceback and a Python warning; stderr holds only
    JSON lines, stdout nothing. (Pages need the collected static files' manifest: the
    package tests render them.)"""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "cms.settings.production",
           **production_env(tmp_path / "empty.sqlite3")}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""
    assert [line for line in result.stderr.splitlines() if not line.startswith("{")] == []
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    access = [line for line in lines if line.get("logger") == "cms.access"]
    assert [line["status"] for line in access] == [403, 403]
    [boom] = [line for line in lines if line.get("message") == "boom"]
    assert "ZeroDivisionError" in boom["exception"]
    assert any(line.get("logger") == "py.warnings" for line in lines)
    for line in lines:
        assert "_aws" in line or {"timestamp", "level", "logger", "message"} <= line.keys()
    assert ORIGIN not in result.stderr


def test_an_unknown_log_format_stops_the_start():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logs.logging_config("xml", "INFO")


def test_the_stage_comes_from_stage_then_zappa_then_the_function_name(monkeypatch):
    monkeypatch.setenv("STAGE", "staging")
    assert logs.stage() == "staging"
    monkeypatch.delenv("STAGE")
    monkeypatch.delitem(sys.modules, "zappa_settings", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lambda-cms-pr-12")
    assert logs.stage() == "pr-12"
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert logs.stage() == "local"
