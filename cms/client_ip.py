"""The visitor's address, behind the proxies this site runs behind.

Each proxy appends the address it received the request from to X-Forwarded-For, so the
last TRUSTED_PROXY_COUNT entries were written by our own proxies and the entry just
before them by the first one: the client as our edge saw it. Anything further left came
from the client and may be forged. (django-ipware's proxy_count wants an exact number of
entries and gives up on forged extras, which is why this is not delegated to it.)

Behind CloudFront and API Gateway the count is 2; API Gateway alone, 1; no proxy, 0.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if trusted and len(hops) >= trusted:
        return hops[-trusted]
    return request.META.get("REMOTE_ADDR")
