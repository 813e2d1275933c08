"""A database that cannot be reached answers 503, not 500.

While PostgreSQL restarts, fails over, resumes from a pause, or refuses a connection
("too many clients"), a request that needs it raises django.db's OperationalError or
InterfaceError. Without this the visitor gets the generic 500 page and the log a
traceback per request. ``server_error`` is both URLconfs' handler500: for those errors it
answers 503 with Retry-After (the branded templates/503.html; JSON under /api/), logs one
line (the error class and the server's first line, which name the host but never the
password: psycopg2 does not put it in messages, and the DSN is not logged), and marks the
response as logged so Django adds no traceback; each such answer is one
DATABASE_UNAVAILABLE metric (cms.metrics). Every other error gets the 500 page as
before. The next request after the database is back needs nothing: CONN_HEALTH_CHECKS
finds the dead connection and Django opens a new one (tests/test_database_load.py).
"""

import logging
import re
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

# Seconds a client (or CloudFront, for its error caching) is asked to wait: about what a
# restart or a Multi-AZ failover behind RDS Proxy takes.
RETRY_AFTER = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Anything that looks like a credential in a driver's message is blanked before logging.
_SECRET = re.compile(r"(password|passwd|pwd)\s*=\s*\S+", re.IGNORECASE)


def is_database_outage(exc: BaseException | None) -> bool:
    """The exception, or one it was raised from, is the database being unreachable."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def describe(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {_SECRET.sub(r'\1=***', first)}"[:300]


def unavailable_response(request):
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"detail": "The service is unavailable; try again shortly.", "status": 503},
            status=503,
        )
    else:
        # No request context: the page must render with no database (templates/503.html).
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    # Never cached by CloudFront or a browser as if it were the page.
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, template_name="500.html"):
    """handler500 of cms.urls and cms.public_urls."""
    exc = sys.exc_info()[1]
    if not is_database_outage(exc):
        return defaults.server_error(request, template_name)
    logger.error(
        "Database unavailable, answered 503 for %s %s: %s",
        request.method,
        request.path,
        describe(exc),
    )
    # Counted too, so an outage shows on the dashboard and rings its alarm by itself
    # rather than only in the 5xx rate (cms.metrics, infra/template.py).
    from cms import metrics

    metrics.put(metrics.DATABASE_UNAVAILABLE, 1)
    response = unavailable_response(request)
    # django.request would log it again, with the traceback (django.utils.log.log_response).
    response._has_been_logged = True
    return response
