"""Build and deploy the Lambda package. Run by ``make package`` and ``make deploy``.

    python -m cms.lambda_build package STAGE [--output PATH]
    python -m cms.lambda_build deploy STAGE [--first]   # --first: zappa deploy, not update

Zappa zips the virtualenv it runs from, so the build uses a runtime-only virtualenv
(``.build/venv``, from requirements.txt) and a copy of the project (``.build/src``),
never the developer's tree or test tools. In the copy it collects static files; after
Zappa has zipped it, ``add_bytecode`` (Zappa's ``zip`` callback) adds bytecode compiled
with ``--invalidation-mode unchecked-hash``: Zappa stamps zip entries with a 1980 date,
so timestamp-checked bytecode never matches on Lambda and every cold start would
recompile everything.

Standard library only: this module runs before any dependency is installed, and is
excluded from the package (zappa_settings.json, exclude_glob).
"""

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".build"
VENV = BUILD / "venv"
SRC = BUILD / "src"

# Zipped size budget (Lambda allows 50 MiB zipped for direct upload; smaller is faster).
MAX_ZIP_BYTES = 20 * 1024 * 1024
# Packages that must never reach Lambda: test and build tools.
FORBIDDEN_TOP_LEVEL = {
    "pytest",
    "_pytest",
    "pytest_django",
    "moto",
    "factory",
    "faker",
    "time_machine",
    "ruff",
    "piptools",
    "pip",
    "setuptools",
    "playwright",
    "schemathesis",
    "hypothesis",
    # DRF imports PyYAML at startup whenever it is present; only tooling needs it.
    "yaml",
}
# Placeholders that let Django load production settings to collect static files
# (no database or AWS call happens while collecting).
BUILD_ENV = {
    "DJANGO_SETTINGS_MODULE": "cms.settings.production",
    "SECRET_KEY": "build-only-not-secret",
    "ALLOWED_HOSTS": "build.invalid",
    "DATABASE_URL": "sqlite://:memory:",
    "CDN_BACKEND": "cms.cdn.RecordingBackend",
    "MEDIA_BUCKET": "build.invalid",
    "MEDIA_DOMAIN": "build.invalid",
}


class BuildError(Exception):
    pass


def log(message: str) -> None:
    print(f"[lambda-build] {message}", flush=True)


def run(args, *, cwd=ROOT, env=None) -> None:
    log("$ " + " ".join(str(a) for a in args))
    result = subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, check=False)
    if result.returncode:
        raise BuildError(f"{args[0]} exited with {result.returncode}")


def zappa_env() -> dict:
    # Zappa packages the virtualenv named here, whatever venv the caller has active.
    bin_dir = VENV / "bin"
    return {"VIRTUAL_ENV": str(VENV), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def ensure_runtime_venv() -> None:
    """A virtualenv with requirements.txt only, rebuilt when the requirements change."""
    requirements = (ROOT / "requirements.txt").read_bytes()
    stamp = VENV / ".requirements"
    if stamp.exists() and stamp.read_bytes() == requirements:
        return
    if sys.version_info[:2] != (3, 13):
        raise BuildError("Build with Python 3.13, the Lambda runtime's version.")
    shutil.rmtree(VENV, ignore_errors=True)
    run([sys.executable, "-m", "venv", VENV])
    run([VENV / "bin/python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", ROOT / "requirements.txt"])  # fmt: skip
    stamp.write_bytes(requirements)


def project_files() -> list[str]:
    """Tracked and new files, without what .gitignore keeps out (db.sqlite3, media…)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def copy_sources() -> None:
    shutil.rmtree(SRC, ignore_errors=True)
    for name in project_files():
        target = SRC / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def prepare() -> None:
    """The runtime virtualenv and a copy of the project with static files collected."""
    ensure_runtime_venv()
    copy_sources()
    run(
        [VENV / "bin/python", "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=SRC,
        env=BUILD_ENV,
    )


def package(stage: str, output: Path) -> Path:
    prepare()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    zappa("package", stage, "-o", output)
    return output


def add_bytecode(zappa_cli) -> None:
    """Zappa ``zip`` callback (any command that builds a zip): add unchecked-hash
    bytecode for every module, then check the package before it goes anywhere."""
    zip_path = Path(zappa_cli.zip_path)
    add_bytecode_to_zip(zip_path)
    check_package(zip_path)


def add_bytecode_to_zip(zip_path: Path) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lambda-bytecode-") as tmp:
        tree = Path(tmp) / "tree"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tree)
        # ddir makes tracebacks show Lambda's paths rather than this temporary folder.
        compileall.compile_dir(
            tree,
            ddir="/var/task",
            quiet=2,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        rebuilt = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(tree.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(str(path.relative_to(tree)))
                    info.create_system = 3
                    info.external_attr = 0o755 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, path.read_bytes())
        rebuilt.replace(zip_path)
    log(f"added unchecked-hash bytecode in {time.monotonic() - started:.1f}s")


def check_package(zip_path: Path) -> None:
    size = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    problems = []
    if size > MAX_ZIP_BYTES:
        problems.append(
            f"{size / 2**20:.1f} MiB is over the {MAX_ZIP_BYTES / 2**20:.0f} MiB budget"
        )
    if shipped := sorted(top_level & FORBIDDEN_TOP_LEVEL):
        problems.append(f"dev packages inside: {', '.join(shipped)}")
    for required in (
        "handler.py",
        "zappa_settings.py",
        "manage.py",
        "staticfiles/staticfiles.json",
    ):
        if required not in names:
            problems.append(f"missing {required}")
    if not any(n.endswith(".cpython-313.pyc") and n.startswith("django/") for n in names):
        problems.append("no bytecode for Django")
    if problems:
        raise BuildError(f"{zip_path.name}: " + "; ".join(problems))
    log(f"{zip_path.name}: {size / 2**20:.1f} MiB, {len(names)} files, checks passed")


def zappa(*args, capture=False):
    command = [str(VENV / "bin/zappa"), *map(str, args)]
    log("$ zappa " + " ".join(map(str, args)))
    result = subprocess.run(
        command, cwd=SRC, env={**os.environ, **zappa_env()}, capture_output=capture,
        text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        if capture:
            sys.stderr.write(result.stdout + result.stderr)
        raise BuildError(f"zappa {args[0]} exited with {result.returncode}")
    return result.stdout if capture else None


def smoke(url: str) -> None:
    import urllib.error
    import urllib.request

    log(f"smoke request: GET {url}")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (URL from zappa)
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, TimeoutError) as exc:
        raise BuildError(f"smoke request failed: {exc}") from exc
    if status != 200:
        raise BuildError(f"smoke request answered {status}")


def deploy(stage: str, *, first: bool) -> None:
    """Build, update (or deploy the first time), migrate, smoke-test; stop at a failure.

    Zappa builds the zip itself here (with the same callback as ``package``): given a
    ready zip, ``zappa deploy`` skips creating the IAM role.
    """
    prepare()
    zappa("deploy" if first else "update", stage)  # also (re)schedules the events
    zappa("manage", stage, "migrate --noinput")
    output = zappa("status", stage, "--json", capture=True)
    status = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    url = os.environ.get("SMOKE_URL") or status.get("API Gateway URL")
    if not url:
        raise BuildError("No URL to smoke-test: set SMOKE_URL (for example the CloudFront URL).")
    smoke(url.rstrip("/") + "/")
    log(f"{stage} deployed and answering")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cms.lambda_build")
    parser.add_argument("command", choices=["package", "deploy"])
    parser.add_argument("stage")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--first", action="store_true", help="zappa deploy instead of update")
    options = parser.parse_args(argv)
    output = (options.output or BUILD / f"lambda-cms-{options.stage}.zip").resolve()
    try:
        if options.command == "package":
            package(options.stage, output)
        else:
            deploy(options.stage, first=options.first)
    except BuildError as exc:
        log(f"FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
