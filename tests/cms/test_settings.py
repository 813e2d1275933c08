"""Settings are checked in fresh processes: each test needs its own environment."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "q8v!k2#p9s@x7m4n1b6c3z0l5j8h2g7f4d1s9a6w3e0r5t8y2u7i4o1p6",
    "ALLOWED_HOSTS": "www.example.com",
    "DATABASE_URL": "postgres://cms:secret@db.example.internal:5432/cms",
    "CSRF_TRUSTED_ORIGINS": "https://www.example.com",
    "CLOUDFRONT_DISTRIBUTION_ID": "E2EXAMPLE123",
    "MEDIA_BUCKET": "lambda-cms-production-media",
    "MEDIA_DOMAIN": "www.example.com",
    "ORIGIN_VERIFY_SECRETS": "k3J9-xQ2_vL8pR5.tY7~wZ1+aB4/cD6=eF0gH",
}


def run(code_or_args, settings_module, **env):
    unwanted = {*PRODUCTION_ENV, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "SITE_URL",
                "SECRET_KEY_FALLBACKS", "ORIGIN_VERIFY_REQUIRED", "TRUSTED_PROXY_COUNT",
                "USE_X_FORWARDED_HOST", "DJANGO_SECRET_ARN", "ORIGIN_VERIFY_SECRET_ARN",
                "DATABASE_SECRET_ARN", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME",
                "SECRETS_TTL"}  # fmt: skip
    base = {k: v for k, v in os.environ.items() if k not in unwanted}
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SETUP = "import django; django.setup(); from django.conf import settings; "


def test_production_refuses_to_start_and_names_every_missing_variable():
    result = run(SETUP + "print('started')", "cms.settings.production")
    assert result.returncode != 0
    assert "started" not in result.stdout
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "MEDIA_BUCKET", "MEDIA_DOMAIN"):
        assert name in result.stderr


def without(*names):
    return {k: v for k, v in PRODUCTION_ENV.items() if k not in names}


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("short-" + "abcdefgh" * 5, "fewer than 50 characters"),
        ("ab" * 30, "fewer than 5 different characters"),
        ("django-insecure-" + "q8v!k2#p9s@x7m4n1b6c3z0l5j8h2g7f4d1s9a6w3e0", "django-insecure-"),
    ],
    ids=["short", "repetitive", "generated-by-startproject"],
)
def test_production_refuses_a_weak_secret_key_without_printing_it(key, why):
    result = run(SETUP, "cms.settings.production", **{**PRODUCTION_ENV, "SECRET_KEY": key})
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert "SECRET_KEY" in message
    assert why in message
    assert key not in result.stderr


def test_production_refuses_a_weak_fallback_key_and_accepts_strong_ones():
    strong = PRODUCTION_ENV["SECRET_KEY"][::-1]
    weak = run(SETUP, "cms.settings.production", **PRODUCTION_ENV,
               SECRET_KEY_FALLBACKS=f"{strong},too-short")  # fmt: skip
    assert weak.returncode != 0
    assert "SECRET_KEY_FALLBACKS entry 2 has fewer than 50 characters" in weak.stderr
    assert "too-short" not in weak.stderr
    fine = run(SETUP + "print(len(settings.SECRET_KEY_FALLBACKS))", "cms.settings.production",
               **PRODUCTION_ENV, SECRET_KEY_FALLBACKS=strong)  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.strip() == "1"


def test_the_key_rule_is_djangos():
    """cms.secrets checks keys (given plainly or from the store) by check W009's figures."""
    from django.core.checks.security import base

    from cms.secrets import key_weakness

    distinct = "".join(chr(c) for c in range(0x21, 0x7F))  # 94 different characters
    assert key_weakness(distinct[: base.SECRET_KEY_MIN_LENGTH]) == ""
    assert "fewer than" in key_weakness(distinct[: base.SECRET_KEY_MIN_LENGTH - 1])
    few = distinct[: base.SECRET_KEY_MIN_UNIQUE_CHARACTERS - 1] * base.SECRET_KEY_MIN_LENGTH
    assert "different characters" in key_weakness(few)
    assert "Django's mark" in key_weakness(base.SECRET_KEY_INSECURE_PREFIX + distinct)


def test_production_requires_the_origin_secret_unless_the_stage_turns_the_check_off():
    missing = run(SETUP, "cms.settings.production", **without("ORIGIN_VERIFY_SECRETS"))
    assert missing.returncode != 0
    assert "ORIGIN_VERIFY_SECRETS" in missing.stderr.strip().splitlines()[-1]
    weak = run(SETUP, "cms.settings.production", **{**PRODUCTION_ENV,
               "ORIGIN_VERIFY_SECRETS": "short-secret"})  # fmt: skip
    assert weak.returncode != 0
    assert "ORIGIN_VERIFY_SECRETS" in weak.stderr
    assert "short-secret" not in weak.stderr
    off = run(SETUP + "print(settings.ORIGIN_VERIFY_REQUIRED)", "cms.settings.production",
              **without("ORIGIN_VERIFY_SECRETS"), ORIGIN_VERIFY_REQUIRED="false")  # fmt: skip
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip() == "False"


def test_production_checks_the_origin_header_and_key_unless_every_allowed_host_is_loopback():
    """A rehearsal on one machine (perf_peers.sh, a laptop) is not behind CloudFront and
    signs nothing anyone else receives; a host anyone else can reach keeps both checks,
    and so does one public host among loopback ones."""
    shown = SETUP + "print(settings.ORIGIN_VERIFY_REQUIRED)"
    for hosts in ("127.0.0.1", "localhost,127.0.0.1,[::1]"):
        local = run(
            shown,
            "cms.settings.production",
            **{
                **without("ORIGIN_VERIFY_SECRETS"),
                "ALLOWED_HOSTS": hosts,
                "SECRET_KEY": "bench-not-secret",
            },
        )
        assert local.returncode == 0, local.stderr
        assert local.stdout.strip() == "False"
    for hosts in ("www.example.com", "127.0.0.1,www.example.com", "127.0.0.1.example.com"):
        public = run(
            shown,
            "cms.settings.production",
            SITE_URL="https://www.example.com",
            **{**without("ORIGIN_VERIFY_SECRETS"), "ALLOWED_HOSTS": hosts},
        )
        assert public.returncode != 0
        assert "ORIGIN_VERIFY_SECRETS" in public.stderr.strip().splitlines()[-1]
        weak = run(
            shown,
            "cms.settings.production",
            SITE_URL="https://www.example.com",
            **{**PRODUCTION_ENV, "ALLOWED_HOSTS": hosts, "SECRET_KEY": "bench-not-secret"},
        )
        assert weak.returncode != 0
        assert "SECRET_KEY has fewer than 50 characters" in weak.stderr


def test_production_never_derives_the_site_url_from_a_wildcard_host():
    dev_hosts = {**PRODUCTION_ENV, "ALLOWED_HOSTS": ".execute-api.eu-west-1.amazonaws.com"}
    refused = run(SETUP, "cms.settings.production", **dev_hosts)
    assert refused.returncode != 0
    assert "SITE_URL is needed" in refused.stderr
    url = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/dev"
    given = run(SETUP + "print(settings.SITE_URL)", "cms.settings.production", **dev_hosts,
                SITE_URL=url + "/")  # fmt: skip
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip() == url
    plain = run(SETUP, "cms.settings.production", **dev_hosts, SITE_URL="http://x.example")
    assert "SITE_URL must be an https:// address" in plain.stderr


@pytest.mark.parametrize("stage", ["dev", "production"])
def test_a_stage_starts_from_what_make_deploy_gives_it(stage, aws):
    """The stage's variables as make deploy writes them (zappa_settings.json plus the
    stack's outputs: cms.lambda_build), its secrets in Secrets Manager (moto): every
    stage behind CloudFront, secrets by ARN only, purges through the relay."""
    import json as json_module

    from cms import aws as aws_module
    from cms import lambda_build
    from tests.lambda_fixtures import stack_outputs, stage_config

    manager = aws_module.client("secretsmanager")

    def secret(name, value):
        return manager.create_secret(Name=name, SecretString=json_module.dumps(value))["ARN"]

    outputs = {
        **stack_outputs(stage),
        "DjangoSecretArn": secret(f"lambda-cms/{stage}/django",
                                  {"SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]}),
        "OriginVerifySecretArn": secret(f"lambda-cms/{stage}/origin-verify",
                                        {"ORIGIN_VERIFY_SECRET": "o" * 40}),
        "DatabaseSecretArn": secret(f"rds!cluster-{stage}",
                                    {"username": "cms", "password": "p" * 30}),
        "PurgeFunctionName": f"lambda-cms-{stage}-cdn-purge",
    }  # fmt: skip
    env = lambda_build.stage_settings_from_outputs(stage, stage_config(stage), outputs)[
        "aws_environment_variables"
    ]
    assert not {"SECRET_KEY", "ORIGIN_VERIFY_SECRETS", "DATABASE_URL"} & set(env)
    result = run(
        SETUP + "from cms import cdn; db = settings.DATABASES['default']; "
        "print(settings.ORIGIN_VERIFY_REQUIRED, settings.TRUSTED_PROXY_COUNT, "
        "settings.USE_X_FORWARDED_HOST, settings.SITE_URL, settings.ALLOWED_HOSTS[0], "
        "db['ENGINE'], db['HOST'], cdn.get_backend().options['PURGE_FUNCTION'], "
        "settings.ORIGIN_VERIFY_SECRETS == ['o' * 40])",
        "cms.settings.production",
        **env,
    )
    assert result.returncode == 0, result.stderr
    site = outputs["SiteDomain"]
    assert result.stdout.split() == [
        "True", "2", "True", f"https://{site}", site, "cms.db", outputs["DatabaseHost"],
        outputs["PurgeFunctionName"], "True",
    ]  # fmt: skip


def test_production_names_only_what_is_missing():
    result = run(SETUP, "cms.settings.production", SECRET_KEY=PRODUCTION_ENV["SECRET_KEY"])
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.endswith(
        "ALLOWED_HOSTS, DATABASE_URL or DATABASE_SECRET_ARN, MEDIA_BUCKET, MEDIA_DOMAIN, "
        "ORIGIN_VERIFY_SECRETS or ORIGIN_VERIFY_SECRET_ARN"
    )
    assert "SECRET_KEY" not in message


def test_production_reads_its_configuration_from_the_environment():
    result = run(
        SETUP + "print(settings.DATABASES['default']['HOST'], settings.ALLOWED_HOSTS, "
        "settings.DEBUG)",
        "cms.settings.production",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["db.example.internal", "['www.example.com']", "False"]


def test_behind_cloudfront_links_name_the_site_not_the_api_gateway_host():
    code = SETUP + (
        "from django.test import RequestFactory; "
        "request = RequestFactory().get('/api/v1/articles/', secure=True, "
        "HTTP_HOST='abc123.execute-api.eu-west-1.amazonaws.com', "
        "HTTP_X_FORWARDED_HOST='www.example.com'); "
        "print(request.build_absolute_uri('?cursor=x'))"
    )
    result = run(code, "cms.settings.production", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://www.example.com/api/v1/articles/?cursor=x"


def test_production_without_a_cdn_distribution_fails_at_start_naming_it():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CLOUDFRONT_DISTRIBUTION_ID"}
    result = run(SETUP, "cms.settings.production", **env)
    assert result.returncode != 0
    assert (
        "CloudFrontBackend needs CDN OPTIONS: DISTRIBUTION_ID "
        "(environment variable CLOUDFRONT_DISTRIBUTION_ID)" in result.stderr
    )


def test_a_stage_without_cloudfront_can_choose_the_recording_backend():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CLOUDFRONT_DISTRIBUTION_ID"}
    result = run(
        SETUP + "from cms import cdn; print(type(cdn.get_backend()).__name__)",
        "cms.settings.production",
        CDN_BACKEND="cms.cdn.RecordingBackend",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "RecordingBackend"


def test_check_deploy_reports_nothing_with_realistic_environment():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        "cms.settings.production",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("settings_module", ["cms.settings.local", "cms.settings.test"])
def test_without_database_url_the_database_is_sqlite_in_the_project_folder(settings_module):
    result = run(
        SETUP + "db = settings.DATABASES['default']; print(db['ENGINE'], db['NAME'])",
        settings_module,
        DATABASE_URL="",
    )
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == ROOT / "db.sqlite3"


def test_local_settings_with_debug_off_serve_error_pages_and_assets(tmp_path):
    """`DEBUG=0 make run` shows the real 404 page and still serves CSS and uploads."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "0",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    assert run(["manage.py", "migrate", "-v0"], "cms.settings.local", **env).returncode == 0
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "hello.txt").write_text("hi")
    script = SETUP + (
        "from django.test import Client; c = Client(HTTP_HOST='127.0.0.1');"
        "print(settings.DEBUG, c.get('/nope/').status_code, c.get('/static/css/site.css')"
        ".status_code, c.get('/media/hello.txt').status_code)"
    )
    result = run(script, "cms.settings.local", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "404", "200", "200"]


COLLECTOR = "import gc; print(gc.isenabled(), gc.get_freeze_count() > 10000); "


def test_production_start_up_runs_without_collector_pauses_until_the_first_request():
    """cms.coldstart: paused from the settings' first line through the first request;
    then what start-up made is frozen and collection is back on for all the rest."""
    code = (
        "import django; from django.conf import settings; settings.INSTALLED_APPS; "
        + COLLECTOR
        + "django.setup(); "
        + COLLECTOR
        + "from django.test import Client; "
        "visit = lambda: Client(raise_request_exception=False).get('/'); "
        "visit(); " + COLLECTOR + "visit(); " + COLLECTOR
    )
    result = run(code, "cms.settings.production", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        *("False", "False"),  # importing the settings
        *("False", "False"),  # every app ready
        *("True", "True"),  # the first request answered
        *("True", "True"),
    ]


def test_an_event_before_any_request_brings_the_collector_back():
    code = (
        "import django; django.setup(); "
        "from cms.lambda_events import lambda_event; "
        "lambda_event(lambda event, context: None)({}); " + COLLECTOR
    )
    result = run(code, "cms.settings.production", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_management_commands_have_the_collector_from_the_start():
    result = run(
        ["manage.py", "shell", "-v", "0", "-c", COLLECTOR],
        "cms.settings.production",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_other_settings_leave_the_collector_alone():
    code = "import gc, django; django.setup(); print(gc.isenabled(), gc.get_freeze_count())"
    result = run(code, "cms.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "0"]


# What production cannot start without, each alone (PRODUCTION_ENV gives all of them):
# the README's settings table and production.py's docstring say "required" of these.
REQUIRED = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "MEDIA_BUCKET",
    "MEDIA_DOMAIN",
    "ORIGIN_VERIFY_SECRETS",
    "CLOUDFRONT_DISTRIBUTION_ID",
)


@pytest.mark.parametrize("name", REQUIRED)
def test_each_required_variable_stops_the_start_and_is_named(name):
    result = run(SETUP + "print('started')", "cms.settings.production", **without(name))
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert name in result.stderr.strip().splitlines()[-1]


def test_the_settings_table_marks_required_what_production_needs():
    """Every row whose default says "required" names a variable production needs (here,
    or in a case the row states: SITE_URL for a wildcard host, DATABASE_HOST and
    DATABASE_NAME with the database secret), and every one it needs is marked so."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings") :].split("\n### ")[0]
    marked = set()
    for row in table.splitlines():
        cells = row.split(" | ")
        if row.startswith("| `") and len(cells) >= 3 and "required" in cells[1]:
            marked.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]))
    conditional = {"SITE_URL", "DATABASE_HOST", "DATABASE_NAME"}
    assert marked - conditional == set(REQUIRED)
    assert conditional <= marked


@pytest.mark.parametrize("name", ["DATABASE_HOST", "DATABASE_NAME"])
def test_with_the_database_secret_its_endpoint_is_required(name):
    env = {
        **without("DATABASE_URL"),
        "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds-Ab",
        "DATABASE_HOST": "db.example.internal",
        "DATABASE_NAME": "cms",
    }
    del env[name]
    result = run(SETUP, "cms.settings.production", **env)
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("Production settings need these environment variables: " + name)
    )


def test_production_mails_through_ses_as_the_configured_sender():
    code = SETUP + (
        "import sys; loaded = 'django_ses' in sys.modules; "
        "from django.core.mail import mailers; mailer = mailers.default; "
        "print(loaded, type(mailer).__module__, settings.DEFAULT_FROM_EMAIL, "
        "mailer._region_name, mailer._endpoint_url, mailer._throttle)"
    )
    result = run(
        code,
        "cms.settings.production",
        **PRODUCTION_ENV,
        DEFAULT_FROM_EMAIL="newsroom@example.com",
        AWS_REGION="eu-central-1",
    )
    assert result.returncode == 0, result.stderr
    # Loaded only when a message goes out; SES in the function's region; no quota calls.
    assert result.stdout.split() == [
        "False",
        "django_ses",
        "newsroom@example.com",
        "eu-central-1",
        "https://email.eu-central-1.amazonaws.com",
        "None",
    ]
