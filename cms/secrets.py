"""Secrets from AWS Secrets Manager, cached in the process for a time-to-live.

On Lambda the function's environment holds only the ARNs of three secrets (the stage's
stack creates them; infra.config names them):

- ``DJANGO_SECRET_ARN``: ``{"SECRET_KEY": "...", "SECRET_KEY_FALLBACKS": [...]}``
  (fallbacks optional: keys that still verify what an older key signed);
- ``ORIGIN_VERIFY_SECRET_ARN``: ``{"ORIGIN_VERIFY_SECRET": "...",
  "ORIGIN_VERIFY_SECRETS_PREVIOUS": [...]}`` (previous optional: accepted alongside the
  current one while CloudFront still sends an old one);
- ``DATABASE_SECRET_ARN``: the RDS-managed master secret, ``{"username", "password"}``.

Each value is read once and kept for ``SECRETS_TTL`` seconds (default 300), then read
again when next needed, so a rotated secret is picked up without a deploy: the database
backend (cms.db) asks at every new connection, and ``watch_settings`` re-reads the
Django and origin secrets at the first request after the time-to-live and updates
``settings.SECRET_KEY``, ``SECRET_KEY_FALLBACKS`` and ``ORIGIN_VERIFY_SECRETS``.

No value is ever logged or put in an exception's message (nor is one chained to it):
errors name the environment variable whose secret is missing, unreadable or malformed.
boto3 is imported only when a secret is first read, so a stage configured with plain
variables (tests, rehearsals) never loads it.
"""

import json
import logging
import math
import os
import re
import sys
import time

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# The environment variables holding each secret's ARN.
DJANGO_ARN = "DJANGO_SECRET_ARN"
ORIGIN_ARN = "ORIGIN_VERIFY_SECRET_ARN"
DATABASE_ARN = "DATABASE_SECRET_ARN"
DEFAULT_TTL = 300
# After a failed re-read the current values stay in use; the next try waits this long,
# so an outage of Secrets Manager does not cost every request a timeout.
RETRY_AFTER = 30

# What an origin header may carry (CloudFront sends it as is): 32 or more safe characters.
HEADER_SAFE = re.compile(r"^[A-Za-z0-9_.~+/=-]{32,}$")


class SecretError(ImproperlyConfigured):
    """A secret is missing, unreadable or malformed. The message names the environment
    variable holding its ARN, never the secret's value."""


def ttl() -> float:
    raw = os.environ.get("SECRETS_TTL", "")
    if not raw:
        return DEFAULT_TTL
    try:
        seconds = float(raw)
    except ValueError:
        raise ImproperlyConfigured("SECRETS_TTL must be a number of seconds") from None
    if seconds < 0:
        raise ImproperlyConfigured("SECRETS_TTL must not be negative")
    return seconds


# ARN -> (when it was read, its parsed value)
_cache: dict[str, tuple[float, dict]] = {}


def clear_cache() -> None:
    _cache.clear()


def read(variable: str, *, refresh: bool = False) -> dict:
    """The secret whose ARN ``variable`` holds, as a JSON object: from the cache while
    it is younger than the time-to-live, else from Secrets Manager."""
    arn = os.environ.get(variable, "")
    if not arn:
        raise SecretError(f"{variable} is not set")
    now = time.time()
    cached = _cache.get(arn)
    # A clock that went backwards counts as expired too.
    if cached and not refresh and cached[0] <= now < cached[0] + ttl():
        return cached[1]
    value = _fetch(variable, arn)
    _cache[arn] = (now, value)
    return value


def _fetch(variable: str, arn: str) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    from . import aws

    # Every exception below is raised "from None": botocore's and json's carry request
    # or document text with them, and a chained one would be printed with ours.
    try:
        response = aws.client("secretsmanager").get_secret_value(SecretId=arn)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "an error"))[:80]
        raise SecretError(
            f"{variable}: Secrets Manager did not return the secret ({code}). Check that "
            "the ARN is this stage's and that the function's role may "
            "secretsmanager:GetSecretValue it."
        ) from None
    except BotoCoreError as exc:
        raise SecretError(
            f"{variable}: Secrets Manager could not be reached ({type(exc).__name__})"
        ) from None
    text = response.get("SecretString")
    if not isinstance(text, str):
        raise SecretError(f"{variable}: the secret has no text value (SecretString)")
    try:
        value = json.loads(text)
    except ValueError:
        raise SecretError(f"{variable}: the secret's value is not JSON") from None
    if not isinstance(value, dict):
        raise SecretError(f"{variable}: the secret's value is not a JSON object")
    return value


def _text(variable: str, secret: dict, key: str) -> str:
    value = secret.get(key)
    if not isinstance(value, str) or not value:
        raise SecretError(f"{variable}: the secret has no {key!r} text")
    return value


def _texts(variable: str, secret: dict, key: str) -> list[str]:
    value = secret.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SecretError(f"{variable}: the secret's {key!r} is not a list of texts")
    return value


# -- what each secret holds ----------------------------------------------------------


def django_keys(*, refresh: bool = False) -> tuple[str, list[str]]:
    """SECRET_KEY and SECRET_KEY_FALLBACKS, checked as production checks its keys."""
    secret = read(DJANGO_ARN, refresh=refresh)
    key = _text(DJANGO_ARN, secret, "SECRET_KEY")
    fallbacks = _texts(DJANGO_ARN, secret, "SECRET_KEY_FALLBACKS")
    if weak := key_weaknesses(key, fallbacks):
        raise SecretError(f"{DJANGO_ARN}: " + "; ".join(weak))
    return key, fallbacks


def origin_secrets(*, refresh: bool = False) -> list[str]:
    """Every origin header value to accept: the current one, then any previous ones."""
    secret = read(ORIGIN_ARN, refresh=refresh)
    accepted = [
        _text(ORIGIN_ARN, secret, "ORIGIN_VERIFY_SECRET"),
        *_texts(ORIGIN_ARN, secret, "ORIGIN_VERIFY_SECRETS_PREVIOUS"),
    ]
    if problem := origin_secret_problem(accepted):
        raise SecretError(f"{ORIGIN_ARN}: {problem}")
    return accepted


def database_credentials(*, refresh: bool = False) -> tuple[str, str]:
    secret = read(DATABASE_ARN, refresh=refresh)
    return (
        _text(DATABASE_ARN, secret, "username"),
        _text(DATABASE_ARN, secret, "password"),
    )


# -- checks shared by plain variables and secrets ------------------------------------


def key_weakness(key: str) -> str:
    """Django's own rule for a strong key (check W009), as a reason, or ""."""
    # Django imports this module at setup anyway.
    from django.core.checks.security.base import (
        SECRET_KEY_INSECURE_PREFIX,
        SECRET_KEY_MIN_LENGTH,
        SECRET_KEY_MIN_UNIQUE_CHARACTERS,
    )

    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"starts with {SECRET_KEY_INSECURE_PREFIX!r}, Django's mark of a generated key"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"has fewer than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    return ""


def key_weaknesses(key: str, fallbacks: list[str]) -> list[str]:
    named = [("SECRET_KEY", key)] + [
        (f"SECRET_KEY_FALLBACKS entry {n}", k) for n, k in enumerate(fallbacks, 1)
    ]
    return [f"{name} {why}" for name, k in named if (why := key_weakness(k))]


def origin_secret_problem(accepted: list[str]) -> str:
    if not accepted:
        return "no origin secret is given"
    if not all(HEADER_SAFE.match(s) for s in accepted):
        return (
            "each origin secret must be at least 32 letters, digits or -_.~+/= "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return ""


# -- rotation without a deploy -------------------------------------------------------

# When the settings' secrets are next re-read; never while nothing is watched.
_next_refresh = math.inf


# The settings each watched secret feeds, and what they hold while it is not read:
# Django refuses an empty SECRET_KEY at its first use, and the origin check accepts no
# request while no origin secret is listed (fail closed).
FEEDS = {
    DJANGO_ARN: {"SECRET_KEY": "", "SECRET_KEY_FALLBACKS": []},
    ORIGIN_ARN: {"ORIGIN_VERIFY_SECRETS": []},
}
# Whether forget() dropped the settings' secrets and refresh_settings() has not yet put
# them back.
_forgotten = False


def watched() -> list[str]:
    """The ARN variables whose secrets feed settings in this process."""
    return [name for name in FEEDS if os.environ.get(name)]


def settings_values(*, refresh: bool = False) -> dict:
    """The settings the watched secrets give, checked."""
    values = {}
    if os.environ.get(DJANGO_ARN):
        values["SECRET_KEY"], values["SECRET_KEY_FALLBACKS"] = django_keys(refresh=refresh)
    if os.environ.get(ORIGIN_ARN):
        values["ORIGIN_VERIFY_SECRETS"] = origin_secrets(refresh=refresh)
    return values


def watch_settings() -> None:
    """Re-read the settings' secrets at the first request after each time-to-live.

    The receiver costs one comparison per request until then. django.conf.settings
    caches what it was asked for, but assigning to it replaces the cached value, and
    everything that uses these settings (signing, sessions, CSRF,
    cms.middleware.CloudFrontOriginMiddleware) reads them anew on each use.
    """
    global _next_refresh
    from django.core.signals import request_started

    _next_refresh = time.time() + ttl()
    request_started.connect(_refresh_if_due, dispatch_uid="cms.secrets.refresh")


def stop_watching() -> None:
    global _next_refresh
    from django.core.signals import request_started

    _next_refresh = math.inf
    request_started.disconnect(dispatch_uid="cms.secrets.refresh")


def forget() -> list[str]:
    """Drop every value read from Secrets Manager from this process (before a SnapStart
    snapshot, cms.snapstart): the cache, and the settings the watched secrets feed, in
    django.conf.settings and in the settings module (which keeps what it computed at
    import). Returns the names of the settings emptied. Settings given by plain variables
    are configuration, in os.environ anyway, and stay. refresh_settings() reads them all
    again; until then nothing is signed and no request passes the origin check."""
    global _forgotten
    from django.conf import settings

    clear_cache()
    emptied = {}
    for variable in watched():
        emptied.update(FEEDS[variable])
    # (None while a test overrides settings: the environment still names the module.)
    module_name = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get(
        "DJANGO_SETTINGS_MODULE", ""
    )
    module = sys.modules.get(module_name)
    for name, empty in emptied.items():
        setattr(settings, name, type(empty)())
        if module is not None and hasattr(module, name):
            setattr(module, name, type(empty)())
    _forgotten = bool(emptied)
    return sorted(emptied)


def _refresh_if_due(sender=None, **kwargs) -> None:
    if time.time() >= _next_refresh:
        refresh_settings()


def refresh_settings() -> list[str]:
    """Re-read the watched secrets now and update the settings they feed; returns the
    names of the settings that changed. A secret that cannot be read, or now holds a
    weak value, leaves every setting as it was (and is logged, without its value)."""
    global _next_refresh, _forgotten
    from django.conf import settings

    try:
        values = settings_values(refresh=True)
    except ImproperlyConfigured as exc:
        if _forgotten:
            # Forgotten (after a SnapStart restore): nothing can be served without them,
            # so the very next request tries again.
            logger.error("Secrets not read, requests fail until they are: %s", exc)
            _next_refresh = 0
        else:
            logger.error("Secrets not refreshed, the current ones stay in use: %s", exc)
            _next_refresh = time.time() + min(RETRY_AFTER, ttl())
        return []
    # settings.SECRET_KEY raises while it is empty: read what is held, as it is.
    held = settings._wrapped
    changed = [name for name, value in values.items() if getattr(held, name, None) != value]
    for name in changed:
        setattr(settings, name, values[name])
    if changed and not _forgotten:
        logger.warning("Rotated secrets picked up: %s", ", ".join(changed))
    _forgotten = False
    _next_refresh = time.time() + ttl()
    return changed
