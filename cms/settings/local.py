"""A laptop with no AWS at all: SQLite, files under ./media, tasks inline."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Good enough for a laptop; production settings refuse to start without a real one.
SECRET_KEY = env("SECRET_KEY", default="local-only-not-secret-3c1f0a7e9d2b4c8f6e5a1d0b9c7f2e4a")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

# With DEBUG off (e.g. `DEBUG=0 make run`, to see the real 404 and 500 pages) there is no
# collectstatic here: WhiteNoise serves straight from the source folders, and uploads
# are still served from MEDIA_ROOT (cms/public_urls.py).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
SERVE_MEDIA_FILES = True

# Under DEBUG Django answers a missing page with its technical 404 (the URL patterns
# tried). The site's own 404 page is what visitors see, so laptops show that for public
# addresses; SITE_404_UNDER_DEBUG=0 brings Django's back (README, "Running locally").
SITE_404_UNDER_DEBUG = env.bool("SITE_404_UNDER_DEBUG", default=True)
if SITE_404_UNDER_DEBUG:
    MIDDLEWARE = [*MIDDLEWARE, "cms.middleware.SiteNotFoundUnderDebugMiddleware"]  # noqa: F405
