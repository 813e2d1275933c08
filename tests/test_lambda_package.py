"""The real Lambda zip: its contents and size, and a cold start in a fresh process."""

import base64
import json
import struct
import subprocess
import sys
import zipfile

import pytest

from cms.lambda_build import FORBIDDEN_TOP_LEVEL, MAX_ZIP_BYTES
from tests.lambda_fixtures import stage_config
from tests.lambda_runtime import (
    ROOT,
    api_event,
    build_bare_package,
    cold_start,
    production_env,
    runtime_sdk,
    seeded_database,
    unpack_like_lambda,
)

pytestmark = pytest.mark.package

# Modules a cold start to the home page may import beyond a bare Django project
# packaged the same way (210 when set: our models, admin, axes, storages, whitenoise…).
EXTRA_MODULES_BUDGET = 230


# Untracked files in the working tree while the package is built, one named like a
# secret and one not: neither may ship (the build copies tracked files only).
UNTRACKED = ("secrets.json", "cms/untracked_probe.py")
# The function Lambda calls, as zappa_settings.json names it.
ENTRY = stage_config("dev")["lambda_handler"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("package")
    zip_path = work / "lambda-cms-dev.zip"
    planted = [ROOT / name for name in UNTRACKED]
    try:
        for path in planted:
            path.write_text('{"SECRET_KEY": "planted-by-the-package-test"}\n')
        subprocess.run(
            [sys.executable, "-m", "cms.lambda_build", "package", "dev", "--output", str(zip_path)],
            cwd=ROOT,
            check=True,
        )
    finally:
        for path in planted:
            path.unlink(missing_ok=True)
    return {
        "zip": zip_path,
        "tree": unpack_like_lambda(zip_path, work / "tree"),
        "sdk": runtime_sdk(ROOT / ".build" / "runtime-sdk"),
        "env": production_env(seeded_database(work / "db.sqlite3")),
        "work": work,
    }


def test_zip_is_under_budget_and_carries_no_dev_tools(built):
    size = built["zip"].stat().st_size
    assert size < MAX_ZIP_BYTES, f"{size / 2**20:.1f} MiB"
    with zipfile.ZipFile(built["zip"]) as archive:
        names = archive.namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    assert not top_level & FORBIDDEN_TOP_LEVEL
    assert not top_level & {"tests", "docs", ".ci", "media", "boto3", "botocore"}
    assert "db.sqlite3" not in names
    assert "cms/lambda_build.py" not in names
    assert "cms/iam_policy.py" not in names
    assert "zappa_iam_policy.json" not in names
    assert [name for name in UNTRACKED if name in names] == []
    assert "cms/lambda_entry.py" in names
    assert "staticfiles/staticfiles.json" in names
    # CloudFront compresses; WhiteNoise's gzip copies would only take space.
    assert [n for n in names if n.startswith("staticfiles/") and n.endswith(".gz")] == []
    assert any(n.startswith("staticfiles/css/site.") and n.endswith(".css") for n in names)
    # Zappa's own "__pycache__/*" exclude never matches; ours must, or stale bytecode
    # ships and Zappa plants __init__.py files inside __pycache__ folders.
    assert not [n for n in names if n.endswith("__pycache__/__init__.py")]


def test_bytecode_is_unchecked_so_no_cold_start_recompiles(built):
    pyc = built["tree"] / "django/__pycache__/__init__.cpython-313.pyc"
    flags = struct.unpack("<I", pyc.read_bytes()[4:8])[0]
    assert flags == 0b01  # hash-based, not checked against the (1980-dated) source
    outcome = cold_start(
        built["tree"], built["sdk"], env=built["env"], extra_args=["-v"], entry=ENTRY
    )
    compiled_from_source = [
        line
        for line in outcome["stderr"].splitlines()
        if line.startswith("# code object from")
        and str(built["tree"]) in line
        and line.rstrip("'").endswith(".py")
    ]
    assert compiled_from_source == []


def test_cold_package_answers_the_home_page_from_the_database(built):
    outcome = cold_start(built["tree"], built["sdk"], env=built["env"], entry=ENTRY)
    assert outcome["status"] == 200
    assert "Latest articles" in outcome["body"]
    assert "Welcome to Lambda CMS" in outcome["body"]


@pytest.mark.parametrize("origin_secret", [None, "x" * 40], ids=["no-header", "wrong-secret"])
def test_cold_package_refuses_what_did_not_come_through_cloudfront(built, origin_secret):
    event = api_event("/", origin_secret=origin_secret)
    outcome = cold_start(built["tree"], built["sdk"], env=built["env"], event=event, entry=ENTRY)
    assert (outcome["status"], outcome["body"]) == (403, "Forbidden\n")


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        ("/api/v1/articles/", '"results"'),
        ("/api/v1/openapi.json", '"openapi"'),  # without PyYAML or jsonschema, left out
        ("/search/?q=welcome", "Welcome"),
        ("/feeds/rss/", "<rss"),
    ],
)
def test_cold_package_serves_the_api_search_and_feeds(built, path, expect):
    outcome = cold_start(built["tree"], built["sdk"], path=path, env=built["env"], entry=ENTRY)
    assert outcome["status"] == 200, outcome["body"][:500]
    body = outcome["body"]
    if outcome["b64"]:  # Zappa's binary support encodes all but text/* and JSON
        body = base64.b64decode(body).decode()
    assert expect in body


def test_native_dependencies_load_from_the_package(built):
    check = (
        "import sys, io; sys.path[:0] = [sys.argv[1]];"
        "import psycopg2, nh3; from PIL import Image;"
        "out = io.BytesIO(); Image.new('RGB', (4, 4)).save(out, 'WEBP');"
        "print(psycopg2.__version__.split()[0], Image.open(out).format)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", check, str(built["tree"])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split()[1] == "WEBP"


def test_cold_start_imports_little_beyond_a_bare_django_project(built):
    """Counts, not times (those are in `make bench`): every module a cold start imports
    is paid for on each one, and pages must not load the API's or the tools' stack."""
    bare_zip = build_bare_package(built["work"] / "bare", built["work"] / "bare.zip")
    bare = unpack_like_lambda(bare_zip, built["work"] / "bare-tree")
    ours = set(cold_start(built["tree"], built["sdk"], env=built["env"], entry=ENTRY)["modules"])
    theirs = set(cold_start(bare, built["sdk"], env={"AWS_DEFAULT_REGION": "eu-west-1"})["modules"])
    extra = ours - theirs
    print(f"cold start modules: ours {len(ours)}, bare {len(theirs)}, extra {len(extra)}")
    assert len(extra) <= EXTRA_MODULES_BUDGET, sorted(extra)
    tooling = ("rest_framework", "django_filters", "drf_spectacular.openapi", "django.test",
               "unittest", "yaml", "requests")  # fmt: skip
    assert sorted(m for m in extra if m.startswith(tooling)) == []


def test_the_package_carries_every_public_template_compiled_with_bytecode(built):
    folder = built["tree"] / "templates"
    sources = list(folder.rglob("*.jinja"))
    modules = sorted((folder / "compiled").glob("tmpl_*.py"))
    assert len(modules) == len(sources) >= 12
    bytecode = {p.name.split(".")[0] for p in (folder / "compiled" / "__pycache__").glob("tmpl_*")}
    assert bytecode == {p.stem for p in modules}
    # and the site's environment loads each from its module, none from its source
    probe = (
        "import sys; sys.path[:0] = sys.argv[1:3]; import os; os.chdir(sys.argv[1]);"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'cms.settings.production';"
        "import django; django.setup(); from django.template import engines;"
        "env = engines['jinja2'].env;"
        "print(*(env.get_template(n).filename.split('/')[-2] for n in sys.argv[3:]))"
    )
    names = [str(path.relative_to(folder)) for path in sources]
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(built["tree"]), str(built["sdk"]), *names],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **built["env"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["compiled"] * len(sources)


# Modules a restored SnapStart container imports between the restore and the end of its
# first home page: everything it needs was loaded and primed at init (cms.snapstart.prime;
# 0 when set, 26 before the priming took in the context processors, storages, caches and
# formats).
AFTER_RESTORE_MODULES_BUDGET = 3


def test_a_restored_snapstart_package_answers_with_django_loaded_at_init(built):
    outcome = cold_start(built["tree"], built["sdk"], env=built["env"], entry=ENTRY, restored=True)
    assert outcome["hooks"] == [1, 1]  # before-snapshot and after-restore, registered
    assert outcome["status"] == 200
    assert "Welcome to Lambda CMS" in outcome["body"]
    late = outcome["imported_after_restore"]
    print(f"modules imported after the restore: {len(late)}")
    # Django, the project's apps and the templates' libraries came with the snapshot.
    loaded_at_init = ("django.apps", "django.db.models", "cms.models", "sitecontent.models",
                      "django.template.defaulttags", "cms.public_urls")  # fmt: skip
    assert [m for m in late if m.startswith(loaded_at_init)] == []
    assert len(late) <= AFTER_RESTORE_MODULES_BUDGET, late


def test_a_plain_cold_start_leaves_django_to_the_first_request(built):
    """Without SnapStart (dev, staging) init stays as small as before: the entry point
    loads nothing of Django until an event comes."""
    probe = (
        "import sys; sys.path[:0] = sys.argv[1:3]; import os; os.chdir(sys.argv[1]);"
        "import cms.lambda_entry; print('django.apps.registry' in sys.modules and "
        "sys.modules['django.apps.registry'].apps.ready, 'snapshot_restore_py' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(built["tree"]), str(built["sdk"])],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **built["env"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["False", "False"]


# -- the SnapStart settings Zappa makes of the production stage --------------------------


@pytest.fixture(scope="module")
def production_cli(tmp_path_factory):
    """Zappa's CLI loaded with production's settings as make deploy writes them into the
    build copy (the committed stage with the stack's outputs filled in)."""
    from zappa.cli import ZappaCLI

    from tests.lambda_fixtures import deployed_settings_file

    settings_file = deployed_settings_file(tmp_path_factory.mktemp("production"), "production")
    cli = ZappaCLI()
    cli.api_stage = "production"
    cli.load_settings(str(settings_file))
    return cli


def test_production_publishes_snapstart_versions_and_keeps_enough_of_them(production_cli):
    assert production_cli.snap_start == "PublishedVersions"
    # Zappa's own alias would be "snapstart"; ours (blue/green) is "live".
    assert production_cli.apigateway_lambda_qualifier == "live"
    # A rollback needs the version before the live one, and SnapStart keeps a snapshot
    # per retained version.
    assert production_cli.num_retained_versions >= 2
    # Keep-warm pings would invoke $LATEST, which SnapStart never snapshots: only cost.
    assert production_cli.stage_config["keep_warm"] is False
    assert production_cli.stage_config.get("provisioned_concurrency") is None


def test_production_api_invokes_the_live_alias_never_latest(production_cli):
    cli = production_cli
    arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{cli.lambda_name}"
    template = cli.zappa.create_stack_template(
        lambda_arn=arn,
        lambda_name=cli.lambda_name,
        api_key_required=cli.api_key_required,
        iam_authorization=cli.iam_authorization,
        authorizer=cli.authorizer,
        cors_options=cli.cors,
        description=cli.apigateway_description,
        endpoint_configuration=cli.endpoint_configuration,
        apigateway_version=cli.apigateway_version,
        stage_name=cli.api_stage,
        lambda_qualifier=cli.apigateway_lambda_qualifier,
    ).to_dict()
    methods = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert methods
    for method in methods:
        uri = json.dumps(method["Properties"]["Integration"]["Uri"])
        assert f"function:{cli.lambda_name}:live/invocations" in uri, uri
