"""manage.py serve_lambda: the site on loopback through Zappa's handler, cron included."""

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.lambda_fixtures import LOGIN, login_fields
from tests.lambda_runtime import seeded_database

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The schema and demo content, made once for the module (migrate and seed_demo take
    about ten seconds) and copied for each test."""
    return seeded_database(tmp_path_factory.mktemp("seeded") / "db.sqlite3")


@pytest.fixture
def served(tmp_path, seeded):
    database = tmp_path / "db.sqlite3"
    shutil.copy2(seeded, database)
    shutil.copytree(seeded.parent / "media", tmp_path / "m")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "cms.settings.local",
        "MEDIA_ROOT": str(tmp_path / "m"),
    }
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve_lambda", "--port", str(port), "--speedup", "120"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(url + "/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield {"url": url, "db": database, "log": log}
        process.terminate()
        process.wait(10)


def test_pages_static_files_and_forms_go_through_zappas_handler(served):
    home = requests.get(served["url"] + "/", timeout=10)
    assert home.status_code == 200
    assert "Welcome to Lambda CMS" in home.text
    icon = requests.get(served["url"] + "/static/img/icon-192.png", timeout=10)
    assert icon.content == (ROOT / "static/img/icon-192.png").read_bytes()

    session = requests.Session()  # keeps the CSRF cookie the form sets
    form = session.get(served["url"] + LOGIN, timeout=10)
    response = session.post(
        served["url"] + LOGIN,
        data=login_fields(form.text, "nobody", "wrong"),
        headers={"Origin": served["url"]},
        timeout=10,
    )
    assert response.status_code == 200  # the form again, with an error: CSRF passed
    assert "Please enter the correct username and password" in response.text
    # The site's access line (cms.logs; Zappa's own, with the query string, is off).
    assert "cms.access POST /admin/login/ 200" in served["log"].read_text()


def test_the_cron_tick_fires_at_its_rate(served):
    for _ in range(50):
        with sqlite3.connect(served["db"]) as db:
            row = db.execute("select runs from sitecontent_schedulerstate").fetchone()
        if row and row[0] >= 2:
            break
        time.sleep(0.2)
    assert row
    assert row[0] >= 2
    assert "[schedule] sitecontent.events.publishing_tick" in served["log"].read_text()
