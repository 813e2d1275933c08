"""The database settings are safe behind a transaction pooler (docs/database.md) on
every way production is given its database, and the local SQLite default still works."""

import json
import re

import pytest

from tests.cms.test_settings import PRODUCTION_ENV, run
from tests.lambda_fixtures import ROOT

SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)
POSTGRES_URL = "postgres://cms:pw@db.internal:5432/cms"
FROM_THE_SECRET = {
    "DATABASE_URL": "",
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    "DATABASE_HOST": "proxy.internal",
    "DATABASE_NAME": "cms",
}


@pytest.mark.parametrize(
    "env", [{"DATABASE_URL": POSTGRES_URL}, FROM_THE_SECRET], ids=["url", "secret"]
)
def test_production_is_pooler_safe(env):
    result = run(SHOW, "cms.settings.production", **{**PRODUCTION_ENV, **env})
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True
    # The client's own timeout, below the function's; nothing the server would get as a
    # startup option or a SET.
    assert 0 < database["OPTIONS"]["connect_timeout"] < 60
    assert not {"options", "assume_role", "isolation_level"} & set(database["OPTIONS"])


def test_the_connect_timeout_is_configurable():
    env = {**PRODUCTION_ENV, "DATABASE_URL": POSTGRES_URL, "DATABASE_CONNECT_TIMEOUT": "2"}
    result = run(SHOW, "cms.settings.production", **env)
    assert json.loads(result.stdout)["OPTIONS"]["connect_timeout"] == 2


def test_sqlite_gets_no_postgresql_options():
    result = run(SHOW, "cms.settings.local", DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    database = json.loads(result.stdout)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "connect_timeout" not in database.get("OPTIONS", {})


# Session state a transaction pooler loses (PgBouncer) or pins on (RDS Proxy): SET
# (outside SET LOCAL), advisory locks, LISTEN, temporary tables, prepared statements,
# cursors WITH HOLD. The site's code (migrations aside: they run on a direct connection)
# issues none; a need for one belongs in the parameter group or a single transaction.
SESSION_STATE = re.compile(
    r"""["']\s*(?:SET\s+TIME\s+ZONE|SET\s+(?!LOCAL\b)(?:SESSION\s+)?\w+(?:\s+\w+)?\s*(?:=|TO\b)|RESET\s|"""
    r"""DISCARD\s|LISTEN\s|PREPARE\s|CREATE\s+TEMP|DECLARE\s)|pg_advisory_lock"""
)


def test_the_sites_code_sends_no_session_state_sql():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("cms", "sitecontent")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SESSION_STATE.search(line)
    ]
    assert not found, found
