import hmac
import logging
import time

from django.conf import settings
from django.http import HttpResponseForbidden

from cms import logs, metrics

logger = logging.getLogger(__name__)


class PublicURLConfMiddleware:
    """Requests outside /admin/ use cms.public_urls, the URLconf without the admin.

    Django resolves a request, and reverses URLs while answering it, against
    ``request.urlconf`` when a middleware sets it. Public pages never link into the
    admin, so they need not pay for building its URL table on a cold start.
    """

    URLCONF = "cms.public_urls"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not (path == "/admin" or path.startswith("/admin/")):
            request.urlconf = self.URLCONF
        return self.get_response(request)


class CloudFrontOriginMiddleware:
    """Serves only requests that came through the site's CloudFront distribution.

    CloudFront adds the origin custom header ``X-Origin-Verify`` to every request it
    sends to API Gateway (docs/caching.md), overwriting any a viewer sent; nothing else
    knows its value. With ``ORIGIN_VERIFY_REQUIRED`` on (production settings' default) a
    request without one of ``ORIGIN_VERIFY_SECRETS`` gets a bare 403 before anything
    reads its host or client address: the API Gateway URL, a function URL or a load
    balancer are no way around CloudFront, nor around the X-Forwarded-For entries it
    vouches for. Any listed secret is accepted, so a new one can be listed before
    CloudFront sends it and the old one dropped after (docs/deploy.md).

    Required or not, the header is removed from the request, and from the raw event
    Zappa keeps in it, so no view, error report or log line ever holds the secret.
    """

    HEADER = "X-Origin-Verify"
    META_KEY = "HTTP_X_ORIGIN_VERIFY"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.pop(self.META_KEY, None)
        if given is not None:
            self._scrub_lambda_event(request)
        if settings.ORIGIN_VERIFY_REQUIRED:
            if not self.matches(given, settings.ORIGIN_VERIFY_SECRETS):
                return self.refuse(request, "wrong" if given else "missing")
            self._serve_at_site_root(request)
        return self.get_response(request)

    @staticmethod
    def _serve_at_site_root(request) -> None:
        """Through CloudFront the site is the root of its own host. CloudFront calls API
        Gateway by the API's host name, though, so Zappa sets SCRIPT_NAME to the stage
        (/production), as it must for a visitor on the API's own URL; every link Django
        reversed would then point at https://www.example.com/production/…, which is no
        page of the site."""
        if request.META.get("SCRIPT_NAME"):
            from django.urls import set_script_prefix

            request.META["SCRIPT_NAME"] = ""
            request.path = request.path_info
            set_script_prefix("/")

    @staticmethod
    def matches(given: str | None, secrets) -> bool:
        if not given:
            return False
        offered = given.encode("utf-8", "replace")
        # Every secret is compared, in constant time, whichever matches.
        found = False
        for secret in secrets:
            found |= hmac.compare_digest(offered, secret.encode())
        return found

    def _scrub_lambda_event(self, request) -> None:
        """Django code sees Zappa's raw event as META["lambda.event"]: give it a copy
        without the header (the caller's dict is left alone: a replayed event, as the
        benchmarks send, must still carry it)."""
        event = request.META.get("lambda.event")
        if not isinstance(event, dict):
            return
        scrubbed = dict(event)
        for key in ("headers", "multiValueHeaders"):
            headers = event.get(key)
            if isinstance(headers, dict):
                scrubbed[key] = {
                    name: value
                    for name, value in headers.items()
                    if name.lower() != self.HEADER.lower()
                }
        request.META["lambda.event"] = scrubbed

    @staticmethod
    def refuse(request, why: str):
        logger.warning(
            "Refused %s %r: %s origin header (not through CloudFront)",
            request.method,
            request.path[:200],
            why,
        )
        response = HttpResponseForbidden("Forbidden\n", content_type="text/plain")
        # Never kept by CloudFront or a browser: a secret being rotated must not leave
        # cached refusals behind.
        response["Cache-Control"] = "no-store"
        return response


class SiteNotFoundUnderDebugMiddleware:
    """With DEBUG on (``make run``), a page that is not there shows the site's own 404
    page, as visitors get it, instead of Django's technical one; tracebacks for every
    other error stay. Local settings only (SITE_404_UNDER_DEBUG); the admin keeps
    Django's technical 404, which is what a developer wants there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.http import Http404

        if not (settings.DEBUG and isinstance(exception, Http404)):
            return None
        from cms import views

        if views._under_admin(request):
            return None
        return views.page_not_found(request, exception)


class RequestLogMiddleware:
    """One access line per HTTP request (cms.logs), and its latency metric.

    First in MIDDLEWARE, so it times every other middleware and sees the requests they
    refuse. Outside Lambda a request gets an id of its own, so lines still group by it.
    """

    logger = logging.getLogger("cms.access")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        # path_info: the site's own path (no API stage prefix), never the query string.
        with logs.request(request.method, request.path_info) as fields:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - start) * 1000, 1)
            self.logger.info(
                "%s %s %s %.1f ms",
                fields["method"],
                fields["path"],
                response.status_code,
                duration_ms,
                extra={"status": response.status_code, "duration_ms": duration_ms},
            )
            metrics.put(metrics.REQUEST_LATENCY, duration_ms, "Milliseconds")
            return response
