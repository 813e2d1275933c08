"""Writes to the media library that carry rules."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from sitecontent import roles


@transaction.atomic
def media_save(*, item, user):
    """Save an image or document ``user`` changed (or added): only their own, and only
    while no live page shows it, unless they are a publisher (sitecontent.roles).
    The rule is checked against what is stored, not what the form holds."""
    if item.pk is not None:
        stored = type(item).objects.select_for_update().filter(pk=item.pk).first()
        roles.require_change(user, stored or item)
    elif not user.has_perm(f"sitecontent.add_{item._meta.model_name}"):
        raise PermissionDenied(
            _("You may not add %(kind)s.") % {"kind": item._meta.verbose_name_plural}
        )
    item.save()
    return item
