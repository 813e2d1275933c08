"""What every non-HTTP Lambda entry point shares.

HTTP requests fire Django's request signals, which close stale database connections;
events (cron ticks, S3 records, async tasks) fire none, so entry points wrapped in
``lambda_event`` close stale connections before their work and every connection after
it: a warm container may sit idle for hours after an event, and an open connection
keeps a database that pauses when unused (Aurora Serverless v2 at MinCapacity 0) awake
and billed. An event that opened no connection (a skipped minute tick) closes nothing.
"""

import functools

from django.db import connections

from . import coldstart


def close_stale_connections() -> None:
    """Close connections that are broken or past CONN_MAX_AGE.

    Never inside an atomic block: closing there would break the caller's transaction
    (tests run events inside one, as Django's test client does for requests).
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def close_connections() -> None:
    """Close every open connection (not inside an atomic block, as above)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def lambda_event(func):
    """Decorate a Zappa-invoked ``(event, context)`` function."""

    @functools.wraps(func)
    def wrapper(event, context=None):
        coldstart.resume()  # a container's first event may come before any request
        close_stale_connections()
        try:
            return func(event, context)
        finally:
            close_connections()

    return wrapper
