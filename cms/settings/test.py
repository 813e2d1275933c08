"""Settings for the pytest suite (SQLite unless DATABASE_URL says otherwise)."""

from .base import *  # noqa: F403
from .base import BASE_DIR, STORAGES

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite renders templates without running collectstatic first;
# tests/cms/test_static.py checks the manifest storage on its own.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".pytest_media"
# No collected files in the suite; WhiteNoise would warn about a missing STATIC_ROOT.
STATIC_ROOT = None
# Serve static files straight from the finders, so responses can be tested uncollected.
WHITENOISE_USE_FINDERS = True
# Tests run inside a transaction that never commits, so the content version (raised on
# commit) stays put and a page cache would serve pages from before a test's changes.
# tests/sitecontent/caching/test_page_cache.py turns it on with commits that run.
PAGE_CACHE_SECONDS = 0
