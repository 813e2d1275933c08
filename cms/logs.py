"""The site's log lines: one JSON object per record on Lambda, with the invocation's
request ids, and nothing secret in them.

- ``logging_config(log_format, level)`` is the LOGGING setting (cms.settings.base: plain
  text at a terminal; cms.settings.production and Lambda: JSON unless LOG_FORMAT says
  otherwise).
- ``JsonFormatter`` (python-json-logger underneath: 6 modules, about 2 ms to import,
  31 KiB zipped with bytecode, measured for docs/observability.md) writes one line per
  record: ``timestamp``, ``level``, ``logger``, ``message``, the fields of the current
  invocation and request (``request_id``, ``apigw_request_id``, ``cf_id``, ``trace_id``,
  ``method``, ``path``), ``stage`` and ``function_version``, any ``extra`` the caller
  gave, and an exception's traceback as one string field, ``exception`` (so still one
  line).
- ``invocation(event, context)`` (cms.lambda_entry) and ``request(method, path)``
  (cms.middleware.RequestLogMiddleware, first in MIDDLEWARE) set those fields, in a
  context variable that lives for one invocation or request; the middleware writes the
  access line (logger ``cms.access``: method, path, status, duration_ms) and the
  request's latency metric.
- ``redact()`` runs over every string a line holds, in both formats: header values and
  ``name=value`` pairs whose name looks secret (cookies, Authorization, the origin
  header, session and CSRF tokens, passwords, signed-URL signatures), bearer tokens, and
  the values of the settings' secrets themselves (the Django keys, the origin header's
  secrets, the database password, what cms.secrets read), wherever they appear.

Paths are logged without their query string: a preview or reset link carries its token
there. Zappa's own access line (zappa.wsgi, which has the query string) is turned off.
"""

import contextvars
import logging
import os
import re
import sys
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

REDACTED = "[redacted]"

# The fields of the invocation or request being handled (None outside of one).
_fields: contextvars.ContextVar[dict | None] = contextvars.ContextVar("cms_log", default=None)

# -- redaction ----------------------------------------------------------------------

# Names whose values are secrets, as header names, WSGI keys, cookie or form fields.
HIDDEN_HEADERS = (
    r"(?:http_)?(?:cookie|set-cookie|authorization|proxy-authorization|x-origin-verify"
    r"|x_origin_verify|x-api-key|x-amz-security-token)"
)
SECRET_FIELDS = frozenset(
    {
        "cookie",
        "cookies",
        "set-cookie",
        "authorization",
        "proxy-authorization",
        "x-origin-verify",
        "x-api-key",
        "x-amz-security-token",
        "http_cookie",
        "http_authorization",
        "http_x_origin_verify",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
        "password",
        "secret_key",
        "token",
    }
)
_PATTERNS = (
    # A header and its value, as text, a repr or JSON: "Cookie: a=b", 'HTTP_COOKIE': '…'.
    re.compile(rf"(?i)(?<![\w-])({HIDDEN_HEADERS}[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+"),
    # name=value pairs (query strings, cookies, forms, URLs, exception messages).
    re.compile(
        r"(?i)(?<![\w-])((?:[\w-]*(?:password|passwd|secret|token|api[_-]?key|sessionid"
        r"|csrftoken|csrfmiddlewaretoken|signature|credential))\s*[=:]\s*)[^\s&;,\"'<>]+"
    ),
    re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]{8,}"),
    # user:password@ in a URL (DATABASE_URL in a connection error).
    re.compile(r"(?i)(\w+://[^/\s:@]+:)[^@\s/]+(?=@)"),
)
# Keys of a Secrets Manager secret whose values are secret (not its username or host).
SECRET_KEY_NAME = re.compile(r"(?i)password|secret|token|key")
# Secrets shorter than this are not searched for: they would redact ordinary words.
SHORTEST_SECRET = 8


def _secret_values() -> list[str]:
    """The values of the settings' secrets now (a rotation replaces them in settings)."""
    values = [os.environ.get(name, "") for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
    try:
        from django.conf import settings

        if settings.configured:
            values.append(getattr(settings, "SECRET_KEY", "") or "")
            values += list(getattr(settings, "SECRET_KEY_FALLBACKS", None) or [])
            values += list(getattr(settings, "ORIGIN_VERIFY_SECRETS", None) or [])
            for database in (getattr(settings, "DATABASES", None) or {}).values():
                values.append(database.get("PASSWORD") or "")
        # What was read from Secrets Manager (the database's RDS-managed password among
        # it), when cms.secrets has read anything: its secret-named keys' values.
        if store := sys.modules.get("cms.secrets"):
            for _read_at, secret in list(store._cache.values()):
                for key, value in secret.items():
                    if SECRET_KEY_NAME.search(str(key)):
                        values += value if isinstance(value, list) else [value]
    except Exception:  # noqa: S110 (a log line must never fail for its redaction)
        pass
    return [v for v in values if isinstance(v, str) and len(v) >= SHORTEST_SECRET]


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` without anything that looks secret (see the module's docstring)."""
    for value in _secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\1{REDACTED}", text)
    return text


def redact_data(value, secrets: list[str] | None = None):
    """``value`` (strings, dicts, lists of them) with every string redacted and the
    values of secret-named keys replaced."""
    secrets = _secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and key.lower() in SECRET_FIELDS
            else redact_data(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_data(item, secrets) for item in value]
    return value


# -- the fields of the invocation and request -----------------------------------------


def stage() -> str:
    """The deployed stage: STAGE (set by the deploy, and by Zappa's handler), else what
    Zappa names the function after (project-stage), else "local"."""
    if name := os.environ.get("STAGE"):
        return name
    zappa_settings = sys.modules.get("zappa_settings")
    if stage := getattr(zappa_settings, "API_STAGE", None):
        return stage
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    project = getattr(zappa_settings, "PROJECT_NAME", None) or "lambda-cms"
    if function.startswith(f"{project}-"):
        return function[len(project) + 1 :]
    return function or "local"


def current() -> dict:
    """The fields of the invocation or request being handled ({} outside one)."""
    return _fields.get() or {}


def _headers(event: dict) -> dict:
    headers = event.get("headers")
    return {str(k).lower(): v for k, v in headers.items()} if isinstance(headers, dict) else {}


def invocation_fields(event, context) -> dict:
    """What identifies one Lambda invocation in every line it logs."""
    fields = {}
    if request_id := getattr(context, "aws_request_id", None):
        fields["request_id"] = str(request_id)
    if isinstance(event, dict):
        request_context = event.get("requestContext")
        if isinstance(request_context, dict) and request_context.get("requestId"):
            fields["apigw_request_id"] = str(request_context["requestId"])[:100]
        headers = _headers(event)
        if cf_id := headers.get("x-amz-cf-id"):
            fields["cf_id"] = str(cf_id)[:100]  # CloudFront's x-edge-request-id
        if trace := headers.get("x-amzn-trace-id") or os.environ.get("_X_AMZN_TRACE_ID"):
            fields["trace_id"] = str(trace)[:200]
    return fields


@contextmanager
def invocation(event, context):
    """Every line logged inside carries the invocation's ids."""
    token = _fields.set(invocation_fields(event, context))
    try:
        yield
    finally:
        _fields.reset(token)


@contextmanager
def request(method: str, path: str):
    """Every line logged inside carries the HTTP request's method and path (its
    ``path_info``: never the query string), and, outside Lambda, an id of its own."""
    fields = {**current()}
    fields.setdefault("request_id", uuid.uuid4().hex)
    fields |= {"method": method[:16], "path": path[:512]}
    token = _fields.set(fields)
    try:
        yield fields
    finally:
        _fields.reset(token)


# -- formatters and the handler ------------------------------------------------------


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per record (see the module's docstring for its fields)."""

    # Record attributes that are no fields of the line (Django's log_response passes the
    # request object itself: its repr holds the query string).
    DROPPED = frozenset({"request", "server_time"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        created = datetime.fromtimestamp(record.created, tz=UTC)
        log_data["timestamp"] = created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        super().add_fields(log_data, record, message_dict)
        for name in self.DROPPED & log_data.keys():
            del log_data[name]
        if "status_code" in log_data:  # django.request's name for it
            log_data.setdefault("status", log_data.pop("status_code"))
        if "exc_info" in log_data:
            log_data["exception"] = log_data.pop("exc_info")
        if "stack_info" in log_data and not log_data["stack_info"]:
            del log_data["stack_info"]
        for key, value in current().items():
            log_data.setdefault(key, value)
        log_data["stage"] = stage()
        if version := os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"):
            log_data["function_version"] = version

    def process_log_record(self, log_data):
        return redact_data(log_data)


class PlainFormatter(logging.Formatter):
    """The human format, redacted alike."""

    def format(self, record):
        return redact(super().format(record))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test's capture, too), where the EMF
    metric lines go as well (cms.metrics). Lambda sends stderr to the function's log
    stream as it does stdout; stdout stays the programs' own (a management command's
    output, a script's JSON)."""

    def __init__(self):
        super().__init__(sys.stderr)
        # Python's warnings would print themselves as plain lines, a traceback's worth:
        # through logging ("py.warnings") they are JSON lines too.
        logging.captureWarnings(True)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


FORMATS = ("plain", "json")
PLAIN = "%(levelname)s %(name)s %(message)s"


def logging_config(log_format: str, level: str) -> dict:
    """The LOGGING setting: ``log_format`` "plain" or "json", both on stderr."""
    if log_format not in FORMATS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(FORMATS)}")
    handler = {
        "plain": {"class": "logging.StreamHandler", "formatter": "plain"},
        "json": {"()": "cms.logs.StderrHandler", "formatter": "json"},
    }[log_format]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"()": "cms.logs.PlainFormatter", "format": PLAIN},
            "json": {"()": "cms.logs.JsonFormatter"},
        },
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's own console handler for these, so no line is printed twice.
            "django": {"handlers": ["console"], "level": level, "propagate": False},
            "django.db.backends": {"level": "WARNING"},
            # boto3 announces every client's credentials and endpoint at INFO.
            "botocore": {"level": "WARNING"},
            "boto3": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            # Zappa's access line holds the query string; cms.access is the one kept.
            "zappa": {"level": "WARNING"},
        },
    }
