"""SnapStart (cms.snapstart): a separate process starts the way a SnapStart init does
(``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, the production stage's own handler
settings as Zappa writes them, the secrets in the moto server, the database on the local
PostgreSQL), then runs the hooks it registered with snapshot_restore_py as Lambda's
runtime would: before the snapshot, then, after the secrets are rotated in moto, after a
"restore" (twice from one snapshot state, as two containers would), and answers a request.
"""

import hashlib
import json
import os
import subprocess
import sys
import uuid

import pytest

from cms import snapstart
from tests.lambda_fixtures import deployed_settings_file, stack_outputs, zappa_cli
from tests.lambda_runtime import ROOT, api_event

STAGE = "production"
HOST = stack_outputs(STAGE)["SiteDomain"]
API = "/api/v1/articles/"

SNAPSHOT_AND_RESTORE = r"""
import gc, json, os, random, sys, tempfile

settings_dir, root = sys.argv[1], sys.argv[2]
sys.path[:0] = [settings_dir, root]


def emit(report):
    print(json.dumps(report), flush=True)


def needles():
    # The secret values, handed over reversed (so the environment holds none of them).
    return [n[::-1] for n in json.loads(os.environ["SNAP_NEEDLES_REVERSED"])]


def holders():
    # Every live object that refers to a string or bytes holding a secret value.
    found = []
    wanted = needles()
    wanted += [n.encode() for n in wanted]
    gc.collect()
    for obj in gc.get_objects():
        if obj is wanted:
            continue
        for ref in gc.get_referents(obj):
            if isinstance(ref, (str, bytes)) and not any(ref is w for w in wanted):
                if any(type(n) is type(ref) and n in ref for n in wanted):
                    found.append(type(obj).__name__)
    return found


def sockets():
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return sum(link.startswith("socket:") for link in fds)


def state():
    from django.conf import settings
    from django.db import connections

    from cms import aws, secrets

    held = settings._wrapped
    module = sys.modules[settings.SETTINGS_MODULE]
    return {
        "open_connections": sum(
            c.connection is not None for c in connections.all(initialized_only=True)
        ),
        "cached_secrets": len(secrets._cache),
        "boto3_clients": aws.client.cache_info().currsize,
        "sockets": sockets(),
        "settings_secrets": [bool(getattr(held, n)) for n in
                             ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "ORIGIN_VERIFY_SECRETS")],
        "module_secrets": [bool(getattr(module, n)) for n in
                           ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "ORIGIN_VERIFY_SECRETS")],
        "holders": holders(),
    }


def run(hooks):
    for function, args, kwargs in hooks:
        function(*args, **kwargs)


import cms.lambda_entry as entry  # the init: Lambda imports the handler module
import snapshot_restore_py
from django.apps import apps
from django.db import connection

report = {
    "django_ready": apps.ready,
    "before_hooks": [f.__qualname__ for f, _, _ in snapshot_restore_py.get_before_snapshot()],
    "after_hooks": [f.__qualname__ for f, _, _ in snapshot_restore_py.get_after_restore()],
}
report["init"] = state()
# As if something at init had queried (a warm-up, a check): a connection to close.
connection.ensure_connection()
report["init_with_query"] = state()
run(snapshot_restore_py.get_before_snapshot())
report["snapshot"] = state()
emit(report)

assert sys.stdin.readline().strip() == "restore"  # the parent rotates the secrets meanwhile
snapshot_random = random.getstate()
report = {}
streams, names = [], []
for _ in range(2):  # two containers restored from one snapshot
    random.setstate(snapshot_random)
    tempfile._name_sequence = None
    run(snapshot_restore_py.get_after_restore())
    streams.append([random.random() for _ in range(5)])
    names.append(next(tempfile._get_candidate_names()))
control = []
for _ in range(2):  # the same two, had nothing reseeded
    random.setstate(snapshot_random)
    control.append([random.random() for _ in range(5)])
report["random_streams_differ"] = streams[0] != streams[1]
report["control_streams_differ"] = control[0] != control[1]
report["tempfile_names_differ"] = names[0] != names[1]
report["restore"] = state()

from django.conf import settings
import hashlib

expected = json.loads(os.environ["SNAP_EXPECTED"])
report["secret_key_is_rotated_one"] = (
    hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest() == expected["secret_key"]
)
answers = {}
for name, event in json.loads(sys.stdin.readline()).items():
    response = entry.lambda_handler(event, None)
    body = response["body"] or ""
    if response.get("isBase64Encoded"):  # Zappa's binary support encodes JSON too
        import base64

        body = base64.b64decode(body).decode()
    answers[name] = [response["statusCode"], "Welcome to Lambda CMS" in body]
    if response["statusCode"] >= 500:
        print(body[:2000], file=sys.stderr)
report["answers"] = answers
report["after_request"] = state()
emit(report)
"""


def _pg(*sql):
    import psycopg2

    try:
        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    except psycopg2.OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (make test needs it here)")
    conn.autocommit = True
    with conn.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)
    conn.close()


@pytest.fixture(scope="module")
def database():
    """A PostgreSQL database with the schema and the demo content."""
    name = f"snapstart_{uuid.uuid4().hex[:8]}"
    _pg(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "DJANGO_SETTINGS_MODULE": "cms.settings.local",
    }
    try:
        for command in (["migrate", "-v0"], ["seed_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        yield name
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _secret(client, name, value) -> str:
    return client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]


# Each secret value is distinct, so the scan for them in the snapshot names which is left.
KEY_1 = "django-key-one-" + "a1b2c3d4" * 7
KEY_2 = "django-key-two-" + "e5f6g7h8" * 7
FALLBACK = "django-key-old-" + "i9j0k1l2" * 7
ORIGIN_1 = "origin-one-" + "p" * 32
ORIGIN_2 = "origin-two-" + "q" * 32
ORIGIN_OLD = "origin-old-" + "r" * 32
DB_PASSWORD = "db-password-" + "s" * 24


@pytest.fixture(scope="module")
def snapshot(moto_server, database, tmp_path_factory):
    """The production stage's handler settings, with the stack's secrets and database
    being the ones made here in moto and on the local PostgreSQL."""
    import boto3
    import requests

    tmp_path = tmp_path_factory.mktemp("snapstart")
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    client = boto3.session.Session().client("secretsmanager", endpoint_url=moto_server)
    outputs = {
        **stack_outputs(STAGE),
        "DjangoSecretArn": _secret(
            client, "lambda-cms/production/django",
            {"SECRET_KEY": KEY_1, "SECRET_KEY_FALLBACKS": [FALLBACK]},
        ),
        "OriginVerifySecretArn": _secret(
            client, "lambda-cms/production/origin-verify",
            {"ORIGIN_VERIFY_SECRET": ORIGIN_1, "ORIGIN_VERIFY_SECRETS_PREVIOUS": [ORIGIN_OLD]},
        ),
        "DatabaseSecretArn": _secret(
            client, "rds!cluster-snapstart", {"username": "postgres", "password": DB_PASSWORD}
        ),
        "DatabaseHost": "127.0.0.1",
        "DatabaseName": database,
    }  # fmt: skip
    settings_file = deployed_settings_file(tmp_path, STAGE, outputs)
    zappa_cli("save-python-settings-file", STAGE, "-s", settings_file, "-o",
              tmp_path / "zappa_settings.py")  # fmt: skip
    # What Lambda puts in the function's environment (Zappa sets it on the function).
    function_env = json.loads(settings_file.read_text())[STAGE]["aws_environment_variables"]
    return {"dir": tmp_path, "outputs": outputs, "client": client, "env": function_env}


def run_snapshot_and_restore(snapshot, aws):
    everything = [KEY_1, KEY_2, FALLBACK, ORIGIN_1, ORIGIN_2, ORIGIN_OLD, DB_PASSWORD]
    env = {
        **snapshot["env"],
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": aws,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "lambda-cms-production",
        snapstart.INIT_TYPE: snapstart.SNAP_START,
        "DATABASE_SSLMODE": "disable",  # the local server has no TLS; RDS's default is require
        "SNAP_NEEDLES_REVERSED": json.dumps([n[::-1] for n in everything]),
        "SNAP_EXPECTED": json.dumps({"secret_key": hashlib.sha256(KEY_2.encode()).hexdigest()}),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", SNAPSHOT_AND_RESTORE, str(snapshot["dir"]), str(ROOT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = "Zappa's handler prints to stdout"
        while line and not line.startswith("{"):
            line = child.stdout.readline()
        if not line:
            raise AssertionError(child.stderr.read()[-3000:])
        at_snapshot = json.loads(line)
        # Rotated while the snapshot waits: a restore must read the new values.
        client, outputs = snapshot["client"], snapshot["outputs"]
        client.put_secret_value(
            SecretId=outputs["DjangoSecretArn"],
            SecretString=json.dumps({"SECRET_KEY": KEY_2, "SECRET_KEY_FALLBACKS": [KEY_1]}),
        )
        client.put_secret_value(
            SecretId=outputs["OriginVerifySecretArn"],
            SecretString=json.dumps(
                {"ORIGIN_VERIFY_SECRET": ORIGIN_2, "ORIGIN_VERIFY_SECRETS_PREVIOUS": []}
            ),
        )
        events = {
            # The API: pages need collected static files, which only the package has
            # (tests/test_lambda_package.py starts a restored package on the home page).
            "articles": api_event(API, host=HOST, origin_secret=ORIGIN_2),
            "dropped origin secret": api_event(API, host=HOST, origin_secret=ORIGIN_OLD),
        }
        out, err = child.communicate("restore\n" + json.dumps(events) + "\n", timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    if child.returncode:
        raise AssertionError(err[-3000:])
    restored = json.loads(out.strip().splitlines()[-1])
    restored["stderr"] = out[-1500:] + err[-1500:]
    return at_snapshot, restored


@pytest.fixture(scope="module")
def outcome(snapshot, moto_server):
    return run_snapshot_and_restore(snapshot, moto_server)


def test_a_snapstart_init_loads_django_with_both_hooks_registered(outcome):
    at_snapshot, _ = outcome
    assert at_snapshot["django_ready"] is True
    assert at_snapshot["before_hooks"] == ["before_snapshot"]
    assert at_snapshot["after_hooks"] == ["after_restore"]
    # The init read the two settings' secrets and opened no connection of its own.
    init = at_snapshot["init"]
    assert (init["open_connections"], init["cached_secrets"], init["boto3_clients"]) == (0, 2, 1)
    assert init["settings_secrets"] == [True, True, True]


def test_the_snapshot_holds_no_connection_socket_client_or_secret_value(outcome):
    at_snapshot, _ = outcome
    before, after = at_snapshot["init_with_query"], at_snapshot["snapshot"]
    # What the hooks had to remove was there (the scan finds secrets where they are)...
    assert before["open_connections"] == 1
    assert before["cached_secrets"] == 3  # the database's too, read at the connection
    assert before["sockets"] >= 1  # PostgreSQL's (moto's server closes its own)
    assert before["holders"]
    # ...and is gone.
    assert after["open_connections"] == 0
    assert after["cached_secrets"] == 0
    assert after["boto3_clients"] == 0
    assert after["sockets"] == 0
    assert after["settings_secrets"] == [False, False, False]
    assert after["module_secrets"] == [False, False, False]
    assert after["holders"] == []


def test_each_restore_has_its_own_random_state(outcome):
    _, restored = outcome
    assert restored["control_streams_differ"] is False  # what a snapshot alone gives
    assert restored["random_streams_differ"] is True
    assert restored["tempfile_names_differ"] is True


def test_after_restore_the_site_answers_with_the_secrets_read_again(outcome):
    _, restored = outcome
    assert restored["secret_key_is_rotated_one"] is True
    assert restored["restore"]["open_connections"] == 0  # connections open lazily
    assert restored["restore"]["settings_secrets"] == [True, True, True]
    assert restored["restore"]["module_secrets"] == [False, False, False]
    answers = {"articles": [200, True], "dropped origin secret": [403, False]}
    assert restored["answers"] == answers, restored["stderr"]
    # The request opened the connection, with the database secret read for it.
    assert restored["after_request"]["open_connections"] == 1
    assert restored["after_request"]["cached_secrets"] == 3


def test_without_snapstart_django_is_not_loaded_at_import():
    check = (
        "import sys, cms.lambda_entry; from django.apps import apps;"
        "print(apps.ready, 'cms.models' in sys.modules, 'zappa_settings' in sys.modules)"
    )
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "AWS_DEFAULT_REGION": "eu-west-1"}
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert result.stdout.split() == ["False", "False", "False"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}, False),
        ({"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}, True),
        ({"LOAD_DJANGO_AT_INIT": "1"}, True),
        ({"LOAD_DJANGO_AT_INIT": "0"}, False),
        ({"INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "True"}, True),
    ],
)
def test_django_loads_at_init_only_under_snapstart_or_when_asked(environ, expected):
    assert snapstart.wanted(environ) is expected


# -- tasks run on the version that enqueued them ----------------------------------------

FUNCTION = "lambda-cms-production"


@pytest.fixture
def sent_invokes(aws, settings, monkeypatch):
    """The invoke requests boto3 sends to moto's Lambda, as they go over the wire."""
    from cms import aws as aws_module
    from tests.aws_fixtures import lambda_function

    lambda_function(FUNCTION)
    lambda_client = aws_module.client("lambda")
    lambda_client.publish_version(FunctionName=FUNCTION)
    settings.TASKS = {"default": {"BACKEND": "cms.task_backends.LambdaAsyncBackend"}}
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
    sent = []

    def capture(request, **kwargs):
        sent.append(request.url)

    lambda_client.meta.events.register("before-send.lambda.Invoke", capture)
    return sent


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("version", "qualifier"), [("1", "1"), ("$LATEST", None)], ids=["version", "latest"]
)
def test_a_task_invokes_the_version_that_enqueued_it(sent_invokes, monkeypatch, version, qualifier):
    from urllib.parse import parse_qs, urlsplit

    from django.tasks import TaskResultStatus

    from cms.models import TaskRun
    from cms.tasks import purge_cdn_paths

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", version)
    result = purge_cdn_paths.enqueue(paths=["/"])
    [url] = sent_invokes
    query = parse_qs(urlsplit(url).query)
    assert query.get("Qualifier") == ([qualifier] if qualifier else None)
    assert urlsplit(url).path.endswith(f"/functions/{FUNCTION}/invocations")
    # moto took it (an invoke it refused would have marked the run failed).
    assert TaskRun.objects.get(pk=result.id).status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_task_for_another_function_names_no_version_of_this_one(
    sent_invokes, settings, monkeypatch
):
    from urllib.parse import urlsplit

    from cms.tasks import purge_cdn_paths
    from tests.aws_fixtures import lambda_function

    lambda_function("lambda-cms-production-worker")
    settings.TASKS = {
        "default": {
            "BACKEND": "cms.task_backends.LambdaAsyncBackend",
            "OPTIONS": {"FUNCTION_NAME": "lambda-cms-production-worker"},
        }
    }
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "1")
    purge_cdn_paths.enqueue(paths=["/"])
    [url] = sent_invokes
    assert urlsplit(url).query == ""


# -- the secrets between a snapshot and a restore, in process --------------------------


def test_forgotten_secrets_fail_closed_and_are_read_again_at_each_request_until_readable(
    aws, settings, monkeypatch
):
    import sys

    from django.core.exceptions import ImproperlyConfigured

    from cms import aws as aws_module
    from cms import secrets

    module = sys.modules[os.environ["DJANGO_SETTINGS_MODULE"]]
    monkeypatch.setattr(module, "SECRET_KEY", module.SECRET_KEY)  # the test settings' own
    monkeypatch.setattr(secrets, "_forgotten", False)
    monkeypatch.setattr(secrets, "_next_refresh", secrets._next_refresh)
    client = aws_module.client("secretsmanager")
    arn = _secret(client, "django", {"SECRET_KEY": KEY_1})
    monkeypatch.setenv(secrets.DJANGO_ARN, arn)
    assert secrets.refresh_settings() == ["SECRET_KEY"]  # the fallbacks were [] already

    assert secrets.forget() == ["SECRET_KEY", "SECRET_KEY_FALLBACKS"]
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY setting must not be empty"):
        settings.SECRET_KEY  # noqa: B018
    assert module.SECRET_KEY == ""  # (these settings have no fallbacks of their own)
    assert secrets._cache == {}

    # Unreadable after the restore: nothing is served, and the next request tries again.
    client.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert secrets.refresh_settings() == []
    assert secrets._next_refresh == 0
    with pytest.raises(ImproperlyConfigured):
        settings.SECRET_KEY  # noqa: B018

    monkeypatch.setenv(secrets.DJANGO_ARN, _secret(client, "django-2", {"SECRET_KEY": KEY_2}))
    assert secrets.refresh_settings() == ["SECRET_KEY"]
    assert settings.SECRET_KEY == KEY_2
    assert secrets._next_refresh > 0
    assert module.SECRET_KEY == ""  # the module keeps nothing read after the restore
