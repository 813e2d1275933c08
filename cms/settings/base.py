"""Settings shared by every environment; local.py, test.py and production.py only
override. Every environment variable is in one table: the README's "Settings" section."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP

from cms import logs as _logs
from cms import metrics as _metrics

# GENERAL
# ------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SITE_NAME = env("SITE_NAME", default="Lambda CMS")
# The public address: canonical links, feeds, the sitemap and social previews use it.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Editors schedule in this zone; the admin names it next to every time.
TIME_ZONE = env("TIME_ZONE", default="UTC")
LANGUAGE_CODE = "en-us"
# One date format in the admin: Y-m-d H:i and the zone (cms/formats/en/formats.py).
FORMAT_MODULE_PATH = ["cms.formats"]
# Off: the site and admin are in English, and loading translation catalogues costs every
# cold start. To translate, turn it on and drop the locale excludes in zappa_settings.json.
USE_I18N = env.bool("USE_I18N", default=False)
USE_TZ = True
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "cms.urls"
# One site; django.contrib.redirects keys its redirects by it.
SITE_ID = 1
WSGI_APPLICATION = "cms.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# DATABASES
# ------------------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# Unset means a SQLite file in the project folder, so a laptop needs nothing else.
# An empty DATABASE_URL counts as unset, as production settings treat it.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
# Lambda reuses a warm container for many requests: keep the connection between them,
# but check it before use because RDS (or RDS Proxy) may have dropped it meanwhile.
# Stages on Aurora Serverless v2 with MinCapacity 0 set CONN_MAX_AGE=0: the database
# pauses only when no connection is open, and an idle warm container would hold its
# connection until its next request. (Non-HTTP events close theirs on finishing
# anyway: cms.lambda_events.)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind a transaction pooler (RDS Proxy, PgBouncer: docs/database.md) a connection is
# the server's only for one transaction, so nothing may outlive one or change a session:
# - no server-side cursors: .iterator() would DECLARE a named cursor WITH HOLD, which
#   lives in one server session (PgBouncer loses it, RDS Proxy pins the session);
# - no startup options (OPTIONS["options"]: "-c statement_timeout=..."): PgBouncer refuses
#   them and RDS Proxy pins on session settings; the timeouts are the server's
#   (infra/template.py's parameter group), and the server's TimeZone is UTC there, so
#   Django sends no SET TIME ZONE either;
# - connect_timeout is the client's own (libpq; never sent): a dead or paused database
#   fails fast (cms.db.unavailable answers 503) instead of holding the request.
# https://docs.djangoproject.com/en/stable/ref/databases/#transaction-pooling-server-side-cursors
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # The admin, autodiscovered by its URLconf rather than at start-up (cms.apps).
    "cms.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.redirects",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_prose_editor",
    "axes",
    # Neither "rest_framework" nor "django_filters": installed apps only add the
    # browsable API's templates, tags and static files (off here: JSON only), and
    # Django imports every installed template tag library, DRF's serializers with it,
    # on every cold start. The API works without them (sitecontent.api.views).
    "drf_spectacular",
    # Swagger UI's files, served from static/ (no CDN) for the API docs at /api/v1/docs/.
    "drf_spectacular_sidecar",
    "corsheaders",
    "cms",
    "sitecontent",
]

# AUTHENTICATION
# ------------------------------------------------------------------------------
AUTH_USER_MODEL = "sitecontent.User"
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# Five wrong passwords for one username from one address lock that pair out for 15
# minutes; the address comes from X-Forwarded-For as cms/client_ip.py explains. Twenty
# for one username from any number of addresses lock the username out (cms.lockout):
# higher, because anyone can spend a username's tries, and reaching it locks its owner
# out too.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # start slice (issue 15): a user's and their groups' permissions in one query
    # (cms.auth); Django's own stays listed for sessions signed in through it, and
    # answers from the permissions cms.auth cached.
    "cms.auth.ModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
AXES_HANDLER = "cms.lockout.UsernameLimitHandler"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cms.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# MIDDLEWARE
# ------------------------------------------------------------------------------
MIDDLEWARE = [
    # Outermost (observability): one access line and a latency metric per request, refused
    # ones too, and the request's method and path on every line it logs (cms.logs).
    "cms.middleware.RequestLogMiddleware",
    # First, before anything reads the host or the client's address: refuses requests
    # that did not come through CloudFront (where required) and drops its secret header.
    "cms.middleware.CloudFrontOriginMiddleware",
    # Public requests resolve against the URLconf without the admin's URLs.
    "cms.middleware.PublicURLConfMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise, built on the first /static/ request (see the module for why).
    "cms.static_files.LazyWhiteNoiseMiddleware",
    # ETag on every response, 304 for a matching If-None-Match / If-Modified-Since.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, as django-cors-headers asks.
    "corsheaders.middleware.CorsMiddleware",
    # Cache-Control for the CDN and browsers, capped by the next scheduled change, and
    # the page cache: below CORS (whose headers depend on the request), above the rest
    # so that a cached page skips them.
    "sitecontent.caching.middleware.CachePolicyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Answers only 404s: an old address whose slug changed gets a permanent redirect
    # (django.contrib.redirects, serving only targets sitecontent.publishing.redirects
    # allows).
    "sitecontent.publishing.redirects.SafeRedirectFallbackMiddleware",
    # Last, as django-axes asks: turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

# TEMPLATES
# ------------------------------------------------------------------------------
TEMPLATES = [
    {
        # Visitors' pages: templates/**/*.jinja only (sitecontent.public.templating).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "sitecontent.public.templating.environment",
            "context_processors": ["sitecontent.public.context_processors.site"],
        },
    },
    {
        # The admin, e-mails, the 500 and 503 pages and every app's templates.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "sitecontent.public.context_processors.site",
            ],
        },
    },
]

# STATIC AND MEDIA
# ------------------------------------------------------------------------------
# https://whitenoise.readthedocs.io/en/stable/django.html
STATIC_URL = "static/"
# Matched against the path after any script prefix (Zappa's "/dev" stage): stated, not
# derived from STATIC_URL, which Django prefixes with whichever request reads it first.
WHITENOISE_STATIC_PREFIX = f"/{STATIC_URL}"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Renditions have fixed names beside their original: a re-run overwrites them.
    "renditions": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The S3 bucket for media on AWS (unset locally) and the prefix browsers upload to.
MEDIA_BUCKET = env("MEDIA_BUCKET", default="")
UPLOAD_PREFIX = "uploads/"
# Largest files accepted (bytes), and the most pixels an image may decode to: 40 MP of
# RGBA is 160 MB of memory, comfortable in a 1024 MB Lambda.
IMAGE_MAX_UPLOAD_SIZE = env.int("IMAGE_MAX_UPLOAD_SIZE", default=20 * 1024 * 1024)
DOCUMENT_MAX_UPLOAD_SIZE = env.int("DOCUMENT_MAX_UPLOAD_SIZE", default=50 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
# Frames an animation may have. Re-encoding holds every frame in memory, so all frames
# together must also stay within IMAGE_MAX_PIXELS; this caps the per-frame work for tiny
# ones (500 frames is 20 s at 25 frames a second).
IMAGE_MAX_FRAMES = env.int("IMAGE_MAX_FRAMES", default=500)
# Minutes a presigned upload stays usable.
UPLOAD_TOKEN_MINUTES = 5
# Media keys are unique per upload, so browsers and the CDN may keep them for a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Editors' browsers upload straight to S3 (production); locally the admin form does.
DIRECT_UPLOADS = False

# THE PUBLISHING TICK'S MARKER (sitecontent.publishing.tick_gate)
# ------------------------------------------------------------------------------
# Lets the minute tick skip the database while nothing can be due, so an idle Aurora
# Serverless database pauses. "" = no marker, every tick runs in full (local, tests);
# "s3" = the object PUBLISHING_TICK_MARKER_KEY in MEDIA_BUCKET (AWS stages); "file" =
# PUBLISHING_TICK_MARKER_FILE (one machine).
PUBLISHING_TICK_MARKER = env("PUBLISHING_TICK_MARKER", default="")
# Outside media/ and uploads/: never served, never taken for an upload.
PUBLISHING_TICK_MARKER_KEY = "state/publishing-tick.json"
PUBLISHING_TICK_MARKER_FILE = env.path(
    "PUBLISHING_TICK_MARKER_FILE", default=BASE_DIR / ".build" / "state" / "publishing-tick.json"
)
# However quiet the marker says the site is, a full tick at least this often (a safety
# net for changes no save announces, like QuerySet.update() or a restored database).
PUBLISHING_TICK_FULL_RUN_HOURS = env.int("PUBLISHING_TICK_FULL_RUN_HOURS", default=6)

# RICH TEXT EDITOR EXTENSIONS (the image chooser)
# ------------------------------------------------------------------------------
# https://django-prose-editor.readthedocs.io/en/latest/custom_extensions.html
# static/js/prose-image-chooser.js adds "Insert image from the library" (the chooser
# dialog) and keeps a figure's image when the editor types after it. The editor config
# (sitecontent.richtext.editor_config) enables it as "ImageChooser"; what it makes is
# what the Figure extension makes, which sitecontent.richtext's allow-list keeps.


def _static_lazy(path):
    """The static URL of ``path``, worked out when first read (the storage's manifest
    is not loaded while settings are)."""
    from django.utils.functional import lazy

    def resolve():
        from django.templatetags.static import static

        return static(path)

    return lazy(resolve, str)()


DJANGO_PROSE_EDITOR_EXTENSIONS = [
    {
        "js": [_static_lazy("js/prose-image-chooser.js")],
        # A processor for django-prose-editor's own sanitizer, which this site does not
        # use (sitecontent.richtext has the one allow-list).
        "extensions": {"ImageChooser": lambda config, shared: None},
    }
]

# TASKS AND CDN
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/6.1/topics/tasks/
# Locally tasks run inline; production settings switch to cms.task_backends.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# A task run still marked running after this many seconds died with its Lambda
# container (whose timeout is at most 900 s) and may be run again.
TASK_RUN_STALE_AFTER = env.int("TASK_RUN_STALE_AFTER", default=960)
# Where saving content sends purges; see cms/cdn.py. Locally they are only logged.
CDN = {"BACKEND": "cms.cdn.RecordingBackend"}
# -- CDN purge cost ceiling (cms/purging.py, docs/caching.md) --
# CloudFront bills invalidation paths past its first 1,000 a month (a wildcard is one):
# past this many this calendar month (UTC), purges are widened to wildcards, and once it
# is spent each purge is the single path /*.
CDN_MONTHLY_PATH_BUDGET = env.int("CDN_MONTHLY_PATH_BUDGET", default=1000)
# One purge sending more paths than this is widened (/articles/a/, /articles/b/ ... ->
# /articles/*): a bulk edit costs a handful of paths, not hundreds.
CDN_MAX_PATHS_PER_PURGE = env.int("CDN_MAX_PATHS_PER_PURGE", default=100)
# -- end CDN purge cost ceiling --

# EMAIL (the review workflow's notifications, sent by a task)
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/6.1/topics/email/
# Locally messages are printed to the console; production sends through Amazon SES.
MAILERS = {
    "default": {
        "BACKEND": env("MAILER_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="cms@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SECURITY
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/6.1/ref/csp/
# Everything the site needs is served from 'self' (production adds the media domain).
# The nonce is for the admin's rich text editor, whose import map is an inline script; a
# page that renders no nonce sends none.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "script-src": [CSP.SELF, CSP.NONCE],
    # The rich text editor (Tiptap, in django-prose-editor 0.28) injects its base
    # ProseMirror styles as one inline <style>; this is that block's hash. A browser
    # test fails on any CSP violation, so an upgrade that changes it shows up there.
    "style-src": [CSP.SELF, "'sha256-PlumsSlvJ7vvWzjqibGAYKq92O3y/4JTxWWsWJvyUYA='"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Whether a request must carry one of ORIGIN_VERIFY_SECRETS in X-Origin-Verify, the
# header only the site's CloudFront distribution adds (cms.middleware). Off off Lambda;
# production settings turn it on and require the secrets.
ORIGIN_VERIFY_REQUIRED = env.bool("ORIGIN_VERIFY_REQUIRED", default=False)
ORIGIN_VERIFY_SECRETS = env.list("ORIGIN_VERIFY_SECRETS", default=[])
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# LOGGING AND METRICS (the observability slice's block; docs/observability.md)
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/6.1/topics/logging/#configuring-logging
# Lambda ships stderr to CloudWatch: one line per record, plain at a terminal, JSON (the
# invocation's ids, stage, version, redacted, cms.logs) on Lambda and under production
# settings; LOG_FORMAT=json shows the production lines locally.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
_on_lambda = bool(env("AWS_LAMBDA_FUNCTION_NAME", default=""))
LOG_FORMAT = env("LOG_FORMAT", default="json" if _on_lambda else "plain")
LOGGING = _logs.logging_config(LOG_FORMAT, LOG_LEVEL)
# CloudWatch Embedded Metric Format lines on stderr (cms.metrics): on under production
# settings; off here, where they would only fill terminals and test captures.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=False)
METRICS_NAMESPACE = env("METRICS_NAMESPACE", default=_metrics.NAMESPACE)

# API
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
# Public and read-only: JSON only, no sessions or CSRF, anyone may GET.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sitecontent.api.views.handle_exception",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lambda CMS content API",
    "DESCRIPTION": "Read-only access to the site's live content. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sitecontent.api.schema.complete",
    ],
}
# https://github.com/adamchainz/django-cors-headers
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]

# CACHES
# ------------------------------------------------------------------------------
# In-process memory only: nothing to run. "pages" holds rendered public pages
# (sitecontent.caching.middleware); each Lambda container has its own.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

# CONTENT
# ------------------------------------------------------------------------------
ARTICLES_PER_PAGE = 10
# Seconds public responses may be cached by the CDN, by browsers, and served stale while
# the CDN revalidates; each is cut short before the next scheduled change.
CACHE_S_MAXAGE = env.int("CACHE_S_MAXAGE", default=300)
CACHE_MAX_AGE = env.int("CACHE_MAX_AGE", default=60)
CACHE_STALE_WHILE_REVALIDATE = env.int("CACHE_STALE_WHILE_REVALIDATE", default=60)
# Seconds a process may answer from pages it rendered before (never past a content
# change or the next scheduled one: sitecontent.caching.middleware); 0 turns the page
# cache off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# Seconds a preview link works for reviewers without an admin login.
PREVIEW_MAX_AGE = env.int("PREVIEW_MAX_AGE", default=3 * 24 * 3600)
