"""Media receivers: a new image gets its renditions made (and its crops cut again when
its focal point moves), and replaced or deleted files are removed (with their CDN
paths)."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from cms.purging import purge_after_commit
from sitecontent.caching.paths import paths_showing_image
from sitecontent.media import services
from sitecontent.models import Document, Image


@receiver(pre_save, sender=Image)
@receiver(pre_save, sender=Document)
def remember_file_before_change(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).first()
    instance._file_before = before.file.name if before else None
    instance._renditions_before = [
        *(getattr(before, "renditions", None) or []),
        *(getattr(before, "crops", None) or {}).values(),
    ]
    if sender is Image and before is not None:
        instance._focal_before = before.focal_point
    if sender is Document and before is not None:
        instance._shown_before = (before.title, before.file.name)


@receiver(post_save, sender=Image)
def image_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    previous = getattr(instance, "_file_before", None)
    replaced = previous and previous != instance.file.name
    # A moved focal point: the crops are cut again, under new names (rendering.crop_name).
    moved = getattr(instance, "_focal_before", instance.focal_point) != instance.focal_point
    if created or replaced or moved:
        services.image_renditions_request(image_ids=[instance.pk], now=timezone.now())
    if replaced:
        _forget_files([previous, *(r["name"] for r in instance._renditions_before)])
    if not created:
        # Alt text, caption or the file changed: pages showing the image are stale.
        purge_after_commit(paths_showing_image(instance))


@receiver(post_save, sender=Document)
def document_saved(sender, instance, created, raw=False, **kwargs):
    previous = getattr(instance, "_file_before", None)
    if not raw and previous and previous != instance.file.name:
        _forget_files([previous])


@receiver(post_delete, sender=Image)
def image_deleted(sender, instance, **kwargs):
    copies = [*(instance.renditions or []), *(instance.crops or {}).values()]
    _forget_files([instance.file.name, *(r["name"] for r in copies)])


@receiver(post_delete, sender=Document)
def document_deleted(sender, instance, **kwargs):
    _forget_files([instance.file.name])


def _forget_files(names):
    """After commit: delete the files and purge their (folders') CDN paths."""
    names = [name for name in names if name]
    if not names:
        return
    from sitecontent.caching.paths import media_paths
    from sitecontent.tasks import media_files_delete

    purge_after_commit(media_paths(names))
    transaction.on_commit(partial(media_files_delete.enqueue, names=names), robust=True)
