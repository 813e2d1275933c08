"""Publishing's receivers: old addresses redirect, and a saved schedule moves the
tick's marker earlier.

Connected with explicit senders when SiteContentConfig.ready imports this module.
"""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from sitecontent.models import Article, Page, Revision
from sitecontent.publishing.redirects import page_subtree_paths, redirect_record
from sitecontent.signals import content_address_changed

# -- noticing a changed address --------------------------------------------------------
# An address changes with a slug or a parent, and every write can do that: the admin, a
# draft put live, the tick applying one, a command, a shell, a data migration's code.
# Redirects must follow all of them, so this one raw pre_save/post_save pair notices the
# change at the model and sends the domain signal; receivers of the change listen to
# that, never to post_save.


@receiver(pre_save, sender=Article)
@receiver(pre_save, sender=Page)
def remember_address(sender, instance, raw=False, **kwargs):
    """pre_save: note a published item's address as stored, before the save changes it."""
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk, is_published=True).first()
    instance.__dict__["_url_before"] = before.get_absolute_url() if before else None


@receiver(post_save, sender=Article)
@receiver(post_save, sender=Page)
def announce_address_change(sender, instance, raw=False, **kwargs):
    """post_save: send content_address_changed if the address remembered is not the
    address now."""
    old = instance.__dict__.pop("_url_before", None)
    if raw or not old:
        return
    new = instance.get_absolute_url()
    if old != new:
        content_address_changed.send(sender=sender, instance=instance, old_url=old, new_url=new)


# -- what follows from publishing -------------------------------------------------------


@receiver(content_address_changed, sender=Article)
@receiver(content_address_changed, sender=Page)
def redirect_old_address(sender, instance, old_url, new_url, **kwargs):
    """A published item whose address changed keeps answering at the old one, and so do
    the published pages below a page (a new slug or a new parent alike: the admin form,
    the page tree, a restored revision)."""
    redirect_record(old_url, new_url)
    if isinstance(instance, Page):
        for old_path, new_path in page_subtree_paths(instance, old_url):
            redirect_record(old_path, new_path)


@receiver(post_save, sender=Article)
@receiver(post_save, sender=Page)
@receiver(post_save, sender=Revision)
def schedule_saved(sender, instance, raw=False, **kwargs):
    """post_save of an item or a revision: a go-live or expiry time set moves the tick's
    marker earlier (sitecontent.publishing.tick_gate)."""
    if raw or not settings.PUBLISHING_TICK_MARKER:
        return
    # Here: saves only (every cold start imports this module, at django.setup()).
    from sitecontent.publishing.tick_gate import move_earlier, scheduled_time

    at = scheduled_time(instance)
    if at is not None:
        transaction.on_commit(partial(move_earlier, at), robust=True)
