"""Blue/green releases of a stage's function behind its ``live`` alias (docs/releases.md).

    python -m infra release STAGE [--first] [--commit SHA]   # run by make deploy
    python -m infra rollback STAGE                           # make rollback STAGE=…

After ``zappa deploy`` or ``zappa update`` (cms.lambda_build) the new code and settings
are on ``$LATEST``, which nothing serving visitors invokes. ``release``:

1. publishes them as a version (Lambda's own immutable copy);
2. runs ``migrate`` on that version (the migrations were checked to keep the version
   serving now working: infra.migration_safety);
3. runs ``release_smoke`` on that version (home, an article, admin sign-in, the API, a
   task round trip); an error there is the invocation's ``FunctionError``;
4. points every event source (the cron rules, the upload notification, the dead-letter
   queue's mapping) at ``<function>:live``, so each follows the alias;
5. moves ``live`` in the stage's steps (infra/stages.json ``release``: a share of requests
   on the new version through the alias's AdditionalVersionWeights, each step watched
   through the stage's CloudWatch alarms), ending with all of it on the new version.

Any failure leaves (or puts back) ``live`` on the version that served before, exits
non-zero and says which version serves. ``rollback`` moves ``live`` back to the version
released before it, from the history the alias keeps in its description.

A first deploy has no alias yet: Zappa's ``deploy`` makes the API stack in the same step
as the function, so the build made the API invoke the function unqualified; once the
smoke test passed, ``live`` is made and ``zappa update --no-upload`` points the API's
integration at it (nothing reaches the API before: CloudFront's origin is set after).
"""

import argparse
import base64
import json
import sys
import time
from dataclasses import dataclass, field

from cms.lambda_build import MIGRATE, SEED, SMOKE
from infra import config, deploy

LIVE = "live"
# Versions remembered in the alias's description (Lambda allows 256 characters).
HISTORY_SIZE = 8
# How often a step's alarms are read while it is watched.
WATCH_POLL_SECONDS = 10
# Zappa's keep-warm event, as ``zappa schedule`` adds it (zappa/cli.py, schedule).
KEEP_WARM_FUNCTION = "handler.keep_warm_callback"


class ReleaseError(Exception):
    """The release stopped; the message says why and which version serves."""


def log(message: str = "") -> None:
    print(f"[release] {message}", flush=True)


def lambda_client(region: str):
    """Lambda with a read timeout above the function's longest run (migrations and the
    smoke test run synchronously inside it)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        region_name=region,
        config=Config(read_timeout=905, retries={"max_attempts": 0, "mode": "standard"}),
    )


# --- the alias and its history ----------------------------------------------------------


@dataclass
class Live:
    """The ``live`` alias: the version it serves, the share routed to another one while a
    release is under way, and the releases before (newest first: (version, commit))."""

    version: str
    weights: dict = field(default_factory=dict)
    history: list = field(default_factory=list)

    @property
    def previous(self) -> str | None:
        return self.history[1][0] if len(self.history) > 1 else None


def _history(description: str) -> list:
    try:
        return [list(entry) for entry in json.loads(description or "{}").get("released", [])]
    except (ValueError, AttributeError, TypeError):
        return []  # a description someone wrote by hand: no history to go back through


def _description(history: list) -> str:
    kept = history[:HISTORY_SIZE]
    while True:
        text = json.dumps({"released": kept}, separators=(",", ":"))
        if len(text) <= 256 or len(kept) <= 1:
            return text
        kept = kept[:-1]


def get_live(lam, function: str) -> Live | None:
    from botocore.exceptions import ClientError

    try:
        alias = lam.get_alias(FunctionName=function, Name=LIVE)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    history = _history(alias.get("Description", ""))
    if not history or history[0][0] != alias["FunctionVersion"]:
        history.insert(0, [alias["FunctionVersion"], ""])
    return Live(alias["FunctionVersion"], dict(weights), history)


def point_live(lam, function, version, *, history, weights=None, create=False) -> None:
    """``live`` on ``version`` with ``weights`` (``{other_version: share}``) routed
    elsewhere; the history goes into the alias's description."""
    kwargs = {
        "FunctionName": function,
        "Name": LIVE,
        "FunctionVersion": version,
        "Description": _description(history),
        # An empty map clears the routing (leaving RoutingConfig out would keep it).
        "RoutingConfig": {"AdditionalVersionWeights": weights or {}},
    }
    (lam.create_alias if create else lam.update_alias)(**kwargs)


def versions(lam, function: str) -> set[str]:
    found = set()
    for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function):
        found |= {v["Version"] for v in page["Versions"]}
    return found - {"$LATEST"}


def prune(lam, function: str, retained: int | None, live: Live | None) -> list[str]:
    """Delete published versions beyond the newest ``retained``, never one an alias
    routes to or the history could roll back to. (Zappa's own pruning, which the build
    turns off, counts from the newest only: after a rollback it would delete the version
    live serves, which Lambda refuses, failing the update.)"""
    if not retained:
        return []
    keep = set()
    for page in lam.get_paginator("list_aliases").paginate(FunctionName=function):
        for alias in page["Aliases"]:
            keep.add(alias["FunctionVersion"])
            keep |= set((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
    if live is not None:
        keep |= {entry[0] for entry in live.history}
    newest = sorted(versions(lam, function), key=int, reverse=True)
    doomed = [v for v in newest[retained:] if v not in keep]
    for version in doomed:
        lam.delete_function(FunctionName=function, Qualifier=version)
    if doomed:
        log(f"pruned version(s) {', '.join(sorted(doomed, key=int))} (kept {retained} newest)")
    return doomed


# --- publishing and running commands in a version -------------------------------------


def publish(lam, function: str, commit: str) -> str:
    """``$LATEST`` (the code and settings Zappa just set) as a published version. Lambda
    returns the latest version unchanged when nothing changed since it."""
    lam.get_waiter("function_updated_v2").wait(FunctionName=function)
    version = lam.publish_version(FunctionName=function, Description=f"commit {commit}"[:256])
    number = version["Version"]
    # SnapStart takes its snapshot after publishing: the version is Pending until then.
    lam.get_waiter("published_version_active").wait(FunctionName=function, Qualifier=number)
    return number


class CommandFailed(Exception):
    pass


def manage(lam, function: str, qualifier: str, command: str) -> str:
    """Run a management command in ``qualifier`` (what ``zappa manage --qualifier``
    sends); its log's tail. A command that raised is the response's FunctionError."""
    response = lam.invoke(
        FunctionName=function,
        Qualifier=qualifier,
        InvocationType="RequestResponse",
        LogType="Tail",
        Payload=json.dumps({"manage": command}).encode(),
    )
    tail = base64.b64decode(response.get("LogResult") or b"").decode(errors="replace")
    if response.get("FunctionError"):
        payload = response["Payload"].read().decode(errors="replace")
        try:
            message = json.loads(payload).get("errorMessage") or payload
        except (ValueError, AttributeError):
            message = payload
        raise CommandFailed(f"{message.strip()[:500]}" + (f"\n{tail.strip()}" if tail else ""))
    return tail


# --- the stage's alarms -----------------------------------------------------------------


def stage_alarms(settings: config.Stage) -> list[str]:
    """The CloudWatch alarms of the stage's stack (infra/template.py makes them)."""
    cf = deploy.client("cloudformation", settings.region)
    if deploy.describe_stack(cf, settings.names.stack) is None:
        return []
    return sorted(
        r["PhysicalResourceId"]
        for r in deploy.stack_resources(cf, settings.names.stack)
        if r["ResourceType"] == "AWS::CloudWatch::Alarm" and r.get("PhysicalResourceId")
    )


def firing(cw, alarms: list[str]) -> list[str]:
    if not alarms:
        return []
    found = []
    for start in range(0, len(alarms), 100):
        answer = cw.describe_alarms(AlarmNames=alarms[start : start + 100])
        found += [
            a["AlarmName"]
            for a in answer["MetricAlarms"] + answer.get("CompositeAlarms", [])
            if a["StateValue"] == "ALARM"
        ]
    return sorted(found)


def watched(cw, alarms: list[str], ignored: set[str]) -> list[str]:
    """The alarms a release watches: all of the stage's but those the operator named in
    RELEASE_IGNORE_ALARMS. One already in ALARM stops the release before any traffic
    moves: nothing could tell whether the new version made it worse."""
    watch = [a for a in alarms if a not in ignored]
    if already := firing(cw, watch):
        raise ReleaseError(
            f"alarm(s) {', '.join(already)} already in ALARM before the release: find out "
            "why, or release anyway (a fix for what they report) with "
            f"RELEASE_IGNORE_ALARMS={','.join(already)}"
        )
    return watch


def watch(cw, alarms, seconds: int, sleep) -> list[str]:
    """Read the alarms every WATCH_POLL_SECONDS for ``seconds`` (at least once): the
    first that fire."""
    remaining = seconds
    while True:
        if remaining > 0:
            pause = min(WATCH_POLL_SECONDS, remaining)
            sleep(pause)
            remaining -= pause
        if found := firing(cw, alarms):
            return found
        if remaining <= 0:
            return []


def shift(lam, cw, function, live: Live, new: str, commit: str, plan, alarms, *, sleep):
    """Move ``live`` from ``live.version`` to ``new`` in ``plan.steps``; on an alarm, back
    to ``live.version`` with nothing routed to ``new``, and ReleaseError."""
    old = live.version
    released = [[new, commit[:12]], *[e for e in live.history if e[0] != new]]
    for share in plan.steps:
        if share < 100:
            point_live(lam, function, old, history=live.history, weights={new: share / 100})
        else:
            point_live(lam, function, new, history=released)
        log(
            f"{share}% of requests on version {new}"
            + (f", {100 - share}% on {old}" if share < 100 else "")
        )
        if alarms_now := watch(cw, alarms, plan.step_seconds, sleep):
            point_live(lam, function, old, history=live.history)
            raise ReleaseError(
                f"alarm(s) {', '.join(alarms_now)} in ALARM with {share}% on version {new}: "
                f"rolled back, version {old} serves"
            )


# --- event sources ----------------------------------------------------------------------


def zappa_core(settings: config.Stage, role_arn: str):
    """Zappa's own library (what ``zappa schedule`` drives), for the stage's region."""
    from zappa.core import Zappa

    z = Zappa(aws_region=settings.region, load_credentials=True)
    z.credentials_arn = role_arn  # the stack's role (manage_roles is off)
    return z


def stage_events(stage: str, settings: config.Stage) -> tuple[list[dict], str]:
    """The stage's events as deployed (event sources' ARNs from the stack's outputs),
    with Zappa's keep-warm event when the stage keeps warm; and the function's role."""
    from cms import iam_policy, lambda_build

    outputs = deploy.stack_outputs(stage, settings=settings, complete=False)
    resolved = lambda_build.stage_settings_from_outputs(
        stage, iam_policy.stage_settings(stage), outputs
    )
    events = list(resolved.get("events", []))
    if resolved.get("keep_warm", True):
        events.append(
            {
                "name": "zappa-keep-warm",
                "function": KEEP_WARM_FUNCTION,
                "expression": resolved.get("keep_warm_expression", "rate(4 minutes)"),
                "description": f"Zappa Keep Warm - {settings.names.function}",
            }
        )
    return events, resolved["role_arn"]


def _statement_id(rule: str) -> str:
    return f"events-{rule}"[:100]


def attach_event_sources(stage: str, settings: config.Stage, events=None, role_arn=None) -> None:
    """Every event source of the stage on ``<function>:live``, made by Zappa's own code
    given the alias's ARN, whatever an earlier deploy left on the unqualified function;
    the same after any number of runs (one rule target, one notification, one mapping).

    Zappa grants EventBridge its permission on the unqualified function; an alias has a
    policy of its own, so each rule's permission is granted on ``live`` here, and the
    unqualified one's removed (Zappa's own cleanup, as its next schedule would)."""
    from botocore.exceptions import ClientError

    if events is None:
        events, role_arn = stage_events(stage, settings)
    function = settings.names.function
    lam = deploy.client("lambda", settings.region)
    arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    live_arn = f"{arn}:{LIVE}"
    z = zappa_core(settings, role_arn)
    # What deploys before releases (or a plain zappa schedule) put on the unqualified function.
    z.unschedule_events(events=events, lambda_arn=arn, lambda_name=function)
    z.schedule_events(lambda_arn=live_arn, lambda_name=function, events=events)
    z._clear_policy(function)
    events_client = deploy.client("events", settings.region)
    account = deploy.client("sts", settings.region).get_caller_identity()["Account"]
    rules = events_client.list_rule_names_by_target(TargetArn=live_arn)["RuleNames"]
    for rule in rules:
        rule_arn = events_client.describe_rule(Name=rule)["Arn"]
        try:
            lam.add_permission(
                FunctionName=function,
                Qualifier=LIVE,
                StatementId=_statement_id(rule),
                Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com",
                SourceArn=rule_arn,
                SourceAccount=account,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceConflictException":
                raise
    log(f"event sources on {function}:{LIVE}: {len(rules)} rule(s), "
        f"{sum('event_source' in e for e in events)} other source(s)")  # fmt: skip


def detach_event_sources(stage: str) -> None:
    """Remove what attach_event_sources made (``make destroy``: Zappa's undeploy looks
    for event sources on the unqualified function only)."""
    from botocore.exceptions import ClientError

    settings = deploy.load_stage(stage)
    function = settings.names.function
    lam = deploy.client("lambda", settings.region)
    try:
        arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return
        raise
    try:
        events, role_arn = stage_events(stage, settings)
    except Exception as exc:
        log(f"{exc}; removing the rules that target {function}:{LIVE}")
        events, role_arn = [], None
    z = zappa_core(settings, role_arn)
    z.unschedule_events(events=events, lambda_arn=f"{arn}:{LIVE}", lambda_name=function)
    log(f"event sources on {function}:{LIVE} removed")


# --- the release ------------------------------------------------------------------------


def ignored_alarms() -> set[str]:
    import os

    return {a.strip() for a in os.environ.get("RELEASE_IGNORE_ALARMS", "").split(",") if a.strip()}


def release(stage: str, *, first: bool, commit: str, sleep=time.sleep, alarms=None) -> str:
    """The release of what ``zappa deploy``/``update`` put on ``$LATEST``; the version
    that serves afterwards. ReleaseError when it stopped (``live`` is then where it was)."""
    settings = deploy.load_stage(stage)
    function = settings.names.function
    lam = lambda_client(settings.region)
    cw = deploy.client("cloudwatch", settings.region)
    live = get_live(lam, function)
    if live is not None and live.weights:
        raise ReleaseError(
            f"{function}:{LIVE} still routes {live.weights} next to version {live.version} "
            f"(a release was interrupted): run make rollback STAGE={stage} first"
        )
    from cms import iam_policy

    retained = iam_policy.stage_settings(stage).get("num_retained_versions")
    serving = f"version {live.version} serves" if live else "nothing serves yet"
    # Read before anything changes; a first release has nothing to protect.
    watch_list = []
    if live is not None:
        found = alarms if alarms is not None else stage_alarms(settings)
        watch_list = watched(cw, found, ignored_alarms())
    new = publish(lam, function, commit)
    log(f"published version {new} ({serving})")
    if live is not None and new == live.version:
        log(f"version {new} is already live: nothing changed since it was released")
    for step, command in (("migrations", MIGRATE), ("smoke test", SMOKE)):
        log(f"{command} on version {new}")
        try:
            manage(lam, function, new, command)
        except CommandFailed as exc:
            raise ReleaseError(f"{step} failed on version {new}: {exc}\n{serving}") from exc
    log(f"version {new} passed its smoke test")
    if live is not None and new == live.version:
        attach_event_sources(stage, settings)
        return new

    if live is None:
        point_live(lam, function, new, history=[[new, commit[:12]]], create=True)
        log(f"{function}:{LIVE} made, on version {new}")
        if first:
            # The API was made before the alias could exist: point it at the alias now.
            # (Zappa's --no-upload takes a value: any one means "configuration only".)
            from cms import lambda_build

            try:
                lambda_build.zappa("update", stage, "--no-upload", "yes")
            except lambda_build.BuildError as exc:
                raise ReleaseError(
                    f"pointing the API at {LIVE} failed ({exc}); version {new} is on {LIVE}: "
                    f"run make deploy STAGE={stage} again"
                ) from exc
        attach_event_sources(stage, settings)
        return new

    attach_event_sources(stage, settings)
    shift(lam, cw, function, live, new, commit, settings.release, watch_list, sleep=sleep)
    log(f"version {new} serves all requests (before it: version {live.version})")
    prune(lam, function, retained, get_live(lam, function))
    return new


def rollback(stage: str, *, to: str | None = None) -> tuple[str, str]:
    """``live`` back to the version released before it (or ``to``); (left, now serving).
    An interrupted release (requests still split) is ended on the version it started
    from."""
    settings = deploy.load_stage(stage)
    function = settings.names.function
    lam = deploy.client("lambda", settings.region)
    live = get_live(lam, function)
    if live is None:
        raise ReleaseError(f"{function} has no {LIVE} alias: nothing was released to go back from")
    if live.weights:
        point_live(lam, function, live.version, history=live.history)
        return ",".join(live.weights), live.version
    retained = versions(lam, function)
    earlier = [entry for entry in live.history[1:] if entry[0] in retained]
    if to is not None:
        earlier = [entry for entry in earlier if entry[0] == to] or (
            [[to, ""]] if to in retained else []
        )
    if not earlier:
        raise ReleaseError(
            f"no earlier released version of {function} is still retained "
            f"(version {live.version} serves; retained: {', '.join(sorted(retained, key=int))})"
        )
    target = earlier[0]
    # The version left goes off the history: a second rollback goes one further back.
    history = [target, *[e for e in live.history[1:] if e[0] != target[0]]]
    point_live(lam, function, target[0], history=history)
    return live.version, target[0]


def seed(stage: str) -> None:
    """A new branch stage's demo content (content only: no users, no passwords)."""
    settings = deploy.load_stage(stage)
    log(f"{SEED} on {settings.names.function}:{LIVE}")
    try:
        manage(lambda_client(settings.region), settings.names.function, LIVE, SEED)
    except CommandFailed as exc:
        raise ReleaseError(f"seeding {stage} failed: {exc}") from exc


def state(stage: str) -> dict:
    """What make deploy needs before building: whether the function exists, and the
    version ``live`` serves with the commit it was built from."""
    from botocore.exceptions import ClientError

    settings = deploy.load_stage(stage)
    function = settings.names.function
    lam = deploy.client("lambda", settings.region)
    try:
        lam.get_function(FunctionName=function)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return {"function": False, "live": None, "commit": None}
    live = get_live(lam, function)
    if live is None:
        return {"function": True, "live": None, "commit": None}
    return {"function": True, "live": live.version, "commit": live.history[0][1] or None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra")
    commands = parser.add_subparsers(dest="command", required=True)
    release_parser = commands.add_parser("release", help="publish, smoke-test, move live")
    release_parser.add_argument("stage")
    release_parser.add_argument("--first", action="store_true")
    release_parser.add_argument("--commit", default="")
    rollback_parser = commands.add_parser("rollback", help="live back to the version before")
    rollback_parser.add_argument("stage")
    rollback_parser.add_argument("--to", help="a version number (default: the one before)")
    for name, helptext in (("seed", "seed a branch stage"), ("state", "the live version")):
        commands.add_parser(name, help=helptext).add_argument("stage")
    options = parser.parse_args(argv)
    try:
        if options.command == "release":
            release(options.stage, first=options.first, commit=options.commit)
        elif options.command == "rollback":
            left, serving = rollback(options.stage, to=options.to)
            log(f"{options.stage}: left version {left}; version {serving} now serves")
        elif options.command == "seed":
            seed(options.stage)
        else:
            print(json.dumps(state(options.stage)))
    except (ReleaseError, deploy.DeployError, config.ConfigError) as exc:
        log(f"STOPPED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
