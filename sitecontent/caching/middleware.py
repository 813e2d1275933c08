"""Cache-Control for every response, so CloudFront caches what it may and no longer,
and a page cache in each warm process that is exact across processes.

- Admin, previews, signed-in visitors, responses that set cookies, and anything but a
  GET/HEAD answer: ``private, no-store`` (never in a shared cache).
- Public pages, feeds, the sitemap and the API: cached by the CDN for ``CACHE_S_MAXAGE``
  seconds (browsers for ``CACHE_MAX_AGE``), may be served stale for
  ``CACHE_STALE_WHILE_REVALIDATE`` while revalidating, and all three are capped so that
  no copy outlives the next scheduled change (a go-live, expiry or scheduled edit).
  Edits purge the CDN (cms.cdn), so longer lifetimes would be safe for them; only time
  needs the cap.
- The page cache: CloudFront still asks the function for a page (a miss at another
  edge, a purge, a revalidation). A warm process answers from memory what it rendered
  before, if the content has not changed since: every request reads the one
  ContentVersion row, whose number every content write raises (sitecontent.caching.receivers), and
  entries are keyed by that number and expire before the next scheduled change. So a
  change made through any process is seen by all at their next request, as without the
  cache. ``PAGE_CACHE_SECONDS`` = 0 turns it off (it is off with DEBUG, where templates
  change under a running server).

ETags and 304s come from Django's ConditionalGetMiddleware, which sits above this one.
"""

import logging

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from django.utils.cache import get_cache_key, learn_cache_key

from sitecontent.caching.version import current_version

logger = logging.getLogger(__name__)

NEVER = "private, no-store"
SHARED_STATUSES = {200, 203, 204, 300, 301, 308, 404, 410}
# Addresses only their viewer may see: never in a shared cache, and (robots.txt) never
# crawled.
NOT_SHARED_PREFIXES = ("/admin/", "/preview/")
PAGE_CACHE = "pages"  # the CACHES alias: in-process memory (LocMemCache)


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
        self.page_seconds = 0 if settings.DEBUG else settings.PAGE_CACHE_SECONDS

    @staticmethod
    def _version(now):
        """Seconds until the next scheduled change (or None), and the page cache's key
        prefix: one query, the ContentVersion row."""
        version = current_version(now)
        until = (version.next_change_at - now).total_seconds() if version.next_change_at else None
        return until, f"content-v{version.number}"

    def _page_cache(self, request):
        """The cache to look in, or None: GETs of public addresses by visitors without
        a session or credentials only."""
        if (
            self.page_seconds
            and request.method == "GET"
            and not request.path.startswith(NOT_SHARED_PREFIXES)
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "HTTP_AUTHORIZATION" not in request.META
        ):
            return caches[PAGE_CACHE]
        return None

    def __call__(self, request):
        now = timezone.now()
        cache = self._page_cache(request)
        if cache is not None:
            until, prefix = self._version(now)
            key = get_cache_key(request, prefix, "GET", cache=cache)
            cached = cache.get(key) if key else None
            if cached is not None:
                # Told afresh: the time left before the next change has shrunk.
                cached["Cache-Control"] = public_cache_control(until_next_change=until)
                return cached

        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response  # the view decided (admin pages, previews, downloads)
        if not _shareable(request, response):
            response["Cache-Control"] = NEVER
            return response
        if cache is None:  # read only for what it decides: not for the admin's pages
            until, prefix = self._version(now)
        response["Cache-Control"] = public_cache_control(
            until_next_change=until, not_found=response.status_code == 404
        )
        if cache is not None and response.status_code == 200 and not response.streaming:
            # int() rounds down: the entry is gone before the change, never after.
            timeout = int(min(self.page_seconds, until if until is not None else float("inf")))
            if timeout > 0:
                key = learn_cache_key(request, response, timeout, prefix, cache=cache)
                cache.set(key, response, timeout)
        return response
