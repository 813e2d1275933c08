"""``manage.py release_smoke``: the release's smoke test of the version it runs in.

``make deploy`` runs it in a newly published version, through that version's own
qualifier, before any visitor's request reaches it (infra.release, docs/releases.md):

- the home page, and the newest live article (none published yet: said, not failed);
- the admin's sign-in, with a throwaway staff user made for it and removed after (with
  its session and its sign-in records);
- the content API;
- a task round trip through the stage's task backend (on Lambda: an asynchronous
  invocation of the function, whose result is read back from the database).

The requests go through the whole middleware stack in this process (Django's test
client), addressed to the site's host over HTTPS and carrying the origin header
CloudFront adds, as a visitor's request arrives. Any check failing raises CommandError:
on Lambda the invocation's FunctionError, which stops the release.
"""

import secrets
import time
import urllib.parse

from django.core.management.base import BaseCommand, CommandError
from django.tasks import TaskResultStatus, task

# How long the task round trip may take (an asynchronous invocation, cold, included).
TASK_SECONDS = 30
TASK_POLL_SECONDS = 0.5
USERNAME_PREFIX = "release-smoke-"


@task
def release_ping(token: str) -> str:
    """The smoke test's task: gives its argument back."""
    return token


class Failed(Exception):
    pass


def _client():
    from django.conf import settings
    from django.test import Client

    host = urllib.parse.urlsplit(settings.SITE_URL).netloc or "testserver"
    headers = {"host": host, "x-forwarded-host": host, "x-forwarded-proto": "https"}
    if settings.ORIGIN_VERIFY_REQUIRED and settings.ORIGIN_VERIFY_SECRETS:
        headers["x-origin-verify"] = settings.ORIGIN_VERIFY_SECRETS[0]
    return Client(headers=headers, secure=True, REMOTE_ADDR="127.0.0.1")


def _get(client, path, *, expect=200):
    response = client.get(path)
    if response.status_code != expect:
        raise Failed(f"GET {path} answered {response.status_code}, not {expect}")
    return response


def check_home(client) -> str:
    _get(client, "/")
    return "/"


def check_article(client) -> str:
    from sitecontent.models import Article

    article = Article.objects.live().order_by("-publish_at").first()
    if article is None:
        return "no live article yet (nothing to check)"
    path = article.get_absolute_url()
    _get(client, path)
    return path


def check_admin_login(client) -> str:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    username = USERNAME_PREFIX + secrets.token_hex(6)
    password = secrets.token_urlsafe(24)
    user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    try:
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password, "next": "/admin/"},
        )
        if response.status_code != 302 or response.headers.get("Location") != "/admin/":
            raise Failed(f"signing in to the admin answered {response.status_code}, not a redirect")
        _get(client, "/admin/")
        client.logout()
    finally:
        _forget(user_model, user, username)
    return "/admin/login/"


def _forget(user_model, user, username) -> None:
    """The throwaway user and what signing in recorded of it."""
    from django.apps import apps

    if apps.is_installed("axes"):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username=username).delete()
    user_model.objects.filter(pk=user.pk).delete()


def check_api(client) -> str:
    response = _get(client, "/api/v1/articles/")
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        raise Failed("the API did not answer JSON")
    return "/api/v1/articles/"


def check_task(client, *, seconds=None) -> str:
    token = secrets.token_hex(8)
    result = release_ping.enqueue(token)
    deadline = time.monotonic() + (TASK_SECONDS if seconds is None else seconds)
    while True:
        if result.status == TaskResultStatus.SUCCESSFUL:
            if result.return_value != token:
                raise Failed("the task round trip gave back something else")
            return f"task {result.id}"
        if result.status == TaskResultStatus.FAILED:
            raise Failed(f"the task round trip failed: {result.errors[-1].traceback[-300:]}")
        if time.monotonic() >= deadline:
            raise Failed(f"the task round trip did not finish (status {result.status})")
        time.sleep(TASK_POLL_SECONDS)
        result.refresh()


CHECKS = (
    ("home page", check_home),
    ("article", check_article),
    ("admin sign-in", check_admin_login),
    ("API", check_api),
    ("task round trip", check_task),
)


class Command(BaseCommand):
    help = "Smoke-test this version: home, an article, admin sign-in, the API, a task."

    def handle(self, *args, **options):
        client = _client()
        failures = []
        for name, check in CHECKS:
            try:
                detail = check(client)
            except Failed as exc:
                failures.append(f"{name}: {exc}")
                self.stderr.write(f"release smoke FAILED {name}: {exc}")
            except Exception as exc:
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
                self.stderr.write(f"release smoke FAILED {name}: {type(exc).__name__}: {exc}")
            else:
                self.stdout.write(f"release smoke ok {name}: {detail}")
        if failures:
            raise CommandError("release smoke failed: " + "; ".join(failures))
        self.stdout.write("release smoke passed")
