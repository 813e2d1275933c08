"""Content models (content.py), media, revisions, reviews (review.py), the audit log
(audit.py), who is editing what and their autosaves (editing.py) and the bookkeeping of
scheduled publishing (publishing.py)."""

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
from sitecontent.models.editing import NEW_ITEM, Autosave, EditingPresence
from sitecontent.models.media import (
    Collection,
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
    "NEW_ITEM",
    "RESERVED_ROOT_SLUGS",
    "Article",
    "AuditEvent",
    "Autosave",
    "Category",
    "Collection",
    "ContentTransition",
    "ContentVersion",
    "Document",
    "EditingPresence",
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
