"""Production and staging (on Lambda). They differ only by environment variables.

Required: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL. A missing one stops the cold start
with a message naming every variable that is missing, not just the first.
"""

from cms import coldstart

coldstart.pause()  # until every app is ready (cms.coldstart says why)

import os  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.utils.csp import CSP  # noqa: E402

from .base import *  # noqa: F403, E402
from .base import MEDIA_CACHE_CONTROL, SECURE_CSP, STORAGES, env  # noqa: E402

REQUIRED_ENV = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "MEDIA_BUCKET", "MEDIA_DOMAIN")
_missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
SITE_URL = env("SITE_URL", default=f"https://{ALLOWED_HOSTS[0].lstrip('.')}").rstrip("/")

# SECURITY
# ------------------------------------------------------------------------------
# CloudFront then API Gateway each append to X-Forwarded-For (see cms/client_ip.py);
# set 1 for a stage served by API Gateway alone.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=2)
# https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/
# TLS ends at CloudFront / API Gateway, which forward the original scheme.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# CloudFront reaches API Gateway under the API's own host name; a CloudFront Function
# passes the visitor's host on in X-Forwarded-Host (docs/caching.md), so absolute links
# (the API's next/previous, redirects) name the site. It is still checked against
# ALLOWED_HOSTS; without the header the Host header is used, as before.
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=True)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# https://docs.djangoproject.com/en/6.1/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# TASKS AND CDN
# ------------------------------------------------------------------------------
# Each task runs in its own asynchronous invocation of this function (cms/task_backends.py).
TASKS = {"default": {"BACKEND": "cms.task_backends.LambdaAsyncBackend"}}
# A stage without CloudFront sets CDN_BACKEND=cms.cdn.RecordingBackend.
CDN = {
    "BACKEND": env("CDN_BACKEND", default="cms.cdn.CloudFrontBackend"),
    "OPTIONS": {"DISTRIBUTION_ID": env("CLOUDFRONT_DISTRIBUTION_ID", default="")},
}

# STATIC
# ------------------------------------------------------------------------------
# Templates only ever link hashed names; dropping the originals halves the package's
# static files.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# MEDIA
# ------------------------------------------------------------------------------
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
# The private media bucket behind CloudFront: the distribution serves /media/* from the
# bucket's media/ folder (Origin Access Control), so URLs are https://MEDIA_DOMAIN/media/…
# and need no signing. Uploads land in uploads/, outside media/, and are never served.
MEDIA_BUCKET = env("MEDIA_BUCKET")
MEDIA_DOMAIN = env("MEDIA_DOMAIN")
MEDIA_URL = f"https://{MEDIA_DOMAIN}/media/"
_s3_media = {
    "bucket_name": MEDIA_BUCKET,
    "location": "media",
    "custom_domain": MEDIA_DOMAIN,
    "querystring_auth": False,
    "default_acl": None,
    "file_overwrite": False,
    "object_parameters": {"CacheControl": MEDIA_CACHE_CONTROL},
}
STORAGES = {
    **STORAGES,
    "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_media},
    "renditions": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3_media, "file_overwrite": True},
    },
}
DIRECT_UPLOADS = True
SECURE_CSP = {
    **SECURE_CSP,
    "img-src": [*SECURE_CSP["img-src"], f"https://{MEDIA_DOMAIN}"],
    # The admin's browser uploads go straight to the bucket (either address form).
    "connect-src": [
        CSP.SELF,
        f"https://{MEDIA_BUCKET}.s3.amazonaws.com",
        f"https://{MEDIA_BUCKET}.s3.{env('AWS_REGION', default='eu-west-1')}.amazonaws.com",
    ],
}
