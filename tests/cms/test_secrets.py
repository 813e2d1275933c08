"""Secrets come from Secrets Manager (a moto server here), are cached for SECRETS_TTL
seconds, are picked up again after a rotation without a deploy, and never show up in a
log line, an error message or captured output (cms/secrets.py)."""

import json
import os
import time

import pytest
import time_machine

from cms import aws, secrets
from tests.cms.test_settings import PRODUCTION_ENV, SETUP, run

KEY = "k" + "".join(chr(c) for c in range(0x41, 0x5B)) + "0123456789abcdefghijklmnopqrstuv"
NEW_KEY = KEY[::-1]
ORIGIN = "origin-verify-current-" + "A1b2C3d4" * 4
NEW_ORIGIN = "origin-verify-rotated-" + "Z9y8X7w6" * 4
DB_PASSWORD = "db-password-" + "q" * 20
EVERY_VALUE = (KEY, NEW_KEY, ORIGIN, NEW_ORIGIN, DB_PASSWORD)


def put(name: str, value) -> str:
    """Create or rotate the secret ``name``; returns its ARN."""
    client = aws.client("secretsmanager")
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        return client.create_secret(Name=name, SecretString=text)["ARN"]
    except client.exceptions.ResourceExistsException:
        return client.put_secret_value(SecretId=name, SecretString=text)["ARN"]


@pytest.fixture
def stage_secrets(aws, monkeypatch):
    """The three secrets a stage's stack makes, and their ARNs in the environment."""
    arns = {
        "DJANGO_SECRET_ARN": put("lambda-cms/test/django", {"SECRET_KEY": KEY}),
        "ORIGIN_VERIFY_SECRET_ARN": put(
            "lambda-cms/test/origin-verify", {"ORIGIN_VERIFY_SECRET": ORIGIN}
        ),
        "DATABASE_SECRET_ARN": put(
            "lambda-cms/test/database", {"username": "cms", "password": DB_PASSWORD}
        ),
    }
    for name, arn in arns.items():
        monkeypatch.setenv(name, arn)
    monkeypatch.delenv("SECRETS_TTL", raising=False)
    secrets.clear_cache()
    yield arns
    secrets.stop_watching()
    secrets.clear_cache()


def from_arns(arns, *drop) -> dict:
    """Production's variables as the deploy sets them: ARNs, not secrets."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in drop}
    for plain in ("SECRET_KEY", "ORIGIN_VERIFY_SECRETS", "DATABASE_URL"):
        env.pop(plain, None)
    return {
        **env,
        **arns,
        "DATABASE_HOST": "cluster.example.internal",
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "cms",
    }


def assert_nothing_shows(*texts):
    for text in texts:
        for value in EVERY_VALUE:
            assert value not in text


class TestStartingFromSecrets:
    def test_production_settings_load_every_secret_from_its_arn(self, stage_secrets):
        code = SETUP + (
            "import sys; from django.db import connection; "
            "db = settings.DATABASES['default']; "
            f"print(settings.SECRET_KEY == {KEY!r}, settings.SECRET_KEY_FALLBACKS, "
            f"settings.ORIGIN_VERIFY_SECRETS == [{ORIGIN!r}], db['ENGINE'], db['HOST'], "
            "db['USER'] or '-', db['PASSWORD'] or '-', "
            f"connection.get_connection_params()['password'] == {DB_PASSWORD!r}, "
            "settings.SECRETS_TTL, 'boto3' in sys.modules)"
        )
        result = run(code, "cms.settings.production", **from_arns(stage_secrets))
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "True", "[]", "True", "cms.db", "cluster.example.internal", "-", "-", "True",
            "300", "True",
        ]  # fmt: skip
        assert_nothing_shows(result.stdout, result.stderr)

    def test_plain_variables_still_work_and_never_load_boto3(self):
        code = SETUP + "import sys; print(settings.DATABASES['default']['ENGINE'], "
        code += "'boto3' in sys.modules, 'botocore' in sys.modules)"
        result = run(code, "cms.settings.production", **PRODUCTION_ENV)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["django.db.backends.postgresql", "False", "False"]

    def test_a_secret_given_both_ways_stops_the_start(self, stage_secrets):
        env = {**from_arns(stage_secrets), "SECRET_KEY": KEY}
        result = run(SETUP, "cms.settings.production", **env)
        assert result.returncode != 0
        message = result.stderr.strip().splitlines()[-1]
        assert "SECRET_KEY and DJANGO_SECRET_ARN" in message
        assert "unset the other" in message
        assert_nothing_shows(result.stderr)

    def test_either_form_satisfies_each_requirement(self, stage_secrets):
        env = from_arns(stage_secrets, "ALLOWED_HOSTS")
        del env["DATABASE_SECRET_ARN"], env["DJANGO_SECRET_ARN"]
        result = run(SETUP, "cms.settings.production", **env)
        message = result.stderr.strip().splitlines()[-1]
        assert message.endswith(
            "need these environment variables: SECRET_KEY or DJANGO_SECRET_ARN, "
            "ALLOWED_HOSTS, DATABASE_URL or DATABASE_SECRET_ARN"
        )
        no_host = {**from_arns(stage_secrets), "DATABASE_HOST": ""}
        result = run(SETUP, "cms.settings.production", **no_host)
        assert result.stderr.strip().splitlines()[-1].endswith("variables: DATABASE_HOST")

    @pytest.mark.parametrize(
        ("stored", "why"),
        [
            (None, "DJANGO_SECRET_ARN: Secrets Manager did not return the secret "
                   "(ResourceNotFoundException)"),
            (f"not json {KEY}", "DJANGO_SECRET_ARN: the secret's value is not JSON"),
            (json.dumps([KEY]), "DJANGO_SECRET_ARN: the secret's value is not a JSON object"),
            ({"SECRET": KEY}, "DJANGO_SECRET_ARN: the secret has no 'SECRET_KEY' text"),
            ({"SECRET_KEY": KEY, "SECRET_KEY_FALLBACKS": KEY},
             "DJANGO_SECRET_ARN: the secret's 'SECRET_KEY_FALLBACKS' is not a list of texts"),
            ({"SECRET_KEY": "short-" + KEY[:20]},
             "DJANGO_SECRET_ARN: SECRET_KEY has fewer than 50 characters"),
            ({"SECRET_KEY": KEY, "SECRET_KEY_FALLBACKS": [NEW_KEY, "django-insecure-" + KEY]},
             "DJANGO_SECRET_ARN: SECRET_KEY_FALLBACKS entry 2 starts with 'django-insecure-'"),
        ],
        ids=["missing", "not-json", "not-object", "no-key", "fallbacks-not-list", "weak",
             "weak-fallback"],
    )  # fmt: skip
    def test_a_missing_unreadable_or_weak_secret_is_named_never_shown(
        self, stage_secrets, stored, why
    ):
        arn = stage_secrets["DJANGO_SECRET_ARN"]
        if stored is None:
            arn = arn.replace("django", "nonexistent")
        else:
            put("lambda-cms/test/django", stored)
        result = run(SETUP, "cms.settings.production",
                     **{**from_arns(stage_secrets), "DJANGO_SECRET_ARN": arn})  # fmt: skip
        assert result.returncode != 0
        assert why in result.stderr.strip().splitlines()[-1]
        assert_nothing_shows(result.stderr, result.stdout)
        assert "short-" not in result.stderr

    def test_the_origin_secret_and_its_previous_ones_are_all_accepted(self, stage_secrets):
        rotating = {"ORIGIN_VERIFY_SECRET": NEW_ORIGIN, "ORIGIN_VERIFY_SECRETS_PREVIOUS": [ORIGIN]}
        put("lambda-cms/test/origin-verify", rotating)
        code = SETUP + f"print(settings.ORIGIN_VERIFY_SECRETS == [{NEW_ORIGIN!r}, {ORIGIN!r}])"
        result = run(code, "cms.settings.production", **from_arns(stage_secrets))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "True"
        put("lambda-cms/test/origin-verify", {"ORIGIN_VERIFY_SECRET": "too-short"})
        weak = run(SETUP, "cms.settings.production", **from_arns(stage_secrets))
        assert "ORIGIN_VERIFY_SECRET_ARN: each origin secret must be" in weak.stderr
        assert "too-short" not in weak.stderr


class TestCaching:
    def test_a_secret_is_read_once_per_time_to_live(self, stage_secrets, monkeypatch):
        monkeypatch.setenv("SECRETS_TTL", "60")
        with time_machine.travel(1_900_000_000, tick=False) as clock:
            assert secrets.django_keys() == (KEY, [])
            put("lambda-cms/test/django", {"SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [KEY]})
            clock.shift(59)
            assert secrets.django_keys() == (KEY, [])  # still the cached value
            clock.shift(1)
            assert secrets.django_keys() == (NEW_KEY, [KEY])

    def test_boto3_waits_for_the_first_secret(self):
        code = "import sys, cms.secrets; print('boto3' in sys.modules)"
        result = run(code, "cms.settings.test")
        assert result.stdout.strip() == "False"

    def test_what_fetching_costs(self, stage_secrets):
        """Importing boto3, making the client and one call (against moto on loopback: the
        network part on Lambda, an interface endpoint in the VPC, comes on top)."""
        code = (
            "import time; t = time.perf_counter(); import cms.secrets as s; "
            "s.read('DJANGO_SECRET_ARN'); print(round((time.perf_counter() - t) * 1000))"
        )
        result = run(
            code, "cms.settings.test", DJANGO_SECRET_ARN=stage_secrets["DJANGO_SECRET_ARN"]
        )
        assert result.returncode == 0, result.stderr
        print(f"first secret read, cold: {result.stdout.strip()} ms")
        assert int(result.stdout) < 5000


ORIGIN_HEADER = "HTTP_X_ORIGIN_VERIFY"


@pytest.fixture
def watched_site(stage_secrets, settings, monkeypatch):
    """Production's shape in this process: settings from the secrets, watched."""
    monkeypatch.delenv("DATABASE_SECRET_ARN")  # the suite's own database stays
    monkeypatch.setenv("SECRETS_TTL", "300")
    settings.ORIGIN_VERIFY_REQUIRED = True
    with time_machine.travel(1_900_000_000, tick=False) as clock:
        for name, value in secrets.settings_values().items():
            setattr(settings, name, value)
        secrets.watch_settings()
        yield clock


@pytest.mark.django_db
class TestRotationWithoutADeploy:
    def test_after_the_time_to_live_the_next_request_uses_the_rotated_secrets(
        self, watched_site, client, settings, caplog, capsys
    ):
        caplog.set_level("DEBUG")
        assert client.get("/", **{ORIGIN_HEADER: ORIGIN}).status_code == 200
        assert settings.SECRET_KEY == KEY
        put("lambda-cms/test/origin-verify", {"ORIGIN_VERIFY_SECRET": NEW_ORIGIN})
        put("lambda-cms/test/django", {"SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [KEY]})

        watched_site.shift(299)  # cached: the store is not asked yet
        assert client.get("/", **{ORIGIN_HEADER: ORIGIN}).status_code == 200
        assert client.get("/", **{ORIGIN_HEADER: NEW_ORIGIN}).status_code == 403

        watched_site.shift(2)
        assert client.get("/", **{ORIGIN_HEADER: NEW_ORIGIN}).status_code == 200
        assert client.get("/", **{ORIGIN_HEADER: ORIGIN}).status_code == 403
        assert settings.SECRET_KEY == NEW_KEY
        assert settings.SECRET_KEY_FALLBACKS == [KEY]
        assert "Rotated secrets picked up: SECRET_KEY, SECRET_KEY_FALLBACKS, " in caplog.text
        captured = capsys.readouterr()
        assert_nothing_shows(caplog.text, captured.out, captured.err)

    def test_signatures_made_with_the_old_key_still_verify_through_the_fallbacks(
        self, watched_site, settings
    ):
        from django.core import signing

        signed = signing.dumps("preview")
        put("lambda-cms/test/django", {"SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [KEY]})
        watched_site.shift(301)
        assert secrets.refresh_settings() == ["SECRET_KEY", "SECRET_KEY_FALLBACKS"]
        assert signing.loads(signed) == "preview"
        assert signing.dumps("x") != signing.dumps("x", key=KEY)

    def test_nothing_is_asked_of_the_store_until_the_time_to_live_passes(
        self, watched_site, client, stage_secrets
    ):
        aws.client("secretsmanager").delete_secret(
            SecretId=stage_secrets["DJANGO_SECRET_ARN"], ForceDeleteWithoutRecovery=True
        )
        for _ in range(3):
            watched_site.shift(90)
            assert client.get("/", **{ORIGIN_HEADER: ORIGIN}).status_code == 200

    def test_an_unreadable_or_weak_secret_keeps_the_current_ones_and_says_why(
        self, watched_site, client, settings, caplog
    ):
        weak = "weak-" + "w" * 10
        put("lambda-cms/test/django", {"SECRET_KEY": weak})
        put("lambda-cms/test/origin-verify", {"ORIGIN_VERIFY_SECRET": NEW_ORIGIN})
        watched_site.shift(301)
        assert client.get("/", **{ORIGIN_HEADER: ORIGIN}).status_code == 200
        assert settings.SECRET_KEY == KEY
        assert settings.ORIGIN_VERIFY_SECRETS == [ORIGIN]
        assert "Secrets not refreshed, the current ones stay in use: DJANGO_SECRET_ARN: " in (
            caplog.text
        )
        assert_nothing_shows(caplog.text)
        assert weak not in caplog.text
        # Tried again soon, not at every request: once fixed, the next try picks it up.
        put("lambda-cms/test/django", {"SECRET_KEY": NEW_KEY})
        watched_site.shift(secrets.RETRY_AFTER)
        assert client.get("/", **{ORIGIN_HEADER: NEW_ORIGIN}).status_code == 200
        assert settings.SECRET_KEY == NEW_KEY


# -- the database backend --------------------------------------------------------------


def _postgres_settings():
    from django.conf import settings

    db = settings.DATABASES["default"]
    return db if db["ENGINE"].endswith("postgresql") else None


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL=postgres://…)",
)
class TestDatabaseCredentialsFromTheSecret:
    """A real PostgreSQL server. Its pg_hba.conf may trust loopback connections (CI's
    does), so a changed password alone would not be refused: the rotation here also
    renames the role, which no trust rule lets the old credentials survive."""

    @pytest.fixture(autouse=True)
    def _own_connections(self, django_db_blocker):
        # Connections of their own, outside the suite's test database and transaction.
        with django_db_blocker.unblock():
            yield

    @pytest.fixture
    def admin(self):
        import psycopg2

        db = _postgres_settings()
        conn = psycopg2.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
            password=db["PASSWORD"] or None, dbname="postgres",
        )  # fmt: skip
        conn.autocommit = True
        made = []

        def sql(statement, *roles):
            with conn.cursor() as cursor:
                cursor.execute(statement)
            made.extend(roles)

        yield sql
        with conn.cursor() as cursor:
            for role in made:
                cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.close()

    def wrapper(self):
        from django.db.utils import load_backend

        db = _postgres_settings()
        settings_dict = {
            **db,
            "ENGINE": "cms.db",
            "NAME": "postgres",
            "USER": "",
            "PASSWORD": "",
            "OPTIONS": {},
            "CONN_MAX_AGE": 0,
            "TEST": {},
        }
        # A wrapper of its own under the suite's alias: django.contrib.postgres looks the
        # alias up in connections when a connection opens (for type ids of extensions).
        return load_backend("cms.db").DatabaseWrapper(settings_dict, alias="default")

    def test_each_new_connection_uses_the_current_secret_and_a_rotation_is_followed(
        self, stage_secrets, admin, caplog
    ):
        suffix = str(int(time.time() * 1000))[-8:]
        old, new = f"cms_old_{suffix}", f"cms_new_{suffix}"
        rotated = DB_PASSWORD[::-1]
        admin(f"CREATE ROLE {old} LOGIN PASSWORD '{DB_PASSWORD}'", old, new)
        put("lambda-cms/test/database", {"username": old, "password": DB_PASSWORD})

        first = self.wrapper()
        with first.cursor() as cursor:
            cursor.execute("select current_user")
            assert cursor.fetchone()[0] == old
        assert first.connection.info.password == DB_PASSWORD
        first.close()

        # RDS rotates the managed password: the role changes and so does the secret,
        # while this process still holds the old one in its cache.
        admin(f"ALTER ROLE {old} RENAME TO {new}")
        admin(f"ALTER ROLE {new} PASSWORD '{rotated}'")
        put("lambda-cms/test/database", {"username": new, "password": rotated})

        second = self.wrapper()
        with second.cursor() as cursor:
            cursor.execute("select current_user")
            assert cursor.fetchone()[0] == new
        assert second.connection.info.password == rotated
        second.close()
        assert "The database secret has changed (rotated)" in caplog.text
        for value in (DB_PASSWORD, rotated):
            assert value not in caplog.text

    def test_a_refusal_with_an_unchanged_secret_is_raised_once(self, stage_secrets, admin):
        from django.db import OperationalError

        put("lambda-cms/test/database", {"username": "cms_nobody", "password": DB_PASSWORD})
        with pytest.raises(OperationalError, match="cms_nobody") as raised:
            self.wrapper().ensure_connection()
        assert DB_PASSWORD not in str(raised.value)
