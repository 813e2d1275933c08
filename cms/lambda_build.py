"""Build and deploy the Lambda package. Run by ``make package`` and ``make deploy``.

    python -m cms.lambda_build package STAGE [--output PATH]
    python -m cms.lambda_build deploy STAGE [--first]   # --first: zappa deploy, not update
    python -m cms.lambda_build iam-policy STAGE          # print the stage's IAM policy

Zappa zips the virtualenv it runs from, so the build uses a runtime-only virtualenv
(``.build/venv``, from requirements.txt) and a copy of the project (``.build/src``),
never the developer's tree, its untracked files or test tools. In the copy it collects
static files (and, to deploy, writes the stage's IAM policy, cms/iam_policy.py); after
Zappa has zipped it, ``add_bytecode`` (Zappa's ``zip`` callback) adds bytecode compiled
with ``--invalidation-mode unchecked-hash``: Zappa stamps zip entries with a 1980 date,
so timestamp-checked bytecode never matches on Lambda and every cold start would
recompile everything.

Standard library only: this module runs before any dependency is installed, and is
excluded from the package (zappa_settings.json, exclude_glob).
"""

from __future__ import annotations  # annotations name cms.iam_policy, absent as a callback

import argparse
import compileall
import json
import os
import py_compile
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

try:
    from cms import iam_policy
except ImportError:  # Zappa loads this file alone as the zip callback, which needs none of it
    iam_policy = None

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
# Files that must never ship, whatever put them in the tree: environment files, keys,
# credentials, databases. Matched against each entry's file name.
SECRET_LOOKING_NAMES = re.compile(
    r"^(?:\.env(?:\..+)?|\.envrc|secrets?\.(?:json|ya?ml|toml|txt|env)|credentials(?:\.json)?"
    r"|\.netrc|\.pgpass|\.htpasswd|id_(?:rsa|dsa|ecdsa|ed25519)"
    r"|.+\.(?:key|p12|pfx|jks|keystore|ppk|sqlite3?|db))$",
    re.IGNORECASE,
)
# Any file holding a private key, whatever its name (a .pem of certificates is fine).
PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")


def build_env() -> dict:
    """Placeholders that let Django load production settings to collect static files (no
    database or AWS call happens while collecting). The keys are made for each build and
    thrown away, so no strong-looking key is ever committed, and they pass the same
    checks a real one must."""
    return {
        "DJANGO_SETTINGS_MODULE": "cms.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ORIGIN_VERIFY_SECRETS": secrets.token_urlsafe(32),
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


def git_files(*options, root=ROOT) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", *options], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in out.split("\0") if name]


def project_files(root=ROOT) -> list[str]:
    """Files git tracks, as they are in the working tree. Never untracked ones, ignored or
    not: a stray secrets.json or .env must be added to git before it could ship (and
    check_package refuses it even then)."""
    return [name for name in git_files("--cached", root=root) if (root / name).is_file()]


def copy_sources() -> None:
    shutil.rmtree(SRC, ignore_errors=True)
    if untracked := git_files("--others", "--exclude-standard"):
        shown = ", ".join(untracked[:5]) + (", …" if len(untracked) > 5 else "")
        log(f"left out {len(untracked)} untracked file(s) (git add to ship): {shown}")
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
        env=build_env(),
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
    if secret_files := secret_looking_files(zip_path):
        problems.append(f"secret-looking files inside: {', '.join(secret_files)}")
    if problems:
        raise BuildError(f"{zip_path.name}: " + "; ".join(problems))
    log(f"{zip_path.name}: {size / 2**20:.1f} MiB, {len(names)} files, checks passed")


def secret_looking_files(zip_path: Path) -> list[str]:
    """Entries named like secrets, or holding a private key: a second line of defence
    behind building from tracked files only."""
    found = []
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or name.endswith(".pyc"):
                continue
            named_like_one = SECRET_LOOKING_NAMES.match(name.rsplit("/", 1)[-1])
            if named_like_one or (
                info.file_size < 2**20 and PRIVATE_KEY.search(archive.read(info))
            ):
                found.append(name)
    return sorted(found)


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


def smoke(url: str, *, stage: str, through_cloudfront: bool) -> None:
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
    if status == 403 and through_cloudfront:
        raise BuildError(
            f"smoke request answered 403: {stage} refuses requests that did not come through "
            "its CloudFront distribution; smoke-test its site URL (SMOKE_URL or SITE_URL), "
            "not the API Gateway URL"
        )
    if status != 200:
        raise BuildError(f"smoke request answered {status}")


def _env_flag(value, default: bool) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def requires_cloudfront(config: dict) -> bool:
    """Whether the stage refuses requests that lack CloudFront's origin header (production
    settings require it unless the stage sets ORIGIN_VERIFY_REQUIRED off)."""
    env = config.get("aws_environment_variables", {})
    return _env_flag(env.get("ORIGIN_VERIFY_REQUIRED"), default=True)


def site_url_from_settings(config: dict) -> str:
    """The stage's public address as production settings work it out: SITE_URL, or the
    first ALLOWED_HOSTS entry when that is one host ("" when it is a wildcard)."""
    env = config.get("aws_environment_variables", {})
    if env.get("SITE_URL"):
        return env["SITE_URL"].rstrip("/")
    first = env.get("ALLOWED_HOSTS", "").split(",")[0].strip()
    if not first or first.startswith(".") or "*" in first:
        return ""
    return f"https://{first}"


# Run by the build virtualenv's Python (boto3 is there, not here). Prints the account and
# the few variables already on the function that the build reads, never the others: the
# function's environment holds its secrets.
AWS_FACTS = r"""
import json, sys
import boto3
from botocore.exceptions import ClientError
function, region, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
facts = {"account_id": boto3.client("sts", region_name=region).get_caller_identity()["Account"]}
try:
    configuration = boto3.client("lambda", region_name=region).get_function_configuration(
        FunctionName=function
    )
except ClientError as exc:
    if exc.response["Error"]["Code"] != "ResourceNotFoundException":
        raise
else:
    variables = (configuration.get("Environment") or {}).get("Variables") or {}
    facts["function_environment"] = {k: variables[k] for k in wanted if k in variables}
print(json.dumps(facts))
"""


def aws_facts(function: str, region: str) -> dict:
    ensure_runtime_venv()
    result = subprocess.run(
        [VENV / "bin/python", "-c", AWS_FACTS, function, region, "CLOUDFRONT_DISTRIBUTION_ID"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise BuildError(f"could not ask AWS for the account and function: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def policy_inputs(stage: str, config: dict, facts: dict | None) -> iam_policy.StageInputs:
    """What the stage's policy names: zappa_settings.json, the deployer's environment
    (AWS_ACCOUNT_ID, CLOUDFRONT_DISTRIBUTION_ID, SECRET_ARNS), then what AWS says (the
    account, the distribution id already on the function). A later source for stack
    outputs plugs in here the same way."""
    sources = [
        ("zappa_settings.json", iam_policy.from_zappa_settings(stage, config)),
        ("the environment", iam_policy.from_environment(os.environ)),
    ]
    if facts is not None:
        on_function = facts.get("function_environment", {})
        sources.append(
            (
                "AWS",
                {
                    "account_id": facts["account_id"],
                    "distribution_id": on_function.get("CLOUDFRONT_DISTRIBUTION_ID", ""),
                },
            )
        )
    try:
        return iam_policy.gather(*sources)
    except iam_policy.PolicyInputError as exc:
        raise BuildError(str(exc)) from exc


def write_policy(stage: str, inputs: iam_policy.StageInputs, *, into_build_copy: bool) -> Path:
    """The rendered policy in .build/iam/STAGE.json (for reviewers) and, to deploy, as the
    build copy's zappa_iam_policy.json, the file zappa_settings.json's attach_policy names."""
    text = json.dumps(iam_policy.render(inputs), indent=2) + "\n"
    review = BUILD / "iam" / f"{stage}.json"
    review.parent.mkdir(parents=True, exist_ok=True)
    review.write_text(text)
    if into_build_copy:
        (SRC / iam_policy.stage_settings(stage)["attach_policy"]).write_text(text)
    log(f"IAM policy for {stage}: {review.relative_to(ROOT)}")
    return review


def write_stage_overrides(stage: str, environment: dict, **settings) -> None:
    """Deploy-time values for the stage, in the build copy's zappa_settings.json only
    (Zappa sets aws_environment_variables on the function and keeps the others there)."""
    path = SRC / "zappa_settings.json"
    everything = json.loads(path.read_text())
    resolved = iam_policy.stage_settings(stage, path)
    resolved["aws_environment_variables"] = {
        **resolved.get("aws_environment_variables", {}),
        **environment,
    }
    everything[stage] = {**resolved, **settings}
    path.write_text(json.dumps(everything, indent=2) + "\n")


def api_url(stage: str) -> str | None:
    """The stage's API Gateway URL from ``zappa status``; None when it is not deployed."""
    try:
        output = zappa("status", stage, "--json", capture=True)
    except BuildError:
        return None
    status = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    return (status.get("API Gateway URL") or "").rstrip("/") or None


def deploy(stage: str, *, first: bool) -> None:
    """Build, update (or deploy the first time), migrate, smoke-test; stop at a failure.

    Zappa builds the zip itself here (with the same callback as ``package``): given a
    ready zip, ``zappa deploy`` skips creating the IAM role. The role gets the stage's
    rendered policy (Zappa replaces its inline policy on deploy and on update).

    A stage whose hosts are wildcards (dev: any execute-api host) has no address until
    its API exists: its SITE_URL is the API Gateway URL ``zappa status`` reports, set on
    the function by this command at every deploy, never copied by hand.
    """
    prepare()
    config = iam_policy.stage_settings(stage)
    function = iam_policy.from_zappa_settings(stage, config)["function_name"]
    facts = aws_facts(function, config["aws_region"])
    inputs = policy_inputs(stage, config, facts)
    write_policy(stage, inputs, into_build_copy=True)
    environment = {}
    if inputs.distribution_id:
        # The function purges the distribution its policy names: one value for both.
        environment["CLOUDFRONT_DISTRIBUTION_ID"] = inputs.distribution_id
    site_url = site_url_from_settings(config)
    through_cloudfront = requires_cloudfront(config)

    if first:
        # Secrets are not on a new function yet: Zappa's own request would fail.
        write_stage_overrides(stage, environment, touch=False)
        zappa("deploy", stage)  # also schedules the events
        url = api_url(stage)
        if not site_url:
            if not url:
                raise BuildError(f"zappa status reports no API Gateway URL for {stage}")
            site_url = url
            write_stage_overrides(stage, {**environment, "SITE_URL": site_url}, touch=False)
            zappa("update", stage)
    else:
        url = api_url(stage)
        if url is None:
            raise BuildError(f"{stage} is not deployed: the first deploy is make deploy FIRST=1")
        if not site_url:
            site_url = url
            environment["SITE_URL"] = site_url
        write_stage_overrides(stage, environment)
        zappa("update", stage)  # also reschedules the events
    zappa("manage", stage, "migrate --noinput")

    smoke_url = os.environ.get("SMOKE_URL") or (site_url if through_cloudfront else url)
    if not smoke_url:
        raise BuildError(
            f"No URL to smoke-test {stage}: it answers only through CloudFront, so set "
            "SMOKE_URL (or the stage's SITE_URL) to the site's address"
            if through_cloudfront
            else "No URL to smoke-test: set SMOKE_URL."
        )
    smoke(smoke_url.rstrip("/") + "/", stage=stage, through_cloudfront=through_cloudfront)
    log(f"{stage} deployed and answering")


def show_policy(stage: str) -> None:
    """Print the stage's policy (and write it under .build/iam/), asking AWS only for
    what the environment does not say."""
    config = iam_policy.stage_settings(stage)
    try:
        inputs = policy_inputs(stage, config, facts=None)
    except BuildError:
        function = iam_policy.from_zappa_settings(stage, config)["function_name"]
        inputs = policy_inputs(stage, config, aws_facts(function, config["aws_region"]))
    sys.stdout.write(write_policy(stage, inputs, into_build_copy=False).read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cms.lambda_build")
    parser.add_argument("command", choices=["package", "deploy", "iam-policy"])
    parser.add_argument("stage")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--first", action="store_true", help="zappa deploy instead of update")
    options = parser.parse_args(argv)
    output = (options.output or BUILD / f"lambda-cms-{options.stage}.zip").resolve()
    try:
        if options.command == "package":
            package(options.stage, output)
        elif options.command == "iam-policy":
            show_policy(options.stage)
        else:
            deploy(options.stage, first=options.first)
    except (BuildError, iam_policy.PolicyInputError) as exc:
        log(f"FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
