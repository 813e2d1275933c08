"""Every import is paid on each Lambda cold start: loading the site's URLs and answering
a request must not pull in modules that only tooling needs. A regression here shows in
`make bench` as slower cold starts; this test names the module that caused it."""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import clear_url_caches, get_resolver

from tests.lambda_runtime import production_env

# Loaded only when needed: the API's stack on the first API request (sitecontent.public.
# views.api), the OpenAPI generator and the test client it drags in on a request for the
# document. (DRF imports PyYAML whenever it is installed; the Lambda package leaves
# it out.)
NOT_FOR_PAGES = (
    # Feeds and the sitemap load their frameworks (and an XML writer) on first use.
    "sitecontent.public.feeds",
    "sitecontent.public.sitemaps",
    "django.contrib.syndication.views",
    "django.contrib.sitemaps.views",
    "xml.sax",
    # Direct uploads: the admin's upload views (sitecontent.admin.uploads) import them
    # when called.
    "sitecontent.media.uploads",
    # The API, every module of it: importing any one imports the package.
    "sitecontent.api",
    "sitecontent.api.views",
    "sitecontent.api.serializers",
    "sitecontent.api.filters",
    "sitecontent.api.pagination",
    "sitecontent.api.schema",
    "rest_framework.views",
    "rest_framework.serializers",
    "django_filters",
    "drf_spectacular.openapi",
    "django.test",
    "unittest",
    # Uploads only: the PDF parser.
    "pypdf",
    # The minute tick runs on its cron event, never for a request.
    "sitecontent.publishing.tick",
    # The editors' admin: its URLconf discovers it (cms.apps.AdminConfig), so neither
    # its ModelAdmins, forms and widgets nor the services they call load for a page.
    "cms.urls",
    "sitecontent.admin",
    "sitecontent.admin.content",
    "sitecontent.publishing.services",
    # Review email: the SES backend loads in the task that sends (Django's mailers import
    # their backend when a message goes out).
    "django_ses",
)
NOT_FOR_THE_API = ("drf_spectacular.openapi", "drf_spectacular.plumbing", "django.test")
# In production also: the task framework and its records (pages enqueue nothing; a save
# imports it; laptops and tests connect the inline backend's signals at start), the HTML
# sanitizer (saves only), byte checks and renditions (uploads and tasks only), and the
# AWS SDK.
NOT_FOR_PRODUCTION_PAGES = (
    "django.tasks",
    "cms.tasks",
    "cms.task_runs",
    "cms.task_backends",
    "sitecontent.tasks",
    "nh3",
    "sitecontent.media.inspection",
    "sitecontent.media.imageformats",
    "sitecontent.media.rendering",
    # Local media serving (laptops, browser tests) and the tick's marker (saves).
    "django.views.static",
    "sitecontent.publishing.tick_gate",
    # The AWS SDK: pages on S3 media build no client until a file is stored, and secrets
    # come from plain variables here (cms.secrets imports boto3 only for an ARN).
    "boto3",
    "botocore",
)

PROBE = r"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.local")
import django
django.setup()
from django.urls import resolve, reverse
from django.template import engines
engines.all()  # imports every installed app's template tag libraries
# As a public request does (cms.middleware): against the URLconf without the admin.
reverse("sitecontent:home", urlconf="cms.public_urls")  # fills its reverse tables
resolve(sys.argv[1], urlconf="cms.public_urls")
if sys.argv[1].startswith("/api/"):
    resolve(sys.argv[1], urlconf="sitecontent.api.urls")
print(json.dumps(sorted(sys.modules)))
"""


# A production container's first pages, rendered (images, their renditions' URLs, the
# templates, the ORM) through the WSGI handler, as Zappa's handler calls it.
RENDER_PROBE = r"""
import io, json, os, sys
sys.path.insert(0, os.getcwd())
from django.conf import settings
# The package's static manifest is made by its build; unhashed static URLs here.
settings.STORAGES = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.core.wsgi import get_wsgi_application
app = get_wsgi_application()
pages = {}
for path in sys.argv[1:]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_NAME": "www.example.com", "SERVER_PORT": "443",
               "HTTP_HOST": "www.example.com", "wsgi.url_scheme": "https",
               "HTTP_X_FORWARDED_PROTO": "https",
               "HTTP_X_ORIGIN_VERIFY": os.environ["ORIGIN_VERIFY_SECRETS"],
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    status = []
    body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    media = ("https://" + os.environ["MEDIA_DOMAIN"] + "/media/").encode()
    pages[path] = [status[0], body.count(media)]
print(json.dumps({"pages": pages, "modules": sorted(sys.modules)}))
"""
RENDERED = ("/", "/articles/", "/articles/welcome/")


@pytest.fixture(scope="module")
def production_render(tmp_path_factory):
    """What rendering the first pages loads under production settings (S3 media)."""
    from tests.lambda_runtime import seeded_database

    database = seeded_database(tmp_path_factory.mktemp("render") / "db.sqlite3")
    result = subprocess.run(
        [sys.executable, "-c", RENDER_PROBE, *RENDERED],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": "/nonexistent",
            "DJANGO_SETTINGS_MODULE": "cms.settings.production",
            **production_env(database),
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome["pages"], set(outcome["modules"])


def loaded_for(path, **env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, path],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_pages_load_no_api_or_tooling_modules():
    loaded = loaded_for("/articles/")
    assert {m for m in NOT_FOR_PAGES if m in loaded} == set()


def test_the_api_loads_its_stack_but_not_the_schema_generator():
    loaded = loaded_for("/api/v1/articles/")
    assert {"rest_framework.views", "django_filters", "sitecontent.api.views"} <= loaded
    assert {"sitecontent.api.serializers", "sitecontent.api.filters"} <= loaded
    assert {m for m in NOT_FOR_THE_API if m in loaded} == set()


def test_production_pages_load_no_task_sanitizer_or_media_modules(tmp_path):
    env = production_env(tmp_path / "db.sqlite3")
    loaded = loaded_for("/articles/", DJANGO_SETTINGS_MODULE="cms.settings.production", **env)
    assert "sitecontent.public.views" in loaded  # the probe did load the site
    assert {m for m in (*NOT_FOR_PAGES, *NOT_FOR_PRODUCTION_PAGES) if m in loaded} == set()


def test_production_pages_with_images_format_media_urls_without_the_aws_sdk(
    production_render,
):
    """cms.storage.MediaStorage formats CloudFront media URLs itself: S3Storage, and with
    it boto3 and botocore (about 235 modules), load on the first save, open or exists."""
    pages, loaded = production_render
    assert {path: status for path, (status, _) in pages.items()} == dict.fromkeys(
        RENDERED, "200 OK"
    )
    assert all(media_urls for _, media_urls in pages.values())  # images were rendered
    sdk = {m for m in loaded if m.split(".")[0] in ("boto3", "botocore", "s3transfer")}
    assert sdk == set()
    assert "storages.backends.s3" not in loaded
    # (nh3 does load: the richtext filter sanitizes bodies on the way out.)
    unwanted = {*NOT_FOR_PAGES, *NOT_FOR_PRODUCTION_PAGES} - {"nh3"}
    assert {m for m in unwanted if m in loaded} == set()


@pytest.mark.django_db
def test_public_requests_never_build_the_admin_url_table(client):
    # The first reverse() against cms.urls builds the table of every admin URL (about
    # 5 ms of a cold start); public requests use cms.public_urls instead.
    clear_url_caches()
    try:
        response = client.get("/articles/")
        assert response.status_code == 200
        assert response.wsgi_request.urlconf == "cms.public_urls"
        assert not get_resolver("cms.urls")._populated
        # The admin, and the way into it, still answer.
        assert client.get("/admin").headers["Location"] == "/admin/"
        assert client.get("/admin/login/").status_code == 200
        assert get_resolver("cms.urls")._populated
    finally:
        clear_url_caches()


def test_the_admin_is_discovered_by_its_urlconf_and_its_checks():
    """Start-up registers no ModelAdmin (pages never pay for them); the admin's URLconf
    and `manage.py check` discover them all."""
    code = (
        "import os, json, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cms.settings.local');"
        "django.setup();"
        "from django.contrib import admin;"
        "from django.core import checks;"
        "at_start = len(admin.site._registry);"
        "errors = checks.run_checks(tags=['admin']);"
        "after_checks = len(admin.site._registry);"
        "print(json.dumps([at_start, after_checks, len(errors)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    at_start, after_checks, errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert at_start == 0
    assert after_checks >= 10  # articles, pages, media, users, redirects, task runs…
    assert errors == 0
    from django.contrib import admin

    import cms.urls  # noqa: F401 (what every admin request loads)
    from sitecontent.models import Article

    assert admin.site.is_registered(Article)


def test_the_lists_name_modules_that_exist():
    """A module renamed or moved would leave its old name here guarding nothing."""
    import importlib.util

    ours = [
        name
        for name in (*NOT_FOR_PAGES, *NOT_FOR_THE_API, *NOT_FOR_PRODUCTION_PAGES)
        if name.split(".")[0] in ("cms", "sitecontent")
    ]
    assert [name for name in ours if importlib.util.find_spec(name) is None] == []
    assert len(ours) >= 15
