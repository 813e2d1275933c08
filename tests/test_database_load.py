"""The database under a burst and under faults, on a real PostgreSQL 15 with a small
``max_connections`` and PgBouncer in transaction mode as the stand-in for RDS Proxy
(tests/postgres_cluster.py). docs/database.md reads these tests' figures.

The site runs as it does on Lambda: production settings, persistent connections
(CONN_MAX_AGE > 0, a warm container keeps its connection), health checks, the site's
WSGI application, each "container" an OS process forked after Django is set up, all of
them let go at once by a barrier. The processes run in a child Python (``python -m
tests.test_database_load ...``) so the suite's own settings and connections stay out of
it; the child prints one JSON document with every response.

Marker ``load`` (left out of ``make test``; ``make test-slow`` and CI run it).
"""

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests import postgres_cluster as pc
from tests.lambda_runtime import ORIGIN_SECRET, production_env

pytestmark = pytest.mark.load
# The session fixtures (tests/postgres_cluster.py), here by name for pytest.
pg_cluster = pc.pg_cluster
pg_bouncer = pc.pg_bouncer

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "cms_db_load"
BURST = 2 * pc.MAX_CONNECTIONS


# --- the child: production settings, N forked "containers" ---------------------------


def _environ(path: str) -> dict:
    from io import BytesIO

    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "www.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "www.example.com",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_ORIGIN_VERIFY": ORIGIN_SECRET,
        "HTTP_X_FORWARDED_FOR": "203.0.113.7, 198.51.100.1",
        "REMOTE_ADDR": "198.51.100.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _request(app, path: str) -> dict:
    started = time.monotonic()
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(_environ(path), start_response))
    headers = seen["headers"]
    return {
        "path": path,
        "status": int(seen["status"].split()[0]),
        "content_type": headers.get("Content-Type", ""),
        "retry_after": headers.get("Retry-After"),
        "body": body[:4000].decode("utf-8", "replace"),
        "at": time.time(),
        "seconds": round(time.monotonic() - started, 3),
    }


def _container(app, paths, repeat, seconds, start, done, results):
    """One warm Lambda container: waits for the others, then serves its requests in turn
    and keeps its connection (CONN_MAX_AGE) until every container is through."""
    from django.db import connection

    out, error, pid = [], None, None
    try:
        start.wait(60)
        deadline = time.monotonic() + seconds
        while True:
            for path in paths:
                out.append(_request(app, path))
            repeat -= 1
            if (seconds and time.monotonic() >= deadline) or (not seconds and repeat <= 0):
                break
            if seconds:
                time.sleep(0.05)
        if connection.connection is not None:
            pid = connection.connection.info.backend_pid
    except Exception as exc:  # reported, so the test fails with it rather than a timeout
        error = repr(exc)
    try:
        done.wait(60)
    finally:
        results.put({"responses": out, "backend_pid": pid, "error": error})


def child_main(argv) -> None:
    """``python -m tests.test_database_load WORKERS REPEAT SECONDS PATH...``: prints the
    responses as JSON."""
    workers, repeat, seconds, *paths = argv
    workers, repeat, seconds = int(workers), int(repeat), float(seconds)
    from django.conf import settings

    # The static files are not collected in a working tree (the package build does it):
    # plain static URLs, as nothing here is about them.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    app = get_wsgi_application()
    connections.close_all()  # nothing shared across the fork
    ctx = multiprocessing.get_context("fork")
    start, done, results = ctx.Barrier(workers), ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_container, args=(app, paths, repeat, seconds, start, done, results))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    gathered = [results.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(30)
    print(json.dumps(gathered))


def child_env(database_url: str, **extra) -> dict:
    env = {
        **production_env(Path("/nonexistent")),
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "60",
        "DATABASE_CONNECT_TIMEOUT": "3",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "cms.settings.production",
        **extra,
    }
    env.pop("DATABASE_SECRET_ARN", None)
    return env


def run_containers(database_url, *, workers, paths=("/",), repeat=1, seconds=0.0,
                   background=False, **env):  # fmt: skip
    args = [sys.executable, "-m", "tests.test_database_load", workers, repeat, seconds, *paths]
    # stderr (the JSON log lines: one access line per request) goes to a file, not a
    # pipe: nobody reads a background run's pipe until it ends, and a full pipe would
    # stall every worker's next log line, so no request would be made meanwhile.
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (finish() closes it)
    process = subprocess.Popen(
        [str(a) for a in args],
        cwd=ROOT,
        env=child_env(database_url, **env),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    process.log = log
    if background:
        return process
    return finish(process)


def finish(process, timeout=150):
    out, _ = process.communicate(timeout=timeout)
    process.log.seek(0)
    err = process.log.read()
    process.log.close()
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), err


def responses(gathered):
    assert not [g["error"] for g in gathered if g["error"]]
    return [r for g in gathered for r in g["responses"]]


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_database(pg_cluster, tmp_path_factory):
    """Migrated, with the demo content (manage.py seed_demo), owned by the site's role."""
    pc.create_database(pg_cluster, DATABASE)
    media = tmp_path_factory.mktemp("load-media")
    env = {
        **os.environ,
        "DATABASE_URL": pg_cluster.url(DATABASE),
        "DJANGO_SETTINGS_MODULE": "cms.settings.local",
        "MEDIA_ROOT": str(media),
        # seed_demo draws its images inside its transaction: on a busy machine that is idle
        # in transaction for longer than the test cluster's 2 s (libpq's PGOPTIONS, for
        # this setup only: the site itself sends no startup options).
        "PGOPTIONS": "-c idle_in_transaction_session_timeout=0",
    }
    for command in (["migrate", "-v0"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}: {done.stderr[-3000:]}"
    return DATABASE


# --- the burst -----------------------------------------------------------------------


def test_twice_max_connections_through_pgbouncer_all_succeed(pg_cluster, pg_bouncer,
                                                             site_database):  # fmt: skip
    gathered, _ = run_containers(
        pg_cluster.url(site_database, port=pg_bouncer.port), workers=BURST, repeat=2
    )
    statuses = [r["status"] for r in responses(gathered)]
    assert len(statuses) == 2 * BURST
    assert statuses == [200] * len(statuses), sorted(set(statuses))
    # BURST clients held a connection each, to the pooler; the server never had more
    # than the pool's.
    assert all(r["body"].startswith("<!doctype html>") for r in responses(gathered))


def test_the_same_burst_straight_to_postgresql_is_refused_with_a_503(pg_cluster,
                                                                      site_database):  # fmt: skip
    # Whatever still holds a slot (PgBouncer's idle server connections, from the burst
    # through it) is let go first: the site's role gets all APP_SLOTS.
    pg_cluster.disconnect_site()
    log_from = len(pg_cluster.log_text())
    gathered, err = run_containers(pg_cluster.url(site_database), workers=BURST, repeat=2)
    answered = responses(gathered)
    statuses = [r["status"] for r in answered]
    refused = [r for r in answered if r["status"] == 503]
    # Only the slots the server has for the site's role serve: the containers that got
    # one keep it (CONN_MAX_AGE), every other one is refused for its whole life.
    assert statuses.count(200) == 2 * pc.APP_SLOTS
    assert len(refused) == 2 * (BURST - pc.APP_SLOTS)
    assert set(statuses) == {200, 503}
    # What the visitor sees: the branded page, a Retry-After, no traceback.
    for response in refused:
        assert response["retry_after"] == "30"
        assert "Back in a moment" in response["body"]
        assert "Traceback" not in response["body"]
        assert "psycopg2" not in response["body"]
    # Why: the server said so, and the site logged one line per refusal, no password.
    server_log = pg_cluster.log_text()[log_from:]
    assert any(message in server_log for message in pc.TOO_MANY_CLIENTS)
    outage_lines = [line for line in err.splitlines() if "Database unavailable" in line]
    assert outage_lines
    assert all("Traceback" not in line for line in outage_lines)
    assert pc.APP_PASSWORD not in err
    print(f"direct: {statuses.count(200)} x 200, {len(refused)} x 503 of {len(statuses)}")


# --- pooler safety: what a new connection sends --------------------------------------


STATEMENT = re.compile(r"\[(\d+)\] \S+ LOG:  statement: (.*)")
PINNING = re.compile(r"^\s*(SET|RESET|DISCARD|PREPARE|LISTEN|DECLARE|CREATE TEMP|"
                     r"SELECT pg_advisory_lock)", re.I)  # fmt: skip


def test_a_new_connection_sends_only_the_requests_own_queries(pg_cluster, site_database):
    log_from = len(pg_cluster.log_text())
    gathered, _ = run_containers(
        pg_cluster.url(site_database), workers=1, paths=("/", "/api/v1/articles/")
    )
    assert [r["status"] for r in responses(gathered)] == [200, 200]
    pid = str(gathered[0]["backend_pid"])
    statements = [m[2] for m in STATEMENT.finditer(pg_cluster.log_text()[log_from:]) if m[1] == pid]
    assert statements, "the request's queries are in the server's log"
    assert not [s for s in statements if PINNING.match(s)]
    # Its first statement is the request's own (no SET TIME ZONE: the server is UTC).
    assert statements[0].lstrip().upper().startswith(("SELECT", "BEGIN"))


def test_iterator_uses_no_server_side_cursor(pg_cluster, site_database):
    log_from = len(pg_cluster.log_text())
    code = (
        "import django; django.setup()\n"
        "from sitecontent.models import Article\n"
        "print(sum(1 for _ in Article.objects.iterator(chunk_size=2)))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env(pg_cluster.url(site_database)),
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert "DECLARE" not in pg_cluster.log_text()[log_from:]


# --- faults --------------------------------------------------------------------------


@pytest.mark.parametrize("through", ["postgresql", "pgbouncer"])
def test_a_restart_answers_fast_503s_then_recovers_with_no_manual_step(
    pg_cluster, pg_bouncer, site_database, through
):
    port = pg_bouncer.port if through == "pgbouncer" else pg_cluster.port
    process = run_containers(
        pg_cluster.url(site_database, port=port), workers=3, seconds=9,
        paths=("/", "/api/v1/articles/"), background=True,
    )  # fmt: skip
    time.sleep(3)
    down = time.time()
    pg_cluster.pg_ctl("stop", "-m", "fast")
    time.sleep(1.5)  # the outage: a restart, a failover, a resume from pause
    pg_cluster.start()
    up = time.time()
    gathered, err = finish(process)
    answered = sorted(responses(gathered), key=lambda r: r["at"])
    statuses = [r["status"] for r in answered]
    assert 500 not in statuses
    assert set(statuses) <= {200, 503}, statuses
    during = [r for r in answered if r["status"] == 503]
    if through == "postgresql":
        assert during, (
            f"no 503 among {len(answered)} answers ({sorted(set(statuses))}); answers from "
            f"{answered[0]['at'] - down:+.1f} s to {answered[-1]['at'] - down:+.1f} s of the "
            f"stop, the start {up - down:.1f} s after it"
            if answered
            else "no answers at all"
        )
    # (Through PgBouncer a request may instead wait for the server to come back.)
    assert all(r["seconds"] < 5 for r in answered), max(r["seconds"] for r in answered)
    for r in during:
        assert r["retry_after"] == "30"
        assert down - 1 <= r["at"] <= up + 5
        if r["path"].startswith("/api/"):
            assert r["content_type"] == "application/json"
            assert json.loads(r["body"])["status"] == 503
        else:
            assert "Back in a moment" in r["body"]
    after = [r for r in answered if r["at"] > up + 1]
    assert after
    assert all(r["status"] == 200 for r in after), "recovered by itself"
    assert pc.APP_PASSWORD not in err
    slowest = max(r["seconds"] for r in answered)
    print(f"restart via {through}: {statuses.count(200)} x 200, {len(during)} x 503, "
          f"slowest {slowest:.2f} s")  # fmt: skip


FREEZER = """
import sys, django
django.setup()
from django.db import transaction
from sitecontent.models import Article
with transaction.atomic():
    Article.objects.select_for_update().get(pk=int(sys.argv[1]))
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.mark.parametrize("through", ["postgresql", "pgbouncer"])
def test_a_frozen_lambda_releases_its_row_lock_within_the_idle_timeout(
    pg_cluster,
    pg_bouncer,
    site_database,
    through,
):
    import psycopg2

    port = pg_bouncer.port if through == "pgbouncer" else pg_cluster.port
    url = pg_cluster.url(site_database, port=port)
    pk = int(pg_cluster.psql("SELECT min(id) FROM sitecontent_article", database=DATABASE))
    frozen = subprocess.Popen(
        [sys.executable, "-c", FREEZER, str(pk)], cwd=ROOT, env=child_env(url),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert frozen.stdout.readline().strip() == "locked"
        os.kill(frozen.pid, signal.SIGSTOP)  # the Lambda is frozen mid-transaction
        started = time.monotonic()
        other = psycopg2.connect(url)
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("UPDATE sitecontent_article SET title = title WHERE id = %s", [pk])
            assert cursor.rowcount == 1
        other.close()
        waited = time.monotonic() - started
        assert waited < pc.IDLE_IN_TRANSACTION_TIMEOUT + 3, waited
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
        frozen.kill()
        frozen.wait(10)
    assert "terminating connection due to idle-in-transaction timeout" in pg_cluster.log_text()


if __name__ == "__main__":
    child_main(sys.argv[1:])
