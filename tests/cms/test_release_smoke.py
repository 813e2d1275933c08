"""The release's smoke test (``manage.py release_smoke``), run in-process against the test
database as a new version runs it on Lambda: through the whole middleware stack, at the
site's host, with the origin header production requires."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpResponseServerError

from cms.management.commands import release_smoke
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "www.example.test"
SECRET = "origin-secret-for-the-smoke-test"


@pytest.fixture
def site(settings):
    """Production's gate on: a request without CloudFront's header gets a 403."""
    settings.SITE_URL = f"https://{HOST}"
    settings.ALLOWED_HOSTS = [HOST]
    settings.ORIGIN_VERIFY_REQUIRED = True
    settings.ORIGIN_VERIFY_SECRETS = [SECRET]
    return settings


def run():
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("release_smoke", stdout=out, stderr=err)
    except CommandError as exc:
        return exc, out.getvalue(), err.getvalue()
    return None, out.getvalue(), err.getvalue()


def no_throwaway_users():
    return (
        not get_user_model()
        .objects.filter(username__startswith=release_smoke.USERNAME_PREFIX)
        .exists()
    )


def test_passes_on_a_working_site_and_leaves_no_user_behind(site):
    article = ArticleFactory(title="Smoke article")
    error, out, _ = run()
    assert error is None, out
    assert f"release smoke ok article: {article.get_absolute_url()}" in out
    for name, _check in release_smoke.CHECKS:
        assert f"release smoke ok {name}" in out
    assert "release smoke passed" in out
    assert no_throwaway_users()
    from axes.models import AccessAttempt, AccessLog

    assert not AccessLog.objects.filter(username__startswith=release_smoke.USERNAME_PREFIX).exists()
    assert not AccessAttempt.objects.exists()
    from django.contrib.sessions.models import Session

    assert Session.objects.count() == 0


def test_no_article_yet_is_said_not_failed(site):
    error, out, _ = run()
    assert error is None, out
    assert "no live article yet" in out


def test_the_origin_header_is_what_lets_it_in(site):
    # Without the header the gate refuses every request: the smoke test sends it.
    from django.test import Client

    assert Client(headers={"host": HOST}, secure=True).get("/").status_code == 403
    error, out, _ = run()
    assert error is None, out
    assert "release smoke ok home page: /" in out
    # The secret is sent, never printed.
    assert SECRET not in out


def _broken(*args, **kwargs):
    return HttpResponseServerError("broken")


def test_fails_when_the_home_page_fails(site, monkeypatch):
    from sitecontent.public import views

    monkeypatch.setattr(views.HomeView, "get", _broken)
    error, _, _ = run()
    assert "home page: GET / answered 500" in str(error)


def test_fails_when_an_article_fails(site, monkeypatch):
    from sitecontent.public import views

    article = ArticleFactory()
    monkeypatch.setattr(views.ArticleDetailView, "get", _broken)
    error, _, _ = run()
    assert f"article: GET {article.get_absolute_url()} answered 500" in str(error)
    assert "home page" not in str(error)


def test_fails_when_admin_sign_in_fails_and_still_removes_its_user(site):
    # An authentication backend that accepts no one: signing in answers the form again.
    site.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.RemoteUserBackend"]
    error, _, _ = run()
    assert "admin sign-in: signing in to the admin answered 200" in str(error)
    assert no_throwaway_users()


def test_fails_when_the_api_fails(site, monkeypatch):
    from sitecontent.api import views as api

    monkeypatch.setattr(api.ArticleViewSet, "list", _broken)
    error, _, _ = run()
    assert "API: GET /api/v1/articles/ answered 500" in str(error)


def test_fails_when_the_task_round_trip_does_not_come_back(site, monkeypatch):
    # A backend that takes the task and never runs it.
    site.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    monkeypatch.setattr(release_smoke, "TASK_SECONDS", 0)
    error, _, _ = run()
    assert "task round trip: the task round trip did not finish" in str(error)


def exploding_ping(token):
    raise RuntimeError("task broke")


def test_fails_when_the_task_fails(site, monkeypatch):
    import dataclasses

    failing = dataclasses.replace(release_smoke.release_ping, func=exploding_ping)
    monkeypatch.setattr(release_smoke, "release_ping", failing)
    error, _, _ = run()
    assert "task round trip: the task round trip failed" in str(error)
    assert "task broke" in str(error)
