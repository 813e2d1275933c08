"""Cache-Control for every response, so CloudFront caches what it may and no longer.

- Admin, previews, signed-in visitors, responses that set cookies, and anything but a
  GET/HEAD answer: ``private, no-store`` (never in a shared cache).
- Public pages, feeds, the sitemap and the API: cached by the CDN for ``CACHE_S_MAXAGE``
  seconds (browsers for ``CACHE_MAX_AGE``), may be served stale for
  ``CACHE_STALE_WHILE_REVALIDATE`` while revalidating, and all three are capped so that
  no copy outlives the next scheduled change (a go-live, expiry or scheduled edit).
  Edits purge the CDN (cms.cdn), so longer lifetimes would be safe for them; only time
  needs the cap.

ETags and 304s come from Django's ConditionalGetMiddleware, which sits above this one.
"""

from django.conf import settings
from django.utils import timezone

from . import selectors

NEVER = "private, no-store"
SHARED_STATUSES = {200, 203, 204, 300, 301, 308, 404, 410}
NOT_SHARED_PREFIXES = ("/admin/", "/preview/")


def _shareable(request, response) -> bool:
    return (
        request.method in {"GET", "HEAD"}
        and response.status_code in SHARED_STATUSES
        and not request.path.startswith(NOT_SHARED_PREFIXES)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not response.cookies
    )


def public_cache_control(*, until_next_change: float | None, not_found: bool = False) -> str:
    """The header for a public response, given seconds until the next scheduled change."""
    cdn = settings.CACHE_S_MAXAGE if not not_found else min(60, settings.CACHE_S_MAXAGE)
    browser = settings.CACHE_MAX_AGE
    stale = settings.CACHE_STALE_WHILE_REVALIDATE
    if until_next_change is not None:
        budget = max(0, int(until_next_change))
        cdn, browser = min(cdn, budget), min(browser, budget)
        stale = min(stale, budget - cdn)  # a stale copy may not outlive the change either
    return f"public, max-age={browser}, s-maxage={cdn}, stale-while-revalidate={stale}"


class CachePolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response  # the view decided (admin pages, previews, downloads)
        if not _shareable(request, response):
            response["Cache-Control"] = NEVER
            return response
        now = timezone.now()
        upcoming = selectors.next_scheduled_change(now=now)
        response["Cache-Control"] = public_cache_control(
            until_next_change=(upcoming - now).total_seconds() if upcoming else None,
            not_found=response.status_code == 404,
        )
        return response
