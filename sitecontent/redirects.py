"""Old addresses keep working: when a published item's address changes, its old one
(and those of pages below it) redirect permanently to the new one.

Built on django.contrib.redirects: its middleware answers requests that would 404 with
the redirect stored for the path; editors manage redirects in the admin.
"""

from django.conf import settings
from django.contrib.redirects.models import Redirect

from .models import Page


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
    """(old, new) addresses of a page's descendants after its own address changed."""
    new_prefix = page.get_absolute_url()
    pairs, stack = [], [page]
    while stack:
        node = stack.pop()
        for child in Page.objects.filter(parent=node):
            child.parent = node
            new = child.get_absolute_url()
            pairs.append((old_prefix + new[len(new_prefix) :], new))
            stack.append(child)
    return pairs
