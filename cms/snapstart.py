"""Lambda SnapStart: Django loaded once during the init Lambda snapshots, and nothing in
that snapshot that must not be shared by every container restored from it.

With SnapStart (production: zappa_settings.json ``snap_start``), Lambda runs the init of
each published version once, snapshots the memory of the initialised process, and starts
every later container of that version by restoring the snapshot instead of running init
again. What the snapshot holds is then shared by every restored container, at once and for
as long as the version lives. cms.lambda_entry calls ``load_at_init`` at import when the
init is a SnapStart one (``AWS_LAMBDA_INITIALIZATION_TYPE`` is ``snap-start``) or when
asked (``LOAD_DJANGO_AT_INIT=1``, or Zappa's own ``INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT``);
otherwise Django loads in the first request, as before, and this module is not imported.

- init (``load_at_init``): Zappa's handler loads the settings and Django (apps, models,
  middleware), then ``prime`` does the first request's work that needs no database and no
  network: both URLconfs built, the public templates compiled (with their tag libraries),
  the models' field trees, the database backend's SQL compilers, the context processors,
  the static files' manifest, the storage classes and the date formats;
- before the snapshot (``before_snapshot``): every database connection is closed, every
  value read from Secrets Manager is dropped (cms.secrets.forget), the cached boto3
  clients (and their sockets and credentials) go, and garbage is collected so none of it
  survives in freed cycles; nothing random is seeded;
- after each restore (``after_restore``): ``random`` is reseeded from the restored
  container's own entropy and tempfile's name sequence is dropped (both were made from
  the init's entropy and are identical in every restored container), then the secrets
  are read again (cms.secrets.refresh_settings); the database connection opens, with
  freshly read credentials, at the first query.

The hooks are registered with ``snapshot_restore_py``, the module Lambda's Python runtime
provides (requirements-dev.txt pins it for tests; the package does not ship it). Under a
SnapStart init without it, Django is not loaded at init at all: a snapshot without the
hooks would hold the secrets. docs/snapstart.md says more.
"""

import gc
import logging
import os

logger = logging.getLogger(__name__)

# Lambda sets it during the init of a version with SnapStart on (and "on-demand" or
# "provisioned-concurrency" otherwise).
INIT_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"
SNAP_START = "snap-start"
# Load Django at init without SnapStart (provisioned concurrency, benchmarks).
LOAD_AT_INIT = "LOAD_DJANGO_AT_INIT"
ZAPPA_LOAD_AT_INIT = "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT"

# Django templates the first public request would load besides the public ones
# (cms.jinja_templates.template_names: all of them, errors included).
DJANGO_TEMPLATES = ("500.html",)


def wanted(environ=os.environ) -> bool:
    """Whether Django loads during init (cms.lambda_entry asks at import)."""
    return (
        environ.get(INIT_TYPE) == SNAP_START
        or environ.get(LOAD_AT_INIT) == "1"
        or bool(environ.get(ZAPPA_LOAD_AT_INIT))
    )


def _hooks():
    try:
        import snapshot_restore_py
    except ImportError:
        return None
    return snapshot_restore_py


def load_at_init() -> bool:
    """Load Django and prime it, with the snapshot hooks registered; returns whether
    Django was loaded."""
    hooks = _hooks()
    if hooks is None and os.environ.get(INIT_TYPE) == SNAP_START:
        logger.error(
            "SnapStart init without snapshot_restore_py (Lambda's Python runtime provides "
            "it): Django is left to load at the first request, so no secret or "
            "connection is captured in the snapshot"
        )
        return False
    if hooks is not None:
        hooks.register_before_snapshot(before_snapshot)
        hooks.register_after_restore(after_restore)
    from zappa.handler import LambdaHandler

    LambdaHandler()  # a singleton: every event of this container reuses it
    prime()
    return True


def prime() -> None:
    """The first request's work that needs neither the database nor the network."""
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.cache import caches
    from django.db import connections
    from django.template import engines
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import formats
    from django.utils.module_loading import import_string

    from .jinja_templates import template_names
    from .middleware import PublicURLConfMiddleware

    for urlconf in (None, PublicURLConfMiddleware.URLCONF):
        get_resolver(urlconf).reverse_dict  # noqa: B018 (builds the resolver's tables)
    for name in (*template_names(settings.BASE_DIR / "templates"), *DJANGO_TEMPLATES):
        get_template(name)  # each engine keeps it compiled
    for engine in engines.all():
        # Django's engine keeps them on its Engine, the Jinja2 backend on itself.
        getattr(engine, "engine", engine).template_context_processors  # noqa: B018
    for model in apps.get_models():
        model._meta.get_fields()
    for alias in connections:
        # The backend's SQL compilers (imported by the first query); connects to nothing.
        connections[alias].ops.compiler("SQLCompiler")
    caches["default"]  # the cache backend, made on first use
    staticfiles_storage.exists  # noqa: B018 (reads the manifest from the package)
    # Media storage classes are imported, not made: an S3 storage would keep what it
    # resolved (credentials among it) in the snapshot.
    for options in settings.STORAGES.values():
        import_string(options["BACKEND"])
    for name in ("MESSAGE_STORAGE", "SESSION_SERIALIZER"):
        import_string(getattr(settings, name))
    formats.get_format("DATE_FORMAT")  # the language's format module


def before_snapshot() -> None:
    """Leave nothing in the process that no two containers may share."""
    from django.db import connections

    from . import aws, secrets

    connections.close_all()
    secrets.forget()
    aws.client.cache_clear()
    # Whatever held a secret or a socket and is now unreachable goes before the snapshot,
    # not in some later collection of every restored container.
    gc.collect()


def after_restore() -> None:
    """Make this container's own randomness, then read the secrets again."""
    import random  # both imported by then anyway; here so that every cold start is not
    import tempfile  # made to pay for them before Django needs them

    from . import secrets

    random.seed()  # from os.urandom: the restored container's entropy
    tempfile._name_sequence = None  # its generator was seeded at init; made anew on use
    if changed := secrets.refresh_settings():
        logger.info("Secrets read after restore: %s", ", ".join(changed))
