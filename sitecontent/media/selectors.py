"""Reads about media: which documents an article or page shows, and which articles and
pages use an image or a document. (Whether the public site shows an image or a
document is sitecontent.models.visibility.)"""

import re
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

# Where a body links a download: /documents/<pk>/<name> (any host in front of it), the
# shape document_address_prefix gives.
_DOCUMENT_LINK = re.compile(r"/documents/(\d+)/")


def document_ids_shown_by(item) -> set[int]:
    """Documents an article or page shows: its attachments and those its body links."""
    ids = {int(pk) for pk in _DOCUMENT_LINK.findall(item.body or "")}
    if item.pk:
        ids.update(document.pk for document in item.attachments.all())  # prefetched or not
    return ids


@dataclass(frozen=True)
class Use:
    """One article or page that uses an image or document, and how."""

    item: object  # an Article or Page (only the fields a list of uses shows)
    ways: tuple[str, ...]  # "hero image", "body", "attachment"


def media_uses(media) -> list[Use]:
    """The articles and pages whose hero, body or attachments use ``media`` (an Image or
    a Document), drafts and expired ones included, each with how it uses it: the change
    form's "Used on these pages". Two queries, whatever the number of uses; bodies are
    matched in the database, not loaded."""
    from sitecontent.models import Article, Document, Image, Page
    from sitecontent.models.visibility import document_address_prefix

    if media.pk is None:
        return []
    if isinstance(media, Image):
        # Like visibility.public_images: by its media-library id or by its files' folder.
        body = Q(body__contains=f'data-file="{media.pk}"')
        if media.file:
            body |= Q(body__contains=f"{media.folder}/")
        ways = {
            "article": {"hero image": Q(hero_image=media.pk), "body": body},
            "page": {"body": body},
        }
    elif isinstance(media, Document):
        body = Q(body__contains=document_address_prefix(media.pk))
        ways = {
            model: {
                "body": body,
                "attachment": Exists(
                    through.objects.filter(**{f"{model}_id": OuterRef("pk"), "document": media.pk})
                ),
            }
            for model, through in (
                ("article", Article.attachments.through),
                ("page", Page.attachments.through),
            )
        }
    else:
        raise TypeError(f"Not media: {media!r}")
    uses = []
    for model in (Article, Page):
        tests = ways[model._meta.model_name]
        conditions = Q()
        for condition in tests.values():
            conditions |= condition if isinstance(condition, Q) else Q(condition)
        rows = (
            model.objects.filter(conditions)
            .annotate(
                **{_flag(way): ExpressionWrapper(c, BooleanField()) for way, c in tests.items()}
            )
            .only(*_LISTED[model._meta.model_name])
            .order_by("title")
        )
        uses += [Use(row, tuple(w for w in tests if getattr(row, _flag(w)))) for row in rows]
    return uses


def _flag(way: str) -> str:
    return "uses_as_" + way.replace(" ", "_")


# What a list of uses shows of each: its title, its state, its addresses.
_PUBLICATION = ("title", "is_published", "publish_at", "unpublish_at")
_LISTED = {
    "article": (*_PUBLICATION, "slug", "category_id"),
    "page": (*_PUBLICATION, "slug", "parent_id"),
}


def images_for_chooser(images, *, query="", collection_id=None, image_id=None):
    """The image chooser's list from ``images`` (what the user may see): newest first,
    matching ``query`` in title or alt text, from one collection, or one image by id."""
    images = images.order_by("-created_at", "-pk")
    if query:
        images = images.filter(Q(title__icontains=query) | Q(alt_text__icontains=query))
    if collection_id is not None:
        images = images.filter(collection_id=collection_id)
    if image_id is not None:
        images = images.filter(pk=image_id)
    return images
