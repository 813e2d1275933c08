"""Start a Lambda package cold, the way the Python runtime does, without AWS.

The package is unzipped with the zip's own (1980) timestamps, as Lambda unpacks it, and
imported by a fresh ``python -S`` process whose path holds only the package and the AWS
SDK the runtime bundles (boto3 and its dependencies, which the package leaves out).
"""

import compileall
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_VENV = ROOT / ".build" / "venv"
# What the Lambda Python runtime ships next to the function's code.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")

COLD_START = r"""
import json, os, sys, time
started = time.perf_counter()
package, sdk, event, entry = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
os.chdir(package)
sys.path[:0] = [package, sdk]
import importlib
module, _, function = entry.rpartition(".")
response = getattr(importlib.import_module(module), function)(event, None)
elapsed = time.perf_counter() - started
import resource
print(json.dumps({"status": response["statusCode"], "ms": elapsed * 1000,
                  "cpu_ms": time.process_time() * 1000,
                  "body": response.get("body") or "", "b64": response.get("isBase64Encoded", False),
                  "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "modules": sorted(sys.modules)}))
"""


# A restored SnapStart container, as well as it can be modelled in one process: the init
# (the handler module's import, which loads Django under SnapStart) and the hooks Lambda
# runs before the snapshot happen before the clock starts; then the after-restore hooks
# and the first request, timed. Lambda's own restore of the memory is not modelled.
RESTORED = r"""
import json, os, resource, sys, time
package, sdk, event, entry = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
os.chdir(package)
sys.path[:0] = [package, sdk]
import importlib
init_started = time.perf_counter()
module, _, function = entry.rpartition(".")
handler = getattr(importlib.import_module(module), function)
import snapshot_restore_py as hooks
before, after = hooks.get_before_snapshot(), hooks.get_after_restore()
for hook, args, kwargs in before:
    hook(*args, **kwargs)
init_ms = (time.perf_counter() - init_started) * 1000
at_snapshot = set(sys.modules)
cpu_started, started = time.process_time(), time.perf_counter()
for hook, args, kwargs in after:
    hook(*args, **kwargs)
response = handler(event, None)
elapsed = time.perf_counter() - started
cpu = time.process_time() - cpu_started
print(json.dumps({"status": response["statusCode"], "ms": elapsed * 1000, "cpu_ms": cpu * 1000,
                  "init_ms": init_ms, "hooks": [len(before), len(after)],
                  "body": response.get("body") or "", "b64": response.get("isBase64Encoded", False),
                  "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "modules": sorted(sys.modules),
                  "imported_after_restore": sorted(set(sys.modules) - at_snapshot)}))
"""
# Provided by Lambda's Python runtime, not the package: the SnapStart hooks' registry.
RUNTIME_MODULES = ("snapshot_restore_py",)


def site_packages(venv: Path = BUILD_VENV) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def runtime_sdk(dest: Path) -> Path:
    """A folder with the runtime's bundled SDK, compiled as the runtime's is."""
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        source = site_packages()
        for name in RUNTIME_SDK:
            if (source / name).is_dir():
                shutil.copytree(source / name, dest / name)
            else:
                shutil.copy2(source / name, dest / name)
        compileall.compile_dir(dest, quiet=2, workers=0)
        (dest / ".complete").touch()
    for name in RUNTIME_MODULES:
        # From the dev tools (requirements-dev.txt pins the runtime's version).
        source = Path(importlib.util.find_spec(name).origin)
        if not (dest / source.name).exists():
            shutil.copy2(source, dest / source.name)
    return dest


def unpack_like_lambda(zip_path: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(dest)
        for info in archive.infolist():
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(dest / info.filename, (stamp, stamp))
    return dest


# What CloudFront's origin custom header carries in production_env (any 32+ characters).
ORIGIN_SECRET = "cold-start-origin-" + "o" * 32


def api_event(path="/", host="www.example.com", origin_secret=ORIGIN_SECRET):
    """A GET as API Gateway passes it on from CloudFront (with its origin header)."""
    path, _, query = path.partition("?")
    params = dict(urllib.parse.parse_qsl(query)) or None
    headers = {"Host": host, "X-Forwarded-Proto": "https", "User-Agent": "cold-start"}
    if origin_secret:
        headers["X-Origin-Verify"] = origin_secret
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": {k: [v] for k, v in params.items()} if params else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {"stage": "dev", "requestId": "cold", "httpMethod": "GET"},
        "body": None,
        "isBase64Encoded": False,
    }


def cold_start(
    package: Path, sdk: Path, *, path="/", env=None, extra_args=(), event=None,
    entry="handler.lambda_handler", restored=False,
) -> dict:  # fmt: skip
    """Answer one request from a fresh interpreter; returns status, body and timing.
    ``entry`` is the function Lambda calls (zappa_settings.json's lambda_handler).
    ``restored``: as a container restored from a SnapStart snapshot (RESTORED above)."""
    if restored:
        env = {**(env or {}), "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            *extra_args,
            "-c",
            RESTORED if restored else COLD_START,
            str(package),
            str(sdk),
            json.dumps(event or api_event(path)),
            entry,
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **(env or {})},
        timeout=120,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"cold start failed:\n{result.stderr[-3000:]}")
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    outcome["wall_ms"] = (time.perf_counter() - started) * 1000
    outcome["stderr"] = result.stderr
    return outcome


def production_env(database: Path) -> dict:
    return {
        "SECRET_KEY": "cold-start-" + "x" * 50,
        "ORIGIN_VERIFY_SECRETS": ORIGIN_SECRET,
        "ALLOWED_HOSTS": "www.example.com",
        "DATABASE_URL": f"sqlite:///{database}",
        "CDN_BACKEND": "cms.cdn.RecordingBackend",
        "MEDIA_BUCKET": "lambda-cms-dev-media",
        "MEDIA_DOMAIN": "www.example.com",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }


def seeded_database(path: Path) -> Path:
    """A SQLite database with the schema and demo content, made with the dev settings."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "DJANGO_SETTINGS_MODULE": "cms.settings.local",
        "MEDIA_ROOT": str(path.parent / "media"),
    }
    for command in (["migrate", "-v0"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return path


BARE_URLS = """
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path


def hello(request):
    return HttpResponse("Hello, world")


urlpatterns = [path("admin/", admin.site.urls), path("", hello)]
"""


def build_bare_package(work: Path, output: Path, venv: Path = BUILD_VENV) -> Path:
    """``django-admin startproject`` plus a hello-world view, zipped the way ours is:
    same excludes, same bytecode callback; by default from our runtime virtualenv (the
    benchmark passes one holding only Django and Zappa, see bare_venv)."""
    from cms.lambda_build import add_bytecode_to_zip
    from tests.lambda_fixtures import stage_config

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run([venv / "bin/django-admin", "startproject", "bare", str(work)], check=True)
    (work / "bare/urls.py").write_text(BARE_URLS)
    settings = work / "bare/settings.py"
    settings.write_text(
        settings.read_text()
        .replace("DEBUG = True", "DEBUG = False")
        .replace("ALLOWED_HOSTS = []", 'ALLOWED_HOSTS = ["www.example.com"]')
    )
    ours = stage_config("dev")
    (work / "zappa_settings.json").write_text(
        json.dumps(
            {
                "dev": {
                    "project_name": "bare",
                    "runtime": "python3.13",
                    "django_settings": "bare.settings",
                    "aws_region": "eu-west-1",
                    "s3_bucket": "bare-zappa",
                    "exclude": ours["exclude"],
                    # Not our locale excludes: a stock project translates (USE_I18N) and needs them.
                    "exclude_glob": [
                        g
                        for g in ours["exclude_glob"]
                        if g.startswith("django/") and "locale" not in g
                    ],
                }
            }
        )
    )
    subprocess.run(
        [venv / "bin/zappa", "package", "dev", "-o", str(output)],
        cwd=work,
        env={**os.environ, "VIRTUAL_ENV": str(venv)},
        check=True,
        capture_output=True,
    )
    add_bytecode_to_zip(output)
    return output


def bare_venv(dest: Path) -> Path:
    """A virtualenv with only Django and Zappa, at the versions requirements.txt pins:
    what a bare project would package."""
    pins = [
        line.split()[0]
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.lower().startswith(("django==", "zappa=="))
    ]
    stamp = dest / ".pins"
    if stamp.exists() and stamp.read_text() == " ".join(pins):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(dest)], check=True)
    subprocess.run(
        [
            dest / "bin/python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *pins,
        ],
        check=True,
    )
    stamp.write_text(" ".join(pins))
    return dest
