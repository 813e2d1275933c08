"""Publishing's receivers: old addresses redirect, and a saved schedule moves the
tick's marker earlier."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from sitecontent.models import (
    Page,
    Publishable,
    Revision,
)
from sitecontent.publishing.redirects import page_subtree_paths, redirect_record
from sitecontent.publishing.tick_gate import move_earlier, scheduled_time


@receiver(post_save)
def redirect_old_address(sender, instance, created, raw=False, **kwargs):
    """A published item whose address changed keeps answering at the old one."""
    old = getattr(instance, "_url_before", None)
    if raw or not old or not isinstance(instance, Publishable):
        return
    new = instance.get_absolute_url()
    if old == new:
        return
    redirect_record(old, new)
    if isinstance(instance, Page):
        for old_path, new_path in page_subtree_paths(instance, old):
            redirect_record(old_path, new_path)


@receiver(post_save, dispatch_uid="sitecontent.publishing.receivers.schedule_saved")
def schedule_saved(sender, instance, raw=False, **kwargs):
    if raw or not settings.PUBLISHING_TICK_MARKER:
        return
    if not isinstance(instance, Publishable | Revision):
        return
    at = scheduled_time(instance)
    if at is not None:
        transaction.on_commit(partial(move_earlier, at), robust=True)
