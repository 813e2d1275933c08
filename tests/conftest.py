import shutil

import pytest


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Each test writes uploads to its own folder, never to the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})"


def pytest_sessionstart(session):
    """CI sets REQUIRE_DATABASE_ENGINE so a wrong DATABASE_URL fails instead of using SQLite."""
    import os

    from django.conf import settings

    required = os.environ.get("REQUIRE_DATABASE_ENGINE")
    engine = settings.DATABASES["default"]["ENGINE"]
    if required and not engine.endswith(required):
        raise pytest.UsageError(f"REQUIRE_DATABASE_ENGINE={required} but the suite uses {engine}")
