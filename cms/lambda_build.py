"""Build and deploy the Lambda package. Run by ``make package`` and ``make deploy``.

    python -m cms.lambda_build package STAGE [--output PATH]
    python -m cms.lambda_build deploy STAGE [--first]   # build, zappa deploy or update, release
    python -m cms.lambda_build iam-policy STAGE          # print the stage's role policy

Zappa zips the virtualenv it runs from, so the build uses a runtime-only virtualenv
(``.build/venv``, from requirements.txt) and a copy of the project (``.build/src``),
never the developer's tree, its untracked files or test tools. In the copy it collects
static files (and, to deploy, writes the stage's zappa settings from its stack's outputs:
``stage_settings_from_outputs``); after Zappa has zipped it, ``add_bytecode`` (Zappa's
``zip`` callback) adds bytecode compiled with ``--invalidation-mode unchecked-hash``:
Zappa stamps zip entries with a 1980 date, so timestamp-checked bytecode never matches on
Lambda and every cold start would recompile everything.

Standard library only: this module runs before any dependency is installed, and is
excluded from the package (zappa_settings.json, exclude_glob). What needs boto3 (reading
the stack, setting its ApiDomain parameter: infra/) runs in the build virtualenv.

A deploy is a release (infra/release.py, docs/releases.md): Zappa puts the new code on
``$LATEST`` and the release publishes it as a version, migrates, smoke-tests it through its
own qualifier and moves the ``live`` alias (the one the API and every event source
invoke) to it, or leaves ``live`` where it was. Before anything is uploaded the new
migrations are checked to keep the serving version working (infra/migration_safety.py).

``INFRA_OUTPUTS=path.json`` (a JSON object of output names to values) supplies outputs the
stack lacks. It exists for rehearsals on moto, whose CloudFormation creates no CloudFront
distribution, secret or database and drops the outputs that name them; it never replaces
an output the stack has.
"""

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
import urllib.parse
import zipfile
from pathlib import Path

try:
    from cms import iam_policy
    from infra import config as infra_config
except ImportError:  # Zappa loads this file alone as the zip callback, which needs none of it
    iam_policy = infra_config = None

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
    # The public templates as modules, so a cold start imports them instead of compiling.
    compile_public = (
        "from django.conf import settings; from sitecontent.public.templating import "
        "compile_templates; print(len(compile_templates(settings.BASE_DIR / 'templates')),"
        " 'public templates compiled')"
    )
    run([VENV / "bin/python", "manage.py", "shell", "-c", compile_public], cwd=SRC, env=build_env())


def package(stage: str, output: Path) -> Path:
    prepare()
    if is_branch_stage(stage):
        # Listed in no settings file: the build copy's gets it, as deploy's does.
        write_stage(stage, iam_policy.stage_settings(stage))
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


def strip_metadata_descriptions(tree: Path) -> None:
    """Keep only the headers of each installed package's METADATA. importlib.metadata
    reads those (django-ses takes its version from them at import); the body is the
    package's README, about 200 KiB zipped across the package, and one (django-ses's)
    quotes a private key block as a setup example, which check_package rightly refuses."""
    for metadata in tree.glob("*.dist-info/METADATA"):
        text = metadata.read_text(encoding="utf-8", errors="replace")
        headers = text.split("\n\n", 1)[0]
        metadata.write_text(headers.rstrip("\n") + "\n", encoding="utf-8")


def add_bytecode_to_zip(zip_path: Path) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lambda-bytecode-") as tmp:
        tree = Path(tmp) / "tree"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tree)
        strip_metadata_descriptions(tree)
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
    if args and args[0] == "undeploy":
        # Releases put the event sources on the function's live alias (infra.release);
        # Zappa's undeploy only looks for them on the unqualified function.
        infra_call(DETACH_EVENTS, str(args[1]), capture=False)
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


# The stage stack's outputs (infra.config.OUTPUT_KEYS, docs/deploy.md) that make deploy
# turns into the build copy's zappa settings; Stage is checked against the stage being
# deployed. The others are for people (DistributionDomain, AlarmTopicArn) or optional.
NOT_REQUIRED = {"DistributionDomain", "AlarmTopicArn", "PurgeFunctionName"}
REQUIRED_OUTPUTS = tuple(
    key for key in (infra_config.OUTPUT_KEYS if infra_config else ()) if key not in NOT_REQUIRED
)
# Function variable: the output it holds. Names and addresses only: the secrets stay in
# Secrets Manager, and production settings read them by these ARNs at start.
OUTPUT_VARIABLES = {
    "MEDIA_BUCKET": "MediaBucket",
    "MEDIA_DOMAIN": "SiteDomain",
    "ALLOWED_HOSTS": "SiteDomain",
    "CLOUDFRONT_DISTRIBUTION_ID": "DistributionId",
    "DJANGO_SECRET_ARN": "DjangoSecretArn",
    "ORIGIN_VERIFY_SECRET_ARN": "OriginVerifySecretArn",
    "DATABASE_SECRET_ARN": "DatabaseSecretArn",
    "DATABASE_HOST": "DatabaseHost",
    "DATABASE_PORT": "DatabasePort",
    "DATABASE_NAME": "DatabaseName",
}
# Set when the stack has the output, left out when it has not.
OPTIONAL_OUTPUT_VARIABLES = {"CDN_PURGE_FUNCTION": "PurgeFunctionName"}
DERIVED_VARIABLES = (
    "STAGE",
    "SITE_URL",
    "CSRF_TRUSTED_ORIGINS",
    "CDN_BACKEND",
    "PUBLISHING_TICK_MARKER",
    "CONN_MAX_AGE",
    "DATABASE_CONNECT_TIMEOUT",
    "DEFAULT_FROM_EMAIL",
)
# Seconds a connection may take on stages whose Aurora cluster pauses (docs/database.md).
AURORA_CONNECT_TIMEOUT = 35
# "${OutputKey}" in an event source's ARN (zappa_settings.json): the deploy writes the
# stage's output there, so the committed file names no stage's bucket or queue.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def stage_settings_from_outputs(stage: str, config: dict, outputs: dict) -> dict:
    """The stage's resolved zappa settings with what its stack made: the execution role
    (the stack owns it and its policy, so Zappa must not manage roles), the VPC, the
    dead-letter queue, the function's variables and the event sources' ARNs.

    The committed settings may not set a variable that comes from the stack: two homes
    for one value would drift, and the stack is the one that knows."""
    if missing := [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]:
        raise BuildError(
            f"The {stage} stack has no output {', '.join(missing)}: run make infra "
            f"STAGE={stage} to bring the stack up to date"
        )
    if outputs["Stage"] != stage:
        raise BuildError(f"The stack read for {stage} is {outputs['Stage']!r}'s")
    env = dict(config.get("aws_environment_variables", {}))
    site_url = f"https://{outputs['SiteDomain']}"
    from_stack = {name: outputs[key] for name, key in OUTPUT_VARIABLES.items()}
    from_stack |= {name: outputs[key] for name, key in OPTIONAL_OUTPUT_VARIABLES.items()
                   if outputs.get(key)}  # fmt: skip
    from_stack |= {
        # Every log line and metric names its stage (cms.logs). Zappa's handler sets it
        # too, once instantiated; this one is there from the first line of a container.
        "STAGE": stage,
        "SITE_URL": site_url,
        "CSRF_TRUSTED_ORIGINS": site_url,
        "CDN_BACKEND": iam_policy.CLOUDFRONT_BACKEND,
        # The minute tick leaves the database alone while nothing is due
        # (sitecontent.publishing.tick_gate; its marker is in the media bucket, under
        # state/).
        "PUBLISHING_TICK_MARKER": "s3",
    }
    try:
        stage_config = infra_config.load(stage)
    except infra_config.ConfigError as exc:
        raise BuildError(str(exc)) from exc
    database = stage_config.database
    if stage_config.mail_from:
        # The sender the stack made an SES identity of, and the role may send as.
        from_stack["DEFAULT_FROM_EMAIL"] = stage_config.mail_from
    if database == "aurora-serverless":
        # Aurora pauses only when nothing is connected: close after each request.
        from_stack["CONN_MAX_AGE"] = "0"
        # A paused cluster resumes when a connection arrives (about 15 s, 30 s after a day
        # paused): the first request waits for it rather than failing at the default 5 s.
        # Still below the function's timeout.
        from_stack["DATABASE_CONNECT_TIMEOUT"] = str(AURORA_CONNECT_TIMEOUT)
    # Reserved concurrency: one database connection per warm container, so no more
    # containers than the connections the site may hold (RDS Proxy's pool, or Aurora's
    # max_connections less the reserved ones), capped per stage to fit the account:
    # min(site_connections, STAGE_CONCURRENCY_CAP) (infra.config, docs/database.md).
    concurrency = infra_config.lambda_concurrency(stage_config)
    if config.get("lambda_concurrency") not in (None, concurrency):
        raise BuildError(
            f"zappa_settings.json sets lambda_concurrency for {stage}; make deploy derives it "
            f"from the database's connections ({concurrency}): remove it from the file"
        )
    clashing = sorted(
        name
        for name in (*OUTPUT_VARIABLES, *OPTIONAL_OUTPUT_VARIABLES, *DERIVED_VARIABLES)
        if name in env and env[name] != from_stack.get(name)
    )
    if clashing:
        raise BuildError(
            f"zappa_settings.json sets {', '.join(clashing)} for {stage}; make deploy sets "
            "them from the stage's stack: remove them from the file"
        )

    def fill(text: str) -> str:
        def output(match):
            if match[1] not in outputs:
                raise BuildError(f"{text!r} in zappa_settings.json names no output of the stack")
            return outputs[match[1]]

        return PLACEHOLDER.sub(output, text)

    events = []
    for event in config.get("events", []):
        event = json.loads(json.dumps(event))  # the caller's config stays as it was
        if "event_source" in event:
            event["event_source"]["arn"] = fill(event["event_source"]["arn"])
        events.append(event)
    return {
        **config,
        # Zappa's package bucket: the stack's, named for the account (names are global).
        "s3_bucket": outputs["DeploymentBucket"],
        "role_arn": outputs["FunctionRoleArn"],
        "manage_roles": False,
        "vpc_config": {
            "SubnetIds": [s.strip() for s in outputs["SubnetIds"].split(",") if s.strip()],
            "SecurityGroupIds": [outputs["FunctionSecurityGroupId"]],
        },
        "dead_letter_arn": outputs["DeadLetterQueueArn"],
        "lambda_concurrency": concurrency,
        "aws_environment_variables": {**env, **from_stack},
        "events": events,
    }


# Run by the build virtualenv's Python, in the repository (boto3 and troposphere are
# there, not necessarily here): infra/ reads the stack and updates its parameter.
# Prints {"outputs": {...}} (None: the stage has no stack) or {"error": "..."}; the
# outputs include INFRA_OUTPUTS's for those the stack lacks (infra.deploy.merge_supplied).
STACK_OUTPUTS = r"""
import json, sys
from infra import deploy
stage = sys.argv[1]
try:
    settings = deploy.load_stage(stage)
    cf = deploy.client("cloudformation", settings.region)
    if deploy.describe_stack(cf, settings.names.stack) is None:
        print(json.dumps({"outputs": None}))
    else:
        print(json.dumps({"outputs": deploy.stack_outputs(stage, complete=False)}))
except deploy.DeployError as exc:
    print(json.dumps({"error": str(exc)}))
"""
SET_API_DOMAIN = r"""
import sys
from infra.deploy import set_api_domain
set_api_domain(sys.argv[1], sys.argv[2])
"""
DETACH_EVENTS = r"""
import sys
from infra.release import detach_event_sources
detach_event_sources(sys.argv[1])
"""
RELEASE_STATE = r"""
import json, sys
from infra import release
print(json.dumps(release.state(sys.argv[1])))
"""
ROLE_POLICY = r"""
import json, sys
from infra.template import role_policy
print(json.dumps(role_policy(sys.argv[1]), indent=2))
"""


def infra_call(script: str, *args: str, capture: bool) -> str:
    ensure_runtime_venv()
    result = subprocess.run(
        [VENV / "bin/python", "-c", script, *args],
        cwd=ROOT, capture_output=capture, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise BuildError(f"infra ({' '.join(args)}) failed{': ' + detail[0] if detail else ''}")
    return result.stdout if capture else ""


def stage_outputs(stage: str) -> dict:
    """The stage stack's outputs, plus INFRA_OUTPUTS's for those it lacks
    (infra.deploy.stack_outputs merges them, and refuses one that contradicts the stack)."""
    answer = json.loads(infra_call(STACK_OUTPUTS, stage, capture=True).strip().splitlines()[-1])
    if "error" in answer:
        raise BuildError(answer["error"])
    if not answer["outputs"]:
        raise BuildError(f"{stage} has no infrastructure stack: run make infra STAGE={stage} first")
    return answer["outputs"]


def write_stage(stage: str, resolved: dict) -> None:
    """The stage as the deploy resolved it, in the build copy's zappa_settings.json only
    (Zappa sets aws_environment_variables on the function and keeps the others there)."""
    path = SRC / "zappa_settings.json"
    everything = json.loads(path.read_text())
    everything[stage] = resolved
    path.write_text(json.dumps(everything, indent=2) + "\n")


def write_build_settings(stage: str) -> None:
    """A fresh build copy whose zappa_settings.json has the stage as deployed, for Zappa
    commands other than deploy and update (``make destroy``'s ``zappa undeploy`` must find
    the bucket and queue its event sources name). Without a stack to read, the events
    that name its outputs are left out, and said so: the committed placeholders are no
    ARN Zappa could act on."""
    config = iam_policy.stage_settings(stage)
    copy_sources()
    try:
        resolved = stage_settings_from_outputs(stage, config, stage_outputs(stage))
    except BuildError as exc:
        kept = [e for e in config.get("events", [])
                if not PLACEHOLDER.search(e.get("event_source", {}).get("arn", ""))]  # fmt: skip
        log(f"{exc}; left out the event sources that name the stack's outputs")
        resolved = {**config, "events": kept}
    write_stage(stage, resolved)


def api_url(stage: str) -> str | None:
    """The stage's API Gateway URL from ``zappa status``; None when it is not deployed."""
    try:
        output = zappa("status", stage, "--json", capture=True)
    except BuildError:
        return None
    status = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    return (status.get("API Gateway URL") or "").rstrip("/") or None


def is_branch_stage(stage: str) -> bool:
    """A stage made per branch from the preview template (infra.config's rule)."""
    return infra_config is not None and infra_config.is_branch_stage(stage)


def for_zappa(resolved: dict, *, first: bool) -> dict:
    """The stage as Zappa's deploy and update get it. The events are left out: Zappa would
    point them at the unqualified function ($LATEST: code no smoke test has passed), and
    the release points them at the live alias itself (infra.release.attach_event_sources,
    with Zappa's own code). On a first deploy the API is made in the same step as the
    function, before any alias can exist, so it invokes the function unqualified until
    the release has made ``live`` and run ``zappa update --no-upload`` with the qualifier
    (nothing reaches it before: CloudFront's origin is set after)."""
    # Zappa's pruning of old versions is off too: it would delete the version live serves
    # after a rollback (the release prunes, keeping what live and its history need).
    zappa_view = {**resolved, "events": [], "keep_warm": False, "num_retained_versions": None}
    if first:
        zappa_view.pop("apigateway_lambda_qualifier", None)
    return zappa_view


# The management commands the release runs in a new version (infra.release), each one
# cms.lambda_entry.MANAGE_COMMANDS allows: its migrations, its smoke test, and a new
# branch stage's content.
MIGRATE = "migrate --noinput"
SMOKE = "release_smoke"
SEED = "seed_demo --force --content-only"
# Migration files of the project (its apps' migrations/ folders).
MIGRATION_FILE = re.compile(r"(?:^|/)migrations/\d{4}_\w+\.py$")
ALLOW_DESTRUCTIVE = "ALLOW_DESTRUCTIVE_MIGRATIONS"


def head_commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def new_migrations(since: str) -> list[str]:
    """The migration files this build ships that commit ``since`` (the serving version's)
    did not have."""
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", since], cwd=ROOT, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    if listed.returncode:
        raise BuildError(
            f"the serving version was built from commit {since}, which this clone does not "
            f"have, so its new migrations cannot be found: git fetch origin {since} (in CI, "
            f"check out with fetch-depth: 0), or after reviewing them {ALLOW_DESTRUCTIVE}=all"
        )
    before = set(listed.stdout.splitlines())
    return sorted(f for f in project_files() if MIGRATION_FILE.search(f) and f not in before)


def safety_check(paths: list[str]) -> dict:
    """infra.migration_safety on ``paths``, in the build copy (Django set up with the
    build's placeholder settings, in the runtime virtualenv)."""
    result = subprocess.run(
        [VENV / "bin/python", "-m", "infra.migration_safety", *paths],
        cwd=SRC, env={**os.environ, **build_env()}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if result.returncode:
        raise BuildError(f"the migration check failed: {result.stderr.strip()[-1000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_migrations(stage: str, live: dict) -> None:
    """Refuse migrations that would break the version serving now (it keeps serving while
    the new one is smoke-tested, during the steps and after any rollback), unless the
    operator names them in ALLOW_DESTRUCTIVE_MIGRATIONS (docs/releases.md)."""
    allowed = {a.strip() for a in os.environ.get(ALLOW_DESTRUCTIVE, "").split(",") if a.strip()}
    if live.get("live") is None:
        return  # no version serves: nothing to keep working
    if "all" in allowed:
        log(f"{ALLOW_DESTRUCTIVE}=all: the new migrations are not checked")
        return
    if not live.get("commit"):
        raise BuildError(
            f"{stage}'s live version {live['live']} records no commit, so its new migrations "
            f"cannot be found: after reviewing them, deploy with {ALLOW_DESTRUCTIVE}=all"
        )
    paths = new_migrations(live["commit"])
    if not paths:
        log(f"no new migrations since version {live['live']} (commit {live['commit']})")
        return
    found = safety_check(paths)
    log(f"{len(paths)} new migration file(s) checked: {', '.join(paths)}")
    for item in found["unchecked"]:
        log(f"review by hand: {item['migration']} has {item['operation']} (not readable)")
    refused = [c for c in found["contracts"] if c["migration"] not in allowed]
    for item in found["contracts"]:
        if item["migration"] in allowed:
            log(f"allowed by {ALLOW_DESTRUCTIVE}: {item['migration']} {item['operation']}")
    if refused:
        names = sorted({c["migration"] for c in refused})
        raise BuildError(
            "these migrations would break the version serving now (it keeps serving until "
            "the new one has passed its smoke test, and after a rollback): "
            + "; ".join(f"{c['migration']} {c['operation']}" for c in refused)
            + ". Expand first and contract in a later release (docs/releases.md); or, "
            f"accepting that, deploy with {ALLOW_DESTRUCTIVE}={','.join(names)}"
        )


def release_state(stage: str) -> dict:
    return json.loads(infra_call(RELEASE_STATE, stage, capture=True).strip().splitlines()[-1])


def release(*args: str) -> None:
    """``python -m infra release|rollback|seed …`` in the build virtualenv (boto3, and
    Zappa's own library for the event sources)."""
    run([VENV / "bin/python", "-m", "infra", *args])


def outputs_or_apply(stage: str) -> dict:
    """The stack's outputs; a branch stage without a stack gets one first (make infra)."""
    if is_branch_stage(stage):
        answer = json.loads(infra_call(STACK_OUTPUTS, stage, capture=True).strip().splitlines()[-1])
        if "error" not in answer and answer["outputs"] is None:
            log(f"{stage} is a branch stage without a stack: make infra STAGE={stage}")
            run([VENV / "bin/python", "-m", "infra", "apply", stage])
    return stage_outputs(stage)


def deploy(stage: str, *, first: bool) -> None:
    """Read the stage's stack, build, check the new migrations, update (or deploy the first
    time), then release: publish, migrate, smoke-test, move ``live``; stop at a failure
    with ``live`` on the version that served before.

    The stack made everything around the function (infra/, ``make infra``); its outputs
    go into the build copy's zappa settings, never into the committed file and never by
    hand. Once the API exists its host becomes the stack's ApiDomain parameter, CloudFront's
    default origin (a parameter-only stack update, skipped when it is already that). The
    role and its policy are the stack's, so Zappa is told not to manage roles (the
    committed file's attach_policy denies all, for a deploy that skips this). Zappa sets
    the dead-letter queue when it creates the function (its update leaves DeadLetterConfig
    alone; the queue's ARN is stable).
    """
    config = iam_policy.stage_settings(stage)
    iam_policy.from_zappa_settings(stage, config)  # refuses a stage name Zappa would mangle
    resolved = stage_settings_from_outputs(stage, config, outputs_or_apply(stage))
    site_url = resolved["aws_environment_variables"]["SITE_URL"]
    through_cloudfront = requires_cloudfront(resolved)
    prepare()
    before = release_state(stage)
    check_migrations(stage, before)
    commit = head_commit()

    new_function = first or not before["function"]
    write_stage(stage, for_zappa(resolved, first=new_function))
    if new_function:
        # Not deployed yet (or FIRST=1): make infra then make deploy is the whole story.
        log(f"{stage} has no function yet: zappa deploy")
        zappa("deploy", stage)
        write_stage(stage, for_zappa(resolved, first=False))
        release("release", stage, "--first", "--commit", commit)
    else:
        zappa("update", stage)
        release("release", stage, "--commit", commit)
    url = api_url(stage)
    if not url:
        raise BuildError(f"zappa status reports no API Gateway URL for {stage}")
    # At every deploy, not only the first: a no-op when the stack has it already, and a
    # first deploy stopped before this step is finished by the next make deploy.
    api_domain = urllib.parse.urlsplit(url).netloc
    log(f"CloudFront origin for {stage}: {api_domain} (stack parameter ApiDomain)")
    infra_call(SET_API_DOMAIN, stage, api_domain, capture=False)

    smoke_url = os.environ.get("SMOKE_URL") or site_url
    try:
        smoke(smoke_url.rstrip("/") + "/", stage=stage, through_cloudfront=through_cloudfront)
    except BuildError as exc:
        if before.get("live") in (None, release_state(stage)["live"]):
            raise  # nothing released to go back from
        log(f"the site fails after the release ({exc}): rolling back")
        release("rollback", stage)
        raise BuildError(f"{exc}; rolled back to the version before") from exc
    if new_function and is_branch_stage(stage):
        release("seed", stage)
    log(f"{stage} deployed and answering at {site_url}")


def show_policy(stage: str) -> None:
    """Print the stage's role policy as its stack template has it (and write it under
    .build/iam/). CloudFormation fills the ${...} placeholders when it makes the role."""
    iam_policy.from_zappa_settings(stage, iam_policy.stage_settings(stage))  # the name
    text = infra_call(ROLE_POLICY, stage, capture=True)
    review = BUILD / "iam" / f"{stage}.json"
    review.parent.mkdir(parents=True, exist_ok=True)
    review.write_text(text)
    log(f"IAM policy for {stage}: {review.relative_to(ROOT)}")
    sys.stdout.write(text)


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
