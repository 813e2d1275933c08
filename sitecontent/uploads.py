"""What happens to files that arrive in the media bucket's upload prefix.

Editors' browsers upload straight to S3, under ``UPLOAD_PREFIX``; an S3 ObjectCreated
event brings each object here. Nothing under that prefix is ever served: an object is
either accepted (moved out of the prefix) or deleted.
"""

import logging

from django.conf import settings

from cms import aws

logger = logging.getLogger(__name__)


def upload_object_created(*, bucket: str, key: str, size: int) -> str:
    """Handle one uploaded object; returns what was done, for the event's log line."""
    if bucket != settings.MEDIA_BUCKET:
        logger.warning("Ignored object %s in bucket %s: not the media bucket", key, bucket)
        return "ignored"
    if not key.startswith(settings.UPLOAD_PREFIX):
        logger.warning("Ignored object %s: outside the upload prefix", key)
        return "ignored"
    # No upload token names this key: it did not come through the editors' upload form.
    aws.client("s3").delete_object(Bucket=bucket, Key=key)
    logger.warning("Deleted %s (%d bytes): no upload was issued for it", key, size)
    return "deleted"
