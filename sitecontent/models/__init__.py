"""Content models (content.py) and the bookkeeping of scheduled publishing (publishing.py)."""

from .content import (
    RESERVED_ROOT_SLUGS,
    Article,
    Category,
    Image,
    Page,
    Publishable,
    PublishableQuerySet,
    SeoFields,
    Status,
    Tag,
    User,
    image_upload_to,
    validate_image_size,
)
from .publishing import ContentTransition, SchedulerState

__all__ = [
    "RESERVED_ROOT_SLUGS",
    "Article",
    "Category",
    "ContentTransition",
    "Image",
    "Page",
    "Publishable",
    "PublishableQuerySet",
    "SchedulerState",
    "SeoFields",
    "Status",
    "Tag",
    "User",
    "image_upload_to",
    "validate_image_size",
]
