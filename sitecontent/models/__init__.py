"""Content models (content.py), media, revisions, reviews (review.py), the audit log
(audit.py) and the bookkeeping of scheduled publishing (publishing.py)."""

from sitecontent.models.audit import AuditEvent
from sitecontent.models.content import (
    RESERVED_ROOT_SLUGS,
    Article,
    Category,
    Page,
    Publishable,
    PublishableQuerySet,
    SeoFields,
    Status,
    Tag,
    User,
)
from sitecontent.models.media import (
    Document,
    Image,
    Upload,
    document_upload_to,
    image_upload_to,
    validate_document_bytes,
    validate_document_size,
    validate_image_bytes,
    validate_image_size,
)
from sitecontent.models.publishing import ContentTransition, ContentVersion, SchedulerState
from sitecontent.models.review import ReviewRequest
from sitecontent.models.revisions import Revision

__all__ = [
    "RESERVED_ROOT_SLUGS",
    "Article",
    "AuditEvent",
    "Category",
    "ContentTransition",
    "ContentVersion",
    "Document",
    "Image",
    "Page",
    "Publishable",
    "PublishableQuerySet",
    "ReviewRequest",
    "Revision",
    "SchedulerState",
    "SeoFields",
    "Status",
    "Tag",
    "Upload",
    "User",
    "document_upload_to",
    "image_upload_to",
    "validate_document_bytes",
    "validate_document_size",
    "validate_image_bytes",
    "validate_image_size",
]
