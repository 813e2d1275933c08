"""A private PostgreSQL 15 cluster with a small ``max_connections``, and PgBouncer in
transaction mode in front of it (the stand-in for RDS Proxy), for the load and fault
tests (tests/test_database_load.py, docs/database.md).

Both run on free loopback ports, as the ``postgres`` OS user when the suite runs as root
(initdb, postgres and pgbouncer all refuse root), with their data and logs in a
temporary folder. The server logs every statement (``log_statement=all``) with the
backend's pid and the role and database, so a test can read exactly what a connection
sent. The server's settings are the ones the stage's parameter group sets
(infra/template.py): UTC, a statement timeout and an idle-in-transaction timeout (small
here, so the frozen-Lambda test is quick).

Missing binaries skip the tests, unless CI_REQUIRE_LOAD=1 (.ci/run sets it): then they
fail, so CI can never pass by skipping them.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# Both live in sbin, which a CI shell without a profile may not have on its PATH.
_SBIN = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/sbin"))
PGBOUNCER = Path(shutil.which("pgbouncer", path=_SBIN) or "/usr/sbin/pgbouncer")
RUNUSER = shutil.which("runuser", path=_SBIN) or "runuser"
OS_USER = "postgres"

MAX_CONNECTIONS = 10
# Slots only a superuser may take: the site's role (not one) gets the rest.
SUPERUSER_RESERVED = 2
APP_SLOTS = MAX_CONNECTIONS - SUPERUSER_RESERVED
# Server connections PgBouncer opens per database and user: below APP_SLOTS, so the
# pooler never runs the server out of slots however many clients it serves.
POOL_SIZE = 4
# Seconds; the real stages' values are in infra/template.py (DATABASE_PARAMETERS).
IDLE_IN_TRANSACTION_TIMEOUT = 2
STATEMENT_TIMEOUT = 10

APP_ROLE = "cms_app"
APP_PASSWORD = "load-test-password"  # a fake, loopback-only password: never logged
# The server messages a refused connection carries (PostgreSQL 15 wording).
TOO_MANY_CLIENTS = ("sorry, too many clients already", "remaining connection slots are reserved")


def require_binaries() -> None:
    """Skip (or fail, in CI) when PostgreSQL 15 or PgBouncer is not installed."""
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl", PGBOUNCER) if not p.exists()]
    if not missing:
        return
    message = (
        f"Missing {', '.join(missing)}: apt-get install -y postgresql-15 pgbouncer "
        "(.ci/run installs pgbouncer)"
    )
    if os.environ.get("CI_REQUIRE_LOAD") == "1":
        pytest.fail(f"CI_REQUIRE_LOAD=1 and {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(args: list) -> list:
    """Runs ``args`` as the postgres OS user when we are root (initdb refuses root)."""
    args = [str(a) for a in args]
    if os.geteuid() == 0:
        return [RUNUSER, "-u", OS_USER, "--", *args]
    return args


def _run(args, **kwargs):
    return subprocess.run(
        _as_owner(args), check=True, capture_output=True, text=True, timeout=60, **kwargs
    )


@dataclass
class Cluster:
    root: Path
    port: int
    data: Path
    log: Path

    def pg_ctl(self, *args, timeout=60):
        return _run(
            [PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", timeout, *args]
        )

    def start(self):
        self.pg_ctl("start")

    def stop(self):
        self.pg_ctl("stop", "-m", "fast")

    def restart(self):
        self.pg_ctl("restart", "-m", "fast")

    def psql(self, sql: str, *, database="postgres") -> str:
        """Runs ``sql`` as the superuser over the cluster's socket."""
        connect = ["-h", self.data, "-p", self.port, "-U", "postgres", "-d", database]
        out = _run([PG_BIN / "psql", *connect, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        return out.stdout.strip()

    def disconnect_site(self) -> None:
        """Ends every session of the site's role (PgBouncer's idle ones included)."""
        self.psql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{APP_ROLE}'"  # noqa: S608 (a constant)
        )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, database: str, *, port: int | None = None) -> str:
        return f"postgres://{APP_ROLE}:{APP_PASSWORD}@127.0.0.1:{port or self.port}/{database}"


@dataclass
class Bouncer:
    root: Path
    port: int
    ini: Path
    log: Path
    process: subprocess.Popen

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _writable_tmp() -> Path:
    root = Path(tempfile.mkdtemp(prefix="cms-db-load-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(OS_USER)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o755)
    return root


def start_cluster() -> Cluster:
    root = _writable_tmp()
    data, log = root / "data", root / "postgresql.log"
    _run([PG_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
          "--locale=C.UTF-8"])  # fmt: skip
    port = free_port()
    conf = f"""
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{data}'
max_connections = {MAX_CONNECTIONS}
superuser_reserved_connections = {SUPERUSER_RESERVED}
log_statement = 'all'
log_connections = on
log_disconnections = on
log_line_prefix = '%m [%p] %u@%d '
logging_collector = off
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
# What the stage's parameter group sets (infra/template.py DATABASE_PARAMETERS), so the
# site never has to SET anything on a connection:
timezone = 'UTC'
statement_timeout = '{STATEMENT_TIMEOUT}s'
idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}s'
"""
    with open(data / "postgresql.conf", "a") as f:
        f.write(conf)
    # Password authentication over TCP, as on RDS; trust on the local socket (the tests'
    # superuser).
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
    )
    Path(log).touch()
    if os.geteuid() == 0:
        owner = pwd.getpwnam(OS_USER)
        os.chown(log, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(root, port, data, log)
    cluster.start()
    cluster.psql(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}' CREATEDB")
    return cluster


def create_database(cluster: Cluster, name: str) -> None:
    cluster.psql(f"CREATE DATABASE {name} OWNER {APP_ROLE}")


def start_bouncer(cluster: Cluster, *, pool_size=POOL_SIZE) -> Bouncer:
    root = cluster.root
    port = free_port()
    ini, log = root / "pgbouncer.ini", root / "pgbouncer.log"
    users = root / "userlist.txt"
    users.write_text(f'"{APP_ROLE}" "{APP_PASSWORD}"\n')
    ini.write_text(
        f"""[databases]
* = host=127.0.0.1 port={cluster.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {users}
logfile = {log}
pidfile =
pool_mode = transaction
default_pool_size = {pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
max_db_connections = {pool_size}
server_reset_query =
server_check_delay = 0
server_login_retry = 1
query_wait_timeout = 30
"""
    )
    for path in (ini, users):
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OS_USER)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        path.chmod(0o600)
    process = subprocess.Popen(
        _as_owner([PGBOUNCER, ini]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    bouncer = Bouncer(root, port, ini, log, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {log.read_text() if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return bouncer
        time.sleep(0.1)
    bouncer.stop()
    raise RuntimeError("pgbouncer did not start listening")


def remove(cluster: Cluster) -> None:
    with contextlib.suppress(Exception):
        cluster.pg_ctl("stop", "-m", "immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)


# --- pytest fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    require_binaries()
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        remove(cluster)


@pytest.fixture(scope="session")
def pg_bouncer(pg_cluster):
    bouncer = start_bouncer(pg_cluster)
    try:
        yield bouncer
    finally:
        bouncer.stop()
