"""Production and staging (on Lambda). They differ only by environment variables.

Required: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, MEDIA_BUCKET, MEDIA_DOMAIN, and
ORIGIN_VERIFY_SECRETS unless ORIGIN_VERIFY_REQUIRED is off. A missing one stops the cold
start with a message naming every variable that is missing, not just the first; so does
a weak SECRET_KEY (or fallback), and a SITE_URL that cannot be known.
"""

from cms import coldstart

coldstart.pause()  # until every app is ready (cms.coldstart says why)

import os  # noqa: E402
import re  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.utils.csp import CSP  # noqa: E402

from .base import *  # noqa: F403, E402
from .base import MEDIA_CACHE_CONTROL, SECURE_CSP, STORAGES, env  # noqa: E402

REQUIRED_ENV = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "MEDIA_BUCKET", "MEDIA_DOMAIN")
_missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
# Requests must come through CloudFront unless the stage says otherwise (dev).
ORIGIN_VERIFY_REQUIRED = env.bool("ORIGIN_VERIFY_REQUIRED", default=True)
if ORIGIN_VERIFY_REQUIRED and not os.environ.get("ORIGIN_VERIFY_SECRETS"):
    _missing.append("ORIGIN_VERIFY_SECRETS")
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = False
SECRET_KEY = env("SECRET_KEY")
# Keys that still verify signatures made before a rotation (sessions, preview links).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Django's own rule for a strong key (check W009), enforced at start rather than left
# as a warning nobody reads on Lambda. (Django imports that module at setup anyway.)
from django.core.checks.security.base import (  # noqa: E402
    SECRET_KEY_INSECURE_PREFIX as _KEY_INSECURE_PREFIX,
)
from django.core.checks.security.base import (  # noqa: E402
    SECRET_KEY_MIN_LENGTH as _KEY_MIN_LENGTH,
)
from django.core.checks.security.base import (  # noqa: E402
    SECRET_KEY_MIN_UNIQUE_CHARACTERS as _KEY_MIN_UNIQUE,
)


def _weakness(key: str) -> str:
    if key.startswith(_KEY_INSECURE_PREFIX):
        return f"starts with {_KEY_INSECURE_PREFIX!r}, Django's mark of a generated key"
    if len(key) < _KEY_MIN_LENGTH:
        return f"has fewer than {_KEY_MIN_LENGTH} characters"
    if len(set(key)) < _KEY_MIN_UNIQUE:
        return f"has fewer than {_KEY_MIN_UNIQUE} different characters"
    return ""


_weak = [
    f"{name} {why}"
    for name, key in [("SECRET_KEY", SECRET_KEY)]
    + [(f"SECRET_KEY_FALLBACKS entry {n}", k) for n, k in enumerate(SECRET_KEY_FALLBACKS, 1)]
    if (why := _weakness(key))
]
if _weak:
    raise ImproperlyConfigured(
        "; ".join(_weak) + ". Make one with: python -c "
        "'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# The public address. Derived from the first ALLOWED_HOSTS entry only when that is one
# host: a wildcard (".execute-api.…", dev) names no site, and make deploy sets SITE_URL
# to the stage's API Gateway URL instead (cms.lambda_build).
SITE_URL = env("SITE_URL", default="").rstrip("/")
if not SITE_URL:
    _first_host = ALLOWED_HOSTS[0]
    if _first_host.startswith(".") or "*" in _first_host:
        raise ImproperlyConfigured(
            f"SITE_URL is needed: the first ALLOWED_HOSTS entry ({_first_host!r}) is a "
            "wildcard, not the site's address"
        )
    SITE_URL = f"https://{_first_host}"
if not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must be an https:// address")

# SECURITY
# ------------------------------------------------------------------------------
# Only CloudFront adds X-Origin-Verify with one of these (docs/caching.md); anything
# else is refused before the host or the client address is read
# (cms.middleware.CloudFrontOriginMiddleware). More than one: a rotation is under way.
ORIGIN_VERIFY_SECRETS = env.list("ORIGIN_VERIFY_SECRETS", default=[])
_HEADER_SAFE = re.compile(r"^[A-Za-z0-9_.~+/=-]{32,}$")
if ORIGIN_VERIFY_REQUIRED and not all(_HEADER_SAFE.match(s) for s in ORIGIN_VERIFY_SECRETS):
    raise ImproperlyConfigured(
        "ORIGIN_VERIFY_SECRETS: each comma-separated secret must be at least 32 letters, "
        "digits or -_.~+/= (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    )
# CloudFront then API Gateway each append to X-Forwarded-For (see cms/client_ip.py);
# set 1 for a stage served by API Gateway alone (a regional endpoint, as every stage's is).
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
# cms.storage stores each object's Content-Type and Content-Disposition (cms.media_headers).
STORAGES = {
    **STORAGES,
    "default": {"BACKEND": "cms.storage.MediaStorage", "OPTIONS": _s3_media},
    "renditions": {
        "BACKEND": "cms.storage.MediaStorage",
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
