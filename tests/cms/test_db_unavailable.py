"""A database outage answers 503 (cms.db.unavailable), anything else the 500 page. The
real outages (a restart, too many clients) are in tests/test_database_load.py; here the
handler's behaviour for each class of error, through the test client."""

import logging

import pytest
from django.db import DatabaseError, InterfaceError, OperationalError
from django.test import Client

from cms.db import unavailable

SECRET = "s3cr3t-password"


def raising(exc):
    def view(request, *args, **kwargs):
        raise exc

    return view


@pytest.fixture
def client_raising(monkeypatch):
    """A client whose every public and API request (cms.public_urls, whose handler500 is
    the one under test) raises the given error in the view."""
    from django.urls import clear_url_caches, re_path

    import cms.public_urls

    def make(exc):
        monkeypatch.setattr(cms.public_urls, "urlpatterns", [re_path(r"^", raising(exc))])
        clear_url_caches()
        return Client(raise_request_exception=False)

    yield make
    monkeypatch.undo()
    clear_url_caches()


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError(f'connection to server at "db" failed: password={SECRET} refused'),
        InterfaceError("connection already closed"),
    ],
    ids=["operational", "interface"],
)
@pytest.mark.django_db
def test_a_database_outage_is_a_503_page_with_retry_after(client_raising, exc, caplog):
    client = client_raising(exc)
    with caplog.at_level(logging.ERROR):
        response = client.get("/some/page/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(unavailable.RETRY_AFTER)
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Back in a moment" in body
    assert "Traceback" not in body
    assert type(exc).__name__ not in body
    # One line, no traceback, no password.
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(records) == 1
    assert records[0].exc_info is None
    assert "Database unavailable" in records[0].getMessage()
    assert SECRET not in caplog.text


@pytest.mark.django_db
def test_an_api_request_gets_json(client_raising):
    response = client_raising(OperationalError("server closed the connection"))
    response = response.get("/api/v1/articles/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == 503


@pytest.mark.django_db
def test_a_database_error_raised_from_another_is_an_outage_too(client_raising):
    try:
        raise OperationalError("could not connect")
    except OperationalError as cause:
        wrapped = RuntimeError("while rendering")
        wrapped.__cause__ = cause
    assert client_raising(wrapped).get("/x/").status_code == 503


@pytest.mark.parametrize(
    "exc", [ValueError("a bug"), DatabaseError("a bad query")], ids=["bug", "query"]
)
@pytest.mark.django_db
def test_any_other_error_is_still_the_500_page(client_raising, exc):
    response = client_raising(exc).get("/x/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong" in response.content.decode()


@pytest.mark.django_db
def test_each_outage_answer_is_counted_and_no_other_error_is(client_raising, monkeypatch):
    """One DATABASE_UNAVAILABLE data point per 503, so the dashboard and its alarm see an
    outage by itself; a 500 for anything else is not one."""
    from cms import metrics

    points = []
    monkeypatch.setattr(metrics, "put", lambda name, value, unit="Count": points.append(name))
    client = client_raising(OperationalError("server closed the connection unexpectedly"))
    assert client.get("/a/").status_code == 503
    assert client.get("/api/v1/articles/").status_code == 503
    assert points.count(metrics.DATABASE_UNAVAILABLE) == 2
    client = client_raising(ValueError("a bug, not an outage"))
    assert client.get("/b/").status_code == 500
    assert points.count(metrics.DATABASE_UNAVAILABLE) == 2
