"""Row changes as an event source: saving or deleting content purges what showed it.

Purges are gathered per transaction and sent after it commits (cms.cdn), so an admin
save of an article and its tags is one purge. Changes nobody could see (a draft edited)
purge nothing.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from cms.cdn import purge_after_commit

from .models import Article, Category, Page, Publishable, Tag
from .selectors import article_paths, paths_for_item

CONTENT = (Article, Page, Category, Tag)


def _shown(item) -> bool:
    return item.is_live() if isinstance(item, Publishable) else True


@receiver(pre_save)
def remember_paths_before_change(sender, instance, raw=False, **kwargs):
    if sender not in CONTENT or raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).first()
    instance._paths_before = paths_for_item(before) if before and _shown(before) else set()


@receiver(post_save)
def purge_after_save(sender, instance, created, raw=False, **kwargs):
    if sender not in CONTENT or raw:
        return
    paths = set(getattr(instance, "_paths_before", set()))
    if _shown(instance) and not (created and sender in (Category, Tag)):
        paths |= paths_for_item(instance)
    if paths:
        purge_after_commit(paths)


@receiver(pre_delete)
def remember_paths_before_delete(sender, instance, **kwargs):
    if sender in CONTENT and _shown(instance):
        instance._paths_before = paths_for_item(instance)


@receiver(post_delete)
def purge_after_delete(sender, instance, **kwargs):
    if sender in CONTENT and getattr(instance, "_paths_before", None):
        purge_after_commit(instance._paths_before)


@receiver(m2m_changed, sender=Article.tags.through)
def purge_after_retagging(sender, instance, action, pk_set, reverse, **kwargs):
    if action not in {"post_add", "post_remove", "pre_clear"} or reverse:
        return
    if not _shown(instance):
        return
    tags = Tag.objects.filter(pk__in=pk_set) if pk_set else instance.tags.all()
    purge_after_commit(
        article_paths(
            slug=instance.slug,
            category_slug=instance.category.slug if instance.category_id else None,
            tag_slugs=[tag.slug for tag in tags],
        )
    )
