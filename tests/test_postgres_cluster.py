"""The load tests' fixture helper (tests/postgres_cluster.py) skips without its binaries,
except in CI (CI_REQUIRE_LOAD=1), where it fails: CI cannot pass by skipping them."""

import pytest

from tests import postgres_cluster as pc


@pytest.fixture
def no_binaries(monkeypatch, tmp_path):
    monkeypatch.setattr(pc, "PG_BIN", tmp_path / "missing")
    monkeypatch.setattr(pc, "PGBOUNCER", tmp_path / "missing" / "pgbouncer")


def test_missing_binaries_skip_with_the_reason(no_binaries, monkeypatch):
    monkeypatch.delenv("CI_REQUIRE_LOAD", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y postgresql-15 pgbouncer"):
        pc.require_binaries()


def test_missing_binaries_fail_in_ci(no_binaries, monkeypatch):
    monkeypatch.setenv("CI_REQUIRE_LOAD", "1")
    with pytest.raises(pytest.fail.Exception, match="CI_REQUIRE_LOAD=1"):
        pc.require_binaries()


def test_the_pool_fits_under_the_servers_slots():
    """PgBouncer's pool never runs the server out of connections, and the burst is twice
    the server's limit."""
    assert pc.POOL_SIZE < pc.APP_SLOTS < pc.MAX_CONNECTIONS
    assert pc.IDLE_IN_TRANSACTION_TIMEOUT < pc.STATEMENT_TIMEOUT < 60


def test_ci_installs_pgbouncer_and_requires_the_load_tests():
    from tests.lambda_fixtures import ROOT

    script = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install -y -qq pgbouncer" in script
    assert "export CI_REQUIRE_LOAD=1" in script
    assert script.index("CI_REQUIRE_LOAD=1") < script.index("make test-slow")
    makefile = (ROOT / "Makefile").read_text()
    assert '-m "package or deploy or browser or load"' in makefile
