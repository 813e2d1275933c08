import os
import shutil

import pytest

# AWS is never reachable from tests: fake credentials, and an endpoint on a closed
# loopback port unless a test asks for the moto server below.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-1",
    AWS_REGION="eu-west-1",
    AWS_ENDPOINT_URL="http://127.0.0.1:9",
)
for _name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_name, None)

pytest_plugins = ["tests.aws_fixtures", "tests.lambda_fixtures"]


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Each test writes uploads to its own folder, never to the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _empty_caches():
    """Each test's database starts from the same content version (a rollback undoes the
    rises), so pages cached by an earlier test would look current: forget them."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cdn_backend():
    """Each test starts with an empty recording CDN backend."""
    from cms import cdn

    cdn.get_backend.cache_clear()
    yield
    cdn.get_backend.cache_clear()


def _signed_in(user):
    from django.test import Client

    browser = Client()  # its own, so a test's `client` stays an anonymous visitor
    # As the admin's login form signs in (cms.auth; axes only counts attempts).
    browser.force_login(user, backend="cms.auth.ModelBackend")
    browser.user = user
    return browser


@pytest.fixture
def editor_client(db):
    from tests.factories import editor

    return _signed_in(editor())


@pytest.fixture
def publisher_client(db):
    from tests.factories import publisher

    return _signed_in(publisher())


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})"


def pytest_sessionstart(session):
    """CI sets REQUIRE_DATABASE_ENGINE so a wrong DATABASE_URL fails instead of using SQLite."""
    from django.conf import settings

    required = os.environ.get("REQUIRE_DATABASE_ENGINE")
    engine = settings.DATABASES["default"]["ENGINE"]
    if required and not engine.endswith(required):
        raise pytest.UsageError(f"REQUIRE_DATABASE_ENGINE={required} but the suite uses {engine}")
