"""Cache invalidation: saving or deleting content purges what showed it, and every
write raises the content version the page caches are keyed by.

These are the only receivers of raw model signals that purge: a row changed is a page
changed, however it was written. What changes without a row being written (a go-live
or expiry time passing, announced by the minute tick) arrives as the domain signals
content_published / content_unpublished (sitecontent.signals).

Purges are gathered per transaction and sent after it commits (cms.purging), so an admin
save of an article and its tags is one purge, and a publish that also saves the row
purges once. Changes nobody could see (a draft edited) purge nothing.
"""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from cms.purging import purge_after_commit
from sitecontent.caching import version
from sitecontent.caching.paths import (
    article_paths,
    paths_for_item,
    paths_showing,
    paths_showing_document,
)
from sitecontent.models import (
    Article,
    Category,
    Document,
    Image,
    Page,
    Publishable,
    Revision,
    Tag,
    User,
)
from sitecontent.signals import content_published, content_unpublished

logger = logging.getLogger(__name__)

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
    # A publishing service announces right after its save: this purge already covers
    # what that announcement would (the paths before and after; link changes made after
    # the save have their own m2m purge), so purge_after_publishing skips it once.
    instance.__dict__["_purged_by_save"] = True


@receiver(content_published, sender=Article)
@receiver(content_published, sender=Page)
@receiver(content_unpublished, sender=Article)
@receiver(content_unpublished, sender=Page)
def purge_after_publishing(sender, instance, **kwargs):
    """An item went live or left the site: purge what shows it. Needed where no row was
    written (the tick's go-live and expiry transitions); after a save it is done already."""
    if instance.__dict__.pop("_purged_by_save", False):
        return
    purge_after_commit(paths_for_item(instance))


@receiver(pre_delete)
def remember_paths_before_delete(sender, instance, **kwargs):
    if sender in CONTENT and _shown(instance):
        instance._paths_before = paths_for_item(instance)


@receiver(post_delete)
def purge_after_delete(sender, instance, **kwargs):
    if sender in CONTENT and getattr(instance, "_paths_before", None):
        purge_after_commit(instance._paths_before)


def _relinked(action, pk_set, linked):
    """The rows an m2m change touched, from ``linked`` (the related manager): every
    linked row before a clear, ``pk_set`` after an add or remove; None when nothing was
    touched (an add finding every row linked already sends an empty ``pk_set``)."""
    if action == "pre_clear":
        return linked.all()
    if action in {"post_add", "post_remove"} and pk_set:
        return linked.model.objects.filter(pk__in=pk_set)
    return None


def _purge_relinked(paths_of):
    """Purge ``paths_of()``. Django sends m2m signals without a ``raw`` flag, so they
    also fire while ``loaddata`` sets links on rows whose parents may not be loaded
    yet; nothing is cached from a half-loaded database, so that is skipped."""
    try:
        paths = paths_of()
    except ObjectDoesNotExist:
        logger.info("No CDN purge for a link between rows not all loaded yet")
        return
    if paths:
        purge_after_commit(paths)


@receiver(m2m_changed, sender=Article.tags.through)
def purge_after_retagging(sender, instance, action, pk_set, reverse, **kwargs):
    if reverse:  # tag.articles.add(...): the tag's own list and the articles' pages
        articles = _relinked(action, pk_set, instance.articles)
        if articles is not None:

            def paths_of():
                shown = paths_showing(articles=articles)
                return {*shown, f"/tags/{instance.slug}/*"} if shown else set()

            _purge_relinked(paths_of)
        return
    tags = _relinked(action, pk_set, instance.tags)
    if tags is None or not _shown(instance):
        return
    _purge_relinked(
        lambda: article_paths(
            slug=instance.slug,
            category_slug=instance.category.slug if instance.category_id else None,
            tag_slugs=[tag.slug for tag in tags],
        )
    )


@receiver(m2m_changed, sender=Article.attachments.through)
@receiver(m2m_changed, sender=Page.attachments.through)
def purge_after_attaching(sender, instance, action, pk_set, reverse, model, **kwargs):
    """Downloads are listed on the article's or page's own page (an admin save purges
    it anyway; this covers changes made in code or through the document's side)."""
    if reverse:  # document.articles.add(...): ``model`` is Article or Page
        kind = "articles" if model is Article else "pages"
        items = _relinked(action, pk_set, getattr(instance, kind))
        if items is not None:
            _purge_relinked(lambda: paths_showing(**{kind: items}))
        return
    if _relinked(action, pk_set, instance.attachments) is not None and _shown(instance):
        _purge_relinked(lambda: paths_for_item(instance))


# -- bylines and downloads: shown on content pages, edited elsewhere ------------------

# What an article's byline and author box show (User.public_name, the bio).
BYLINE_FIELDS = ("display_name", "first_name", "last_name", "bio")


@receiver(pre_save, sender=User)
def remember_byline_before_change(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(BYLINE_FIELDS):
        return  # a sign-in (last_login) or a password change: no query
    instance._byline_before = (
        sender.objects.filter(pk=instance.pk).values_list(*BYLINE_FIELDS).first()
    )


@receiver(post_save, sender=User)
def purge_after_byline_change(sender, instance, raw=False, **kwargs):
    before = instance.__dict__.pop("_byline_before", None)
    if raw or before is None:
        return
    if before != tuple(getattr(instance, field) for field in BYLINE_FIELDS):
        paths = paths_showing(articles=Article.objects.filter(author=instance))
        if paths:
            purge_after_commit(paths)


@receiver(post_save, sender=Document)
def purge_after_document_change(sender, instance, created, raw=False, **kwargs):
    # Its title is the link text, its file name is in the link (and its size beside
    # it); the CDN also holds the download address itself (a redirect to the file,
    # cached for minutes). A save changing neither purges nothing.
    before = instance.__dict__.pop("_shown_before", None)
    if not created and not raw and before != (instance.title, instance.file.name):
        purge_after_commit(paths_showing_document(instance))


@receiver(pre_delete, sender=Document)
def remember_document_paths(sender, instance, **kwargs):
    instance._paths_before = paths_showing_document(instance)  # while still linked


@receiver(post_delete, sender=Document)
def purge_after_document_delete(sender, instance, **kwargs):
    purge_after_commit(instance.__dict__.pop("_paths_before", set()))


# -- the content version (sitecontent.caching.version) ----------------------------------

# Every write to these may change what a page shows or when it next changes by itself
# (a schedule set on a draft included), so it raises the version all processes' page
# caches are keyed by. Raising it for a change nobody sees costs a cache miss, no more.
VERSIONED = (*CONTENT, Image, Document, Revision, User)


@receiver(post_save)
@receiver(post_delete)
def content_version_after_write(sender, instance, raw=False, update_fields=None, **kwargs):
    if sender not in VERSIONED or raw or update_fields == frozenset({"last_login"}):
        return  # (a sign-in changes no page)
    version.content_changed()


@receiver(m2m_changed)
def content_version_after_relinking(sender, instance, action, **kwargs):
    if action.startswith("post_") and isinstance(instance, VERSIONED):
        version.content_changed()
