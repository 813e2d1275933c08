"""Signed, expiring preview links for drafts and scheduled items.

A link names the item and (optionally) a draft revision, signed with SECRET_KEY and
timestamped: anyone holding it may look until it expires, and nobody can make one for
another item. A bad or expired link is a plain 404, telling nothing about the item.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "sitecontent.preview"  # signed into live preview links: never change it


def max_age_hours() -> int:
    return settings.PREVIEW_MAX_AGE // 3600


def preview_url(item, revision=None) -> str:
    token = signing.dumps(
        {"m": item._meta.label_lower, "i": item.pk, "r": revision.pk if revision else None},
        salt=SALT,
        compress=True,
    )
    return reverse("sitecontent:preview", kwargs={"token": token})


def read(token: str) -> dict | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PREVIEW_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("m") not in {
        "sitecontent.article",
        "sitecontent.page",
    }:
        return None
    return data
