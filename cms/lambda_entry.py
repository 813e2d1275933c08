"""The function's entry point (zappa_settings.json, "lambda_handler"): Zappa's handler,
without the ways it gives whoever may invoke the function code to run.

Zappa's handler exec()s a ``raw_command`` event, imports and calls whatever dotted
function a ``command`` event names (and a scheduled event's rule name, an S3 record's
configuration id or an SNS message: it runs those by name too), runs any management
command a ``manage`` event names (``shell -c`` included), and copies an event's
``stageVariables`` into os.environ, for every later request in the container. Anyone
allowed lambda:InvokeFunction on the function could run anything with its role and
database. Here stage variables (this project sets none on API Gateway) are dropped, and
only what this project sends gets through:

- HTTP events (API Gateway, function URL, load balancer): Django answers them, behind
  its own checks (cms.middleware refuses those that skipped CloudFront);
- scheduled events for the functions zappa_settings.json schedules, and keep-warm;
- S3 records for the functions zappa_settings.json maps the media bucket to;
- SQS records from the stage's dead-letter queue, for the function recording them (and
  SQS records for nothing else);
- ``command`` events for the task runner (which runs django.tasks Tasks only);
- ``manage`` events for the commands the deploy and docs/deploy.md use, with the options
  they use.

Anything else is refused with a log line naming its kind and why, never its content.
Imports only Zappa's handler, which Lambda would import anyway, and the standard-library
modules of cms.logs and cms.metrics; under a SnapStart init (and only then, or when
asked) it also loads Django and registers the snapshot hooks, cms.snapstart.

Every invocation runs inside ``cms.logs.invocation``: each line it logs carries Lambda's
request id (and API Gateway's, CloudFront's and the trace id, when the event has them).
A container's first invocation records the COLD_START metric (a SnapStart restore's
first too: the snapshot is taken before any invocation); an event other than HTTP gets
one line saying what kind it was and how long it took, an unhandled error one line with
its traceback.
"""

import logging
import re
import time

from zappa.handler import LambdaHandler

from cms import logs, metrics, snapstart

logger = logging.getLogger(__name__)

# cms.task_backends.RUNNER (not imported here: it brings django.tasks to every cold start).
TASK_RUNNER = "cms.task_backends.run_task"
# cms.task_backends.DEAD_LETTERS: the SQS event source on the stage's dead-letter queue
# calls it (the deploy fills in the queue's ARN from the stack's outputs).
DEAD_LETTERS = "cms.task_backends.record_dead_letters"
# Every function zappa_settings.json's events name (a test keeps the two equal).
EVENT_FUNCTIONS = frozenset(
    {"sitecontent.events.publishing_tick", "sitecontent.events.media_uploaded", DEAD_LETTERS}
)
# Zappa schedules keep-warm as handler.keep_warm_callback and answers it without a call.
KEEP_WARM = "keep_warm_callback"

WORD = re.compile(r"^\w+$", re.ASCII)
USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
VERBOSITY = {"-v": re.compile(r"^[0-3]$"), "--verbosity": re.compile(r"^[0-3]$")}


class Command:
    """A management command ``manage`` events may run, and the arguments it may take."""

    def __init__(self, *, flags=(), options=None, positional=None, most=0, required=()):
        self.flags = frozenset(flags)
        self.options = {**VERBOSITY, **(options or {})}
        self.positional, self.most, self.required = positional, most, frozenset(required)

    def refusal(self, args: list[str]) -> str | None:
        seen, positional = set(), 0
        rest = iter(args)
        for arg in rest:
            if arg.startswith("-"):
                name, has_value, value = arg.partition("=")
                if name in self.flags and not has_value:
                    seen.add(name)
                    continue
                if name not in self.options:
                    return f"option {name[:40]!r}"
                value = value if has_value else next(rest, "")
                if not self.options[name].match(value):
                    return f"value of {name}"
                seen.add(name)
            elif self.positional and self.positional.match(arg) and positional < self.most:
                positional += 1
            else:
                return "argument"
        if self.required - seen:
            return f"without {', '.join(sorted(self.required - seen))}"
        return None


# What `zappa manage` runs: the deploy (migrate, the release smoke test, a branch stage's
# demo content), docs/deploy.md (createsuperuser, a migration rollback), checks, and
# unlocking a sign-in. Never --settings or --pythonpath
# (they load other code), and never shell, dbshell, loaddata or dumpdata.
MANAGE_COMMANDS = {
    "migrate": Command(
        flags={"--noinput", "--no-input", "--plan", "--check"}, positional=WORD, most=2
    ),
    "showmigrations": Command(flags={"--plan", "--list"}, positional=WORD, most=20),
    "check": Command(
        flags={"--deploy"},
        options={"--fail-level": re.compile(r"^(CRITICAL|ERROR|WARNING|INFO|DEBUG)$")},
        positional=WORD,
        most=20,
    ),
    # --noinput: the password comes from DJANGO_SUPERUSER_PASSWORD, set for this one
    # command (docs/deploy.md); interactive prompts cannot work on Lambda anyway.
    "createsuperuser": Command(
        flags={"--noinput", "--no-input"},
        options={"--username": USERNAME, "--email": EMAIL},
        required={"--username"},
    ),
    "clearsessions": Command(),
    "publishing_tick": Command(),
    # The release's smoke test of a new version, through its own alias (infra.release).
    "release_smoke": Command(),
    # A branch stage's demo content (make deploy STAGE=pr-…): content only, never the
    # demo users (their passwords would be printed to the function's log).
    "seed_demo": Command(flags={"--force", "--content-only"}, required={"--content-only"}),
    "axes_reset_username": Command(positional=USERNAME, most=20),
}


def _manage_refusal(manage) -> str | None:
    if not isinstance(manage, str):
        return "manage is not a string"
    # Split exactly as Zappa splits it, so what is checked is what runs.
    name, *args = manage.split(" ")
    command = MANAGE_COMMANDS.get(name)
    if command is None:
        return f"management command {name[:40]!r} is not allowed"
    if name == "createsuperuser" and not {"--noinput", "--no-input"} & set(args):
        return "createsuperuser without --noinput"
    if why := command.refusal(args):
        return f"{name}: {why} is not allowed"
    return None


def _scheduled_refusal(event) -> str | None:
    try:
        function = event["resources"][0].split("/")[-1].split("-")[-1]
    except (KeyError, IndexError, TypeError, AttributeError):
        return "scheduled event without a rule"
    if function.rsplit(".", 1)[-1] == KEEP_WARM or "." not in function:
        return None  # Zappa calls nothing for these
    if function not in EVENT_FUNCTIONS or function == DEAD_LETTERS:
        return f"scheduled function {function[:80]!r} is not one of ours"
    return None


def _records_refusal(records) -> str | None:
    if not isinstance(records, list) or not isinstance(records[0], dict):
        return "records are not a list of objects"
    try:
        # Zappa's own choice of functions (it routes a batch by its first record).
        functions = LambdaHandler().get_function_for_aws_event(records[0])
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return "malformed record"
    if unknown := [f for f in functions if f not in EVENT_FUNCTIONS]:
        return f"record names function {str(unknown[0])[:80]!r}, not one of ours"
    # The dead-letter queue's records go to its recorder, and it takes nothing else.
    sqs = records[0].get("eventSource") == "aws:sqs"
    if sqs and functions != [DEAD_LETTERS]:
        return "SQS records are only for the dead-letter recorder"
    if not sqs and DEAD_LETTERS in functions:
        return "the dead-letter recorder takes SQS records only"
    return None


def refusal(event) -> str | None:
    """Why Zappa's handler must not see ``event``; None when it may."""
    if not isinstance(event, dict):
        return "the event is not an object"
    if "raw_command" in event:
        return "raw_command events are never run"
    if ("version" in event and event["version"] == "2.0") or event.get("httpMethod"):
        return None  # Zappa's first two branches: Django answers it
    # Every key Zappa could dispatch on is checked, not only the one it would pick.
    checks = []
    if event.get("detail-type") == "Scheduled Event":
        checks.append(_scheduled_refusal(event))
    if event.get("command"):
        command = event["command"]
        checks.append(None if command == TASK_RUNNER else f"command {str(command)[:80]!r}")
    if event.get("manage"):
        checks.append(_manage_refusal(event["manage"]))
    if event.get("Records"):
        checks.append(_records_refusal(event["Records"]))
    context = event.get("requestContext")
    for key in ("bot", "awslogs", "triggerSource"):
        if event.get(key):
            checks.append(f"{key} events are not used here")
    if event.get("type") == "TOKEN" or (
        isinstance(context, dict)
        and context.get("eventType") in ("CONNECT", "DISCONNECT", "MESSAGE")
    ):
        checks.append("authorizer and websocket events are not used here")
    if not checks:
        return "unknown kind of event"
    return next((why for why in checks if why), None)


def kind_of(event) -> str:
    """What an allowed event is, for the log (never its content): Zappa's order."""
    if ("version" in event and event["version"] == "2.0") or event.get("httpMethod"):
        return "http"
    if event.get("detail-type") == "Scheduled Event":
        rule = str(event["resources"][0])
        return "keep-warm" if rule.endswith(KEEP_WARM) else "scheduled"
    if event.get("command"):
        return "task"
    if event.get("manage"):
        return "manage"
    return "records"


_first_invocation = True


def lambda_handler(event, context):
    global _first_invocation
    cold, _first_invocation = _first_invocation, False
    with logs.invocation(event, context):
        start = time.perf_counter()
        kind, outcome = "refused", "handled"
        try:
            if why := refusal(event):
                keys = (
                    [str(k)[:40] for k in sorted(event)[:8]]
                    if isinstance(event, dict)
                    else type(event).__name__
                )
                logger.error("Refused an invocation (keys %s): %s", keys, why)
                return {"refused": why}
            kind = kind_of(event)
            if dropped := event.pop("stageVariables", None):
                # Zappa would copy them into os.environ (AWS_ENDPOINT_URL,
                # DJANGO_SETTINGS_MODULE…).
                logger.warning("Dropped stage variables %s", [str(k)[:40] for k in dropped][:8])
            if kind == "task":
                return _run_task(event, context)
            return LambdaHandler.lambda_handler(event, context)
        except Exception:
            outcome = "failed"
            logger.exception("Invocation failed (%s event)", kind)
            raise
        finally:
            if kind not in ("http", "refused", "keep-warm"):
                duration_ms = round((time.perf_counter() - start) * 1000, 1)
                logger.info(
                    "%s event %s in %.1f ms",
                    kind,
                    outcome,
                    duration_ms,
                    extra={"event": kind, "outcome": outcome, "duration_ms": duration_ms},
                )
            if cold:
                metrics.put(metrics.COLD_START, 1)


def _run_task(event, context):
    """What Zappa's handler does with a ``command`` event (kind_of follows its order of
    branches, so it would take this one), without the two lines it print()s of every
    result: plain text among the JSON lines, saying less than the runner's own."""
    handler = LambdaHandler()  # the singleton: settings and Django load once
    runner = handler.import_module_and_get_function(TASK_RUNNER)
    return handler.run_function(runner, event, context)


# Under a SnapStart init: Django now, with the snapshot hooks (cms.snapstart says why).
if snapstart.wanted():
    snapstart.load_at_init()
