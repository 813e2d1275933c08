"""``make infra-lint``: cfn-lint and checkov on every stage's rendered templates.

Both are pinned and installed into .build/lint-venv the first time (they are large and
only reviewers and CI need them, so they stay out of requirements-dev.txt). Every stage
is rendered twice: as stages.json has it, and with every option on (a domain with its
alias, ACM certificate and Route 53 records; X-Ray tracing; an alarm e-mail), so the
branches a fork switches on are linted too; plus the certificate stack, a branch stage's
stack (its roles carry the CI boundary) once infra.config knows branch stages, and the
account's CI stack (infra/ci.py: the OIDC provider, the deploy roles, the boundary). cfn-lint must
report nothing (errors and warnings alike); checkov must pass, its skipped checks listed
in .checkov.yaml, each with its reason.
"""

import os
import subprocess
import sys
import time
from dataclasses import replace

from infra import ci, config, template

ROOT = config.ROOT
VENV = ROOT / ".build" / "lint-venv"
OUT = ROOT / ".build" / "infra-lint"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
PINS = ("cfn-lint==1.58.0", "checkov==3.3.30")
# The CI stack is linted for this repository when infra/ci.json names none yet.
EXAMPLE_REPOSITORY = "example-org/lambda-cms"
# A branch stage (made from infra.config's BRANCH_TEMPLATE) as a pull request gets it.
EXAMPLE_BRANCH_STAGE = "pr-1"


def ensure_venv() -> None:
    """Create .build/lint-venv with the pinned tools, unless it has them already."""
    stamp = VENV / ".pins"
    if stamp.exists() and stamp.read_text() == "\n".join(PINS):
        return
    print(f"Installing {', '.join(PINS)} into {VENV.relative_to(ROOT)} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603 (fixed commands: pip, cfn-lint, checkov)
        [VENV / "bin/pip", "install", "--quiet", "--disable-pip-version-check", *PINS],
        check=True,
    )
    stamp.write_text("\n".join(PINS))


def render() -> list:
    """Every stage's templates, with and without a domain, into .build/infra-lint/."""
    paths = []
    for stage in config.stage_list():
        settings = config.load(stage)
        paths += template.write(settings, OUT)
        # Every optional branch on: a domain (alias, certificate, Route 53 records),
        # tracing (the X-Ray endpoint), an alarm e-mail subscription, an SES sender identity.
        everything = replace(
            template.with_domain(settings) if not settings.domain else settings,
            xray=True,
            alarm_email=settings.alarm_email or "ops@example.com",
            mail_from=settings.mail_from or "newsroom@example.com",
        )
        paths += template.write(everything, OUT, suffix="-all-options")
    try:
        paths += template.write(config.load(EXAMPLE_BRANCH_STAGE), OUT)
    except config.ConfigError as exc:  # infra.config without branch stages (yet)
        print(f"note: no branch stage's template linted ({exc})", flush=True)
    try:
        repository = ci.read_repository()
    except ci.CiError:
        repository = EXAMPLE_REPOSITORY
    paths.append(ci.write(repository, OUT))
    return paths


def main(argv=None) -> int:
    started = time.monotonic()
    ensure_venv()
    try:
        paths = render()
    except (config.ConfigError, ci.CiError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    names = [str(p.relative_to(ROOT)) for p in paths]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # checkov: no download of mappings
    failed = []
    print(f"cfn-lint: {len(names)} templates", flush=True)
    if subprocess.run([VENV / "bin/cfn-lint", *names], cwd=ROOT, check=False).returncode:  # noqa: S603
        failed.append("cfn-lint")
    checkov = [
        VENV / "bin/checkov",
        "--config-file", CHECKOV_CONFIG,
        "--framework", "cloudformation",
        "--quiet", "--compact", "--skip-download",
        *(arg for name in names for arg in ("-f", name)),
    ]  # fmt: skip
    print("checkov:", flush=True)
    if subprocess.run(checkov, cwd=ROOT, env=env, check=False).returncode:  # noqa: S603
        failed.append("checkov")
    took = time.monotonic() - started
    if failed:
        print(f"infra-lint FAILED ({', '.join(failed)}) in {took:.0f} s", file=sys.stderr)
        return 1
    print(f"infra-lint: cfn-lint and checkov clean on {len(names)} templates in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
