"""Old addresses keep working: when a published item's address changes, its old one
(and those of pages below it) redirect permanently to the new one.

Built on django.contrib.redirects: its middleware answers requests that would 404 with
the redirect stored for the path; editors manage redirects in the admin.

What a redirect may say (``check_redirect``, which the admin form, ``redirect_save`` and
the middleware all use):

- the old address is a path on this site (``/old-campaign/``);
- the target is a path on this site (``/articles/``), an http(s) address on one of
  this site's hosts, or empty (410 Gone); an http(s) address elsewhere only for a user
  allowed to send visitors off the site (``roles.can_redirect_offsite``);
- never another scheme (``javascript:``, ``data:``…), a scheme-relative ``//host``, a
  backslash, spaces or control characters (browsers read a backslash, or a tab or line
  break dropped from between two slashes, as ``//host``), or a user name before the host.

The answer is a public 301 the CDN keeps, so saving or deleting one purges its path.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.redirects.middleware import RedirectFallbackMiddleware
from django.contrib.redirects.models import Redirect
from django.core.exceptions import DisallowedRedirect, PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponsePermanentRedirect
from django.utils.translation import gettext as _

from cms.purging import purge_after_commit
from sitecontent.models import Page
from sitecontent.roles import can_redirect_offsite

LOCAL, OFFSITE = "local", "offsite"


def _site_hosts() -> set[str]:
    hosts = {urlsplit(settings.SITE_URL).hostname or ""}
    hosts |= {h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and h != "*"}
    return {host.lower() for host in hosts if host}


def _malformed(value: str) -> str | None:
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return _("An address cannot contain spaces or control characters.")
    if "\\" in value:
        return _("An address cannot contain a backslash.")
    return None


def classify_target(new_path: str) -> str:
    """LOCAL or OFFSITE for a redirect target; ValidationError for one never allowed."""
    if new_path == "":
        return LOCAL  # 410 Gone
    if problem := _malformed(new_path):
        raise ValidationError(problem, code="invalid")
    if new_path.startswith("/") and not new_path.startswith("//"):
        return LOCAL
    parts = urlsplit(new_path)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            _("Use a path on this site (starting with /) or an http:// or https:// address."),
            code="invalid",
        )
    if parts.username is not None or parts.password is not None:
        raise ValidationError(_("An address cannot name a user before its host."), code="invalid")
    return LOCAL if parts.hostname.lower() in _site_hosts() else OFFSITE


def check_old_path(old_path: str) -> None:
    if problem := _malformed(old_path):
        raise ValidationError(problem, code="invalid")
    if not old_path.startswith("/") or old_path.startswith("//"):
        raise ValidationError(
            _("The old address is a path on this site, starting with one /."), code="invalid"
        )


def check_redirect(*, old_path: str, new_path: str, user) -> None:
    """Raise ValidationError (by field) unless ``user`` may store this redirect."""
    errors = {}
    try:
        check_old_path(old_path)
    except ValidationError as exc:
        errors["old_path"] = exc.messages
    try:
        if classify_target(new_path) == OFFSITE and not can_redirect_offsite(user):
            errors["new_path"] = [
                _("Only publishers may send visitors to another site; use a path on this site.")
            ]
    except ValidationError as exc:
        errors["new_path"] = exc.messages
    if errors:
        raise ValidationError(errors)


def can_change_redirect(user, redirect: Redirect) -> bool:
    """A redirect off the site stays in the hands of those who may make one."""
    try:
        offsite = classify_target(redirect.new_path) == OFFSITE
    except ValidationError:
        offsite = False  # a malformed one may be fixed by anyone allowed to edit redirects
    return not offsite or can_redirect_offsite(user)


@transaction.atomic
def redirect_save(*, redirect: Redirect, user) -> Redirect:
    """Store a redirect an editor made or changed, and purge the addresses involved."""
    if redirect.pk is not None:
        stored = Redirect.objects.filter(pk=redirect.pk).first()
        if stored is not None and not can_change_redirect(user, stored):
            raise PermissionDenied(_("Only publishers may change a redirect to another site."))
    check_redirect(old_path=redirect.old_path, new_path=redirect.new_path, user=user)
    before = Redirect.objects.filter(pk=redirect.pk).values_list("old_path", flat=True).first()
    redirect.save()
    purge_after_commit({path for path in (before, redirect.old_path) if path})
    return redirect


@transaction.atomic
def redirect_delete(*, redirect: Redirect, user) -> None:
    if not can_change_redirect(user, redirect):
        raise PermissionDenied(_("Only publishers may change a redirect to another site."))
    old_path = redirect.old_path
    redirect.delete()
    purge_after_commit({old_path})


def redirect_record(old_path: str, new_path: str) -> None:
    """Send ``old_path`` to ``new_path`` for good, without chains or loops."""
    if old_path == new_path:
        return
    site = settings.SITE_ID
    # Whatever pointed at the old address now points straight at the new one.
    Redirect.objects.filter(site_id=site, new_path=old_path).update(new_path=new_path)
    # The new address is real content now: a redirect away from it would hide it.
    Redirect.objects.filter(site_id=site, old_path=new_path).delete()
    Redirect.objects.update_or_create(
        site_id=site, old_path=old_path, defaults={"new_path": new_path}
    )


def page_subtree_paths(page: Page, old_prefix: str) -> list[tuple[str, str]]:
    """(old, new) addresses of the published pages below ``page``, after its own address
    changed from ``old_prefix`` (a new slug, or a new parent: every way a page moves).

    One query per level, not per page. A draft below has no public address to keep, so
    it gets no redirect (as a draft's own rename leaves none); the levels under it are
    still walked, since a published page there may become reachable again.
    """
    new_prefix = page.get_absolute_url()
    pairs, level = [], [page]
    while level:
        parents = {node.pk: node for node in level}
        below = list(
            Page.objects.filter(parent__in=level).only("slug", "parent_id", "is_published")
        )
        for child in below:
            child.parent = parents[child.parent_id]  # the walk's chain: no query per URL
            if child.is_published:
                new = child.get_absolute_url()
                pairs.append((old_prefix + new[len(new_prefix) :], new))
        level = below
    return pairs


def _checked_redirect(new_path: str) -> HttpResponsePermanentRedirect:
    classify_target(new_path)  # ValidationError for a target the rules never allow
    return HttpResponsePermanentRedirect(new_path)


class SafeRedirectFallbackMiddleware(RedirectFallbackMiddleware):
    """django.contrib.redirects' middleware, serving only targets the rules allow, so a
    row stored some other way (SQL, a fixture, an older release) cannot send visitors to
    a ``javascript:`` or ``//host`` address: it stays a 404."""

    response_redirect_class = staticmethod(_checked_redirect)

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except (ValidationError, DisallowedRedirect):
            return response
