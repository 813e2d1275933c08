"""Production and staging (on Lambda). They differ only by environment variables.

Required (REQUIRED_ENV below, and the README's settings table): ALLOWED_HOSTS,
MEDIA_BUCKET, MEDIA_DOMAIN, and three secrets, each given one way or the other, never
both:

- the Django key: DJANGO_SECRET_ARN (on Lambda), or SECRET_KEY (and SECRET_KEY_FALLBACKS);
- the database: DATABASE_SECRET_ARN with DATABASE_HOST and DATABASE_NAME (DATABASE_PORT
  defaults to 5432), or DATABASE_URL;
- the origin header's secrets, unless ORIGIN_VERIFY_REQUIRED is off:
  ORIGIN_VERIFY_SECRET_ARN, or ORIGIN_VERIFY_SECRETS.

Required in some cases: SITE_URL when the first ALLOWED_HOSTS entry is a wildcard, and
CLOUDFRONT_DISTRIBUTION_ID with the default CDN backend (a stage without CloudFront sets
CDN_BACKEND=cms.cdn.RecordingBackend instead); the backend's options are checked as the
app starts (cms.apps), after these settings.

The *_ARN variables name Secrets Manager secrets (cms.secrets reads and caches them for
SECRETS_TTL seconds, so a rotation needs no deploy); the plain ones are for tests and
local rehearsals. A rehearsal on one machine (every ALLOWED_HOSTS entry a loopback name,
LOCAL_REHEARSAL below) needs no origin secret and may use a weak SECRET_KEY, as
nobody else can reach it. A missing one stops the cold start with a message naming every
variable above that is missing, not just the first; so does a weak SECRET_KEY (or
fallback), an unreadable secret, and a SITE_URL that cannot be known.
"""

from cms import coldstart

coldstart.pause()  # until every app is ready (cms.coldstart says why)

import os  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.utils.csp import CSP  # noqa: E402

from cms import logs as _logs  # noqa: E402
from cms import secrets as _secrets  # noqa: E402

from .base import *  # noqa: F403, E402
from .base import LOG_LEVEL, MEDIA_CACHE_CONTROL, SECURE_CSP, STORAGES, env  # noqa: E402

# Each requirement is met by any one of its variables.
REQUIRED_ENV = (
    ("SECRET_KEY", _secrets.DJANGO_ARN),
    ("ALLOWED_HOSTS",),
    ("DATABASE_URL", _secrets.DATABASE_ARN),
    ("MEDIA_BUCKET",),
    ("MEDIA_DOMAIN",),
)
# A rehearsal on one machine (perf_peers.sh, a laptop): every allowed host is a loopback
# name, so nobody else can reach the site (Django refuses any other Host) and no
# CloudFront stands in front of it. A missing ALLOWED_HOSTS is not one (it is reported).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_hosts = env.list("ALLOWED_HOSTS", default=[])
LOCAL_REHEARSAL = bool(_hosts) and set(_hosts) <= LOOPBACK_HOSTS
# Requests must come through CloudFront unless the stage says otherwise (dev) or this is
# a rehearsal: then there is nothing to verify.
ORIGIN_VERIFY_REQUIRED = env.bool("ORIGIN_VERIFY_REQUIRED", default=not LOCAL_REHEARSAL)
# A secret given both ways: which one wins would be a guess, and the plain one should
# not be on a Lambda function at all.
_both = [
    f"{plain} and {arn}"
    for plain, arn in [
        ("SECRET_KEY", _secrets.DJANGO_ARN),
        ("SECRET_KEY_FALLBACKS", _secrets.DJANGO_ARN),
        ("DATABASE_URL", _secrets.DATABASE_ARN),
        ("ORIGIN_VERIFY_SECRETS", _secrets.ORIGIN_ARN),
    ]
    if os.environ.get(plain) and os.environ.get(arn)
]
if _both:
    raise ImproperlyConfigured(
        "Each secret is given one way, not both: "
        + "; ".join(_both)
        + " are set. Keep the *_ARN one (Secrets Manager) and unset the other."
    )
_required = list(REQUIRED_ENV)
if ORIGIN_VERIFY_REQUIRED:
    _required.append(("ORIGIN_VERIFY_SECRETS", _secrets.ORIGIN_ARN))
if os.environ.get(_secrets.DATABASE_ARN):
    _required += [("DATABASE_HOST",), ("DATABASE_NAME",)]
_missing = [" or ".join(names) for names in _required if not any(os.environ.get(n) for n in names)]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(_missing)
    )

# DATABASES
# ------------------------------------------------------------------------------
# On Lambda: the cluster's (or proxy's) endpoint from the stack's outputs, and the user
# and password from the RDS-managed secret at each new connection (cms.db), so the
# weekly rotation of the master password needs no deploy. DATABASE_URL (base settings)
# is for tests and rehearsals.
if os.environ.get(_secrets.DATABASE_ARN):
    DATABASES = {
        "default": {
            "ENGINE": "cms.db",
            "HOST": env("DATABASE_HOST"),
            "PORT": env("DATABASE_PORT", default="5432"),
            "NAME": env("DATABASE_NAME"),
            "USER": "",
            "PASSWORD": "",
            # RDS and Aurora PostgreSQL accept TLS (15 and later require it by default).
            # connect_timeout and no server-side cursors: safe behind RDS Proxy (the
            # reasons are in base settings, DATABASES).
            "OPTIONS": {
                "sslmode": env("DATABASE_SSLMODE", default="require"),
                "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
            },
            "DISABLE_SERVER_SIDE_CURSORS": True,
            "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
            "CONN_HEALTH_CHECKS": True,
        }
    }

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = False
SECRETS_TTL = _secrets.ttl()
if os.environ.get(_secrets.DJANGO_ARN):
    SECRET_KEY, SECRET_KEY_FALLBACKS = _secrets.django_keys()
else:
    SECRET_KEY = env("SECRET_KEY")
    # Keys that still verify signatures made before a rotation (sessions, preview links).
    SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
    # Django's own rule for a strong key (check W009), enforced at start rather than left
    # as a warning nobody reads on Lambda (secrets from the store are checked alike). A
    # rehearsal signs nothing anyone else could receive: there it stays Django's warning.
    _weak = _secrets.key_weaknesses(SECRET_KEY, SECRET_KEY_FALLBACKS)
    if _weak and not LOCAL_REHEARSAL:
        raise ImproperlyConfigured(
            "; ".join(_weak) + ". Make one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(50))'"
        )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# The public address. Derived from the first ALLOWED_HOSTS entry only when that is one
# host: a wildcard names no site. make deploy sets both from the stage's stack (its
# domain, or its distribution's), cms.lambda_build.
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

# LOGGING AND METRICS (the observability slice's block; docs/observability.md)
# ------------------------------------------------------------------------------
# One JSON line per record wherever production settings run, Lambda or a rehearsal;
# EMF metric lines on stderr, which CloudWatch Logs turns into metrics (cms.metrics).
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = _logs.logging_config(LOG_FORMAT, LOG_LEVEL)
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)

# SECURITY
# ------------------------------------------------------------------------------
# Only CloudFront adds X-Origin-Verify with one of these (docs/caching.md); anything
# else is refused before the host or the client address is read
# (cms.middleware.CloudFrontOriginMiddleware). More than one: a rotation is under way.
if os.environ.get(_secrets.ORIGIN_ARN):
    ORIGIN_VERIFY_SECRETS = _secrets.origin_secrets()
else:
    ORIGIN_VERIFY_SECRETS = env.list("ORIGIN_VERIFY_SECRETS", default=[])
    if ORIGIN_VERIFY_REQUIRED and (
        _problem := _secrets.origin_secret_problem(ORIGIN_VERIFY_SECRETS)
    ):
        raise ImproperlyConfigured(f"ORIGIN_VERIFY_SECRETS (comma-separated): {_problem}")
# Secrets from the store are read again after SECRETS_TTL seconds (cms.secrets).
if _secrets.watched():
    _secrets.watch_settings()
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

# EMAIL
# ------------------------------------------------------------------------------
# https://github.com/django-ses/django-ses
# Amazon SES with the function's own role (its policy allows sending only as the stage's
# verified sender, infra/template.py). The sender comes from the stage's configuration
# (infra/stages.json "mail_from", set by make deploy); without one a notification's
# task fails, visibly in the operations panel, and nothing else stops.
MAILERS = {"default": {"BACKEND": env("MAILER_BACKEND", default="django_ses.SESBackend")}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# django-ses's own settings (https://github.com/django-ses/django-ses#settings).
AWS_SES_REGION_NAME = env("AWS_SES_REGION_NAME", default=env("AWS_REGION", default="eu-west-1"))
AWS_SES_REGION_ENDPOINT = f"email.{AWS_SES_REGION_NAME}.amazonaws.com"
# Off: throttling asks SES for the quota (GetSendQuota, another permission and call)
# before every message, for a newsroom's handful a day.
AWS_SES_AUTO_THROTTLE = None

# TASKS AND CDN
# ------------------------------------------------------------------------------
# Each task runs in its own asynchronous invocation of this function (cms/task_backends.py).
TASKS = {"default": {"BACKEND": "cms.task_backends.LambdaAsyncBackend"}}
# A stage without CloudFront sets CDN_BACKEND=cms.cdn.RecordingBackend.
CDN = {
    "BACKEND": env("CDN_BACKEND", default="cms.cdn.CloudFrontBackend"),
    "OPTIONS": {
        "DISTRIBUTION_ID": env("CLOUDFRONT_DISTRIBUTION_ID", default=""),
        # The stage's purge relay (CloudFront's API is not reachable from the VPC).
        "PURGE_FUNCTION": env("CDN_PURGE_FUNCTION", default=""),
    },
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
