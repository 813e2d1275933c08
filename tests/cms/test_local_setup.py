"""Local set-up honesty: `make run PORT=…` is the address every absolute link names, the
minute tick runs beside the server, the site's own 404 page shows under DEBUG, and
/favicon.ico is there."""

import shutil
import subprocess
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from cms.middleware import SiteNotFoundUnderDebugMiddleware
from sitecontent.models import Article
from sitecontent.public.receivers import sync_site_address
from tests.factories import ArticleFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
OTHER = "http://127.0.0.1:8123"


def make_dry_run(*args) -> str:
    """What `make run …` would run (make -n prints the recipe, runs nothing)."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", "-n", "--always-make", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        # The recipe's prerequisites (the virtualenv) would be printed too; the venv
        # here is what it is, and only `run`'s own lines matter.
        env={"PATH": "/usr/bin:/bin", "VENV": ".venv"},
    ).stdout


def test_make_run_passes_the_port_to_the_site_address_and_seed_demo():
    recipe = make_dry_run("run", "PORT=8123")
    assert f"export SITE_URL={OTHER};" in recipe
    assert f"seed_demo --admin-url {OTHER}/admin/" in recipe
    assert "runserver 127.0.0.1:8123" in recipe


def test_an_explicit_site_url_wins():
    recipe = make_dry_run("run", "PORT=8123", "SITE_URL=http://cms.localhost:9000")
    assert "export SITE_URL=http://cms.localhost:9000;" in recipe


def test_make_run_starts_the_minute_tick_and_stops_it_with_the_server():
    recipe = make_dry_run("run")
    tick = recipe.index("publishing_tick --loop")
    server = recipe.index("runserver")
    assert tick < server
    assert "trap 'kill $tick" in recipe


@pytest.mark.django_db
def test_every_absolute_link_names_the_port(client, settings):
    settings.SITE_URL = OTHER
    sync_site_address(sender=None)  # as `make run`'s migrate does
    article = ArticleFactory(slug="harbour")
    at = f"{OTHER}/articles/harbour/"

    page = client.get("/articles/harbour/").content.decode()
    assert f'<link rel="canonical" href="{at}">' in page
    assert f"{OTHER}/static/img/og-default.png" in page
    assert f"<link>{at}</link>" in client.get("/feeds/rss/").content.decode()
    assert f"<loc>{at}</loc>" in client.get("/sitemap.xml").content.decode()
    api = client.get("/api/v1/articles/").json()
    assert api["results"][0]["html_url"] == at
    assert client.get("/api/v1/").json()["endpoints"]["articles"] == f"{OTHER}/api/v1/articles/"

    client.force_login(UserFactory(is_superuser=True))
    content_type = ContentType.objects.get_for_model(Article)
    view_on_site = client.get(f"/admin/r/{content_type.pk}/{article.pk}/")
    assert view_on_site.headers["Location"] == at


@pytest.mark.django_db
def test_the_tick_loop_survives_a_failed_tick():
    from sitecontent.publishing import tick

    real = tick.scheduled_publishing_tick
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return real(**kwargs)

    class Stop(Exception):
        pass

    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    err = StringIO()
    with (
        mock.patch.object(tick, "scheduled_publishing_tick", flaky),
        mock.patch("time.sleep", sleep),
        pytest.raises(Stop),
    ):
        call_command("publishing_tick", "--loop", "--interval", "5", stdout=StringIO(), stderr=err)
    assert len(calls) == 2
    assert sleeps == [5, 5]
    assert "database is locked" in err.getvalue()


@pytest.mark.django_db
def test_a_single_tick_still_raises():
    from sitecontent.publishing import tick

    with (
        mock.patch.object(tick, "scheduled_publishing_tick", side_effect=RuntimeError("x")),
        pytest.raises(RuntimeError),
    ):
        call_command("publishing_tick", stdout=StringIO())


def test_local_settings_show_the_sites_404_under_debug():
    from cms.settings import local

    assert local.DEBUG is True
    assert "cms.middleware.SiteNotFoundUnderDebugMiddleware" in local.MIDDLEWARE


@pytest.mark.django_db
def test_under_debug_a_missing_page_is_the_sites_404_and_the_admin_keeps_djangos(client, settings):
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "cms.middleware.SiteNotFoundUnderDebugMiddleware"]
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()
    assert "URLconf" not in response.content.decode()

    client.force_login(UserFactory(is_superuser=True))
    technical = client.get("/admin/nothing-here/")
    assert technical.status_code == 404
    assert "URLconf" in technical.content.decode()  # Django's technical page


def test_the_middleware_leaves_other_errors_alone(rf, settings):
    settings.DEBUG = True
    middleware = SiteNotFoundUnderDebugMiddleware(lambda request: None)
    assert middleware.process_exception(rf.get("/x/"), ValueError("boom")) is None


@pytest.mark.django_db
def test_favicon_ico_resolves_to_a_real_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/").content.decode()
    assert 'rel="icon" href="/static/img/favicon.ico"' in page
