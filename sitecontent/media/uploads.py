"""Direct uploads: editors' browsers send files straight to S3; an S3 event accepts them.

1. ``upload_issue`` checks what the editor says they will send and grants a presigned
   POST for one key under ``UPLOAD_PREFIX`` (quarantine), for a few minutes, for exactly
   the declared size and content type.
2. The browser posts the file to S3. S3 (not Django) receives the bytes.
3. S3's ObjectCreated event reaches ``upload_object_created``, which re-checks everything
   (S3 enforces the policy, but moto and misconfigured buckets do not), reads the bytes,
   and either creates the Image (from the bytes as sitecontent.media.inspection re-encoded them) or
   Document (a copy of the checked file), or deletes it and records why. Nothing under
   the quarantine prefix is ever served, and no uploaded image byte is ever stored.

Deliveries are at least once: the Upload row is locked while its event is handled, and an
upload that is no longer pending turns a repeat into a no-op.

Without S3 (a laptop, ``DIRECT_UPLOADS`` off) the same three steps run with the site
standing in for the bucket: ``upload_issue`` grants a POST to the admin's receive URL
(no presigned policy), and ``upload_received`` enforces what the policy would (key, exact
size, type, expiry) and then accepts or rejects the bytes exactly as the S3 event does.
The browser's side (sign, POST with progress, poll the status) is the same code.
"""

import logging
import uuid
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cms import aws, media_headers
from sitecontent.media import inspection as media
from sitecontent.media import services
from sitecontent.models import AuditEvent, Document, Image, Upload
from sitecontent.models.media import PreparedImageFile, document_upload_to, safe_filename

logger = logging.getLogger(__name__)

DETAIL_FIELDS = {
    Upload.Kind.IMAGE: {"title": 200, "alt_text": 250, "caption": 250, "credit": 120},
    Upload.Kind.DOCUMENT: {"title": 200},
}
REQUIRED_DETAILS = {Upload.Kind.IMAGE: ("title", "alt_text"), Upload.Kind.DOCUMENT: ("title",)}


def allowed_content_types(kind: str) -> set[str]:
    if kind == Upload.Kind.IMAGE:
        return set(media.IMAGE_TYPES.values())
    return set(media.DOCUMENT_TYPES.values())


def max_size(kind: str) -> int:
    if kind == Upload.Kind.IMAGE:
        return settings.IMAGE_MAX_UPLOAD_SIZE
    return settings.DOCUMENT_MAX_UPLOAD_SIZE


def _storage_location() -> str:
    from django.core.files.storage import default_storage

    return getattr(default_storage, "location", "").strip("/")


def upload_issue(*, user, kind: str, filename: str, content_type: str, size: int,
                 details: dict) -> tuple[Upload, dict]:  # fmt: skip
    """Grant ``user`` one presigned POST; raise ValidationError (per field) if refused."""
    if kind not in Upload.Kind.values:
        raise ValidationError({"kind": _("Choose image or document.")})
    if not user.has_perm(f"sitecontent.add_{kind}"):
        raise PermissionDenied(_("You may not add %(kind)s files.") % {"kind": kind})
    errors = {}
    clean = {}
    for field, length in DETAIL_FIELDS[kind].items():
        value = str(details.get(field) or "").strip()
        if len(value) > length:
            errors[field] = _("At most %(n)d characters.") % {"n": length}
        clean[field] = value
    for field in REQUIRED_DETAILS[kind]:
        if not clean.get(field):
            errors[field] = _("This field is required.")
    name = safe_filename(filename or "", "")
    if not filename or not PurePosixPath(name).suffix:
        errors["file"] = _("Choose a file with a name and an extension.")
    if content_type not in allowed_content_types(kind):
        errors["file"] = _("%(type)s files are not accepted here.") % {
            "type": content_type or _("Unknown")
        }
    limit = max_size(kind)
    if not isinstance(size, int) or size <= 0:
        errors["file"] = _("The file is empty.")
    elif size > limit:
        errors["file"] = _("This file is %(size)s MB; the limit is %(limit)s MB.") % {
            "size": round(size / 2**20, 1),
            "limit": limit // 2**20,
        }
    if errors:
        raise ValidationError(errors)

    upload_id = uuid.uuid4()
    upload = Upload.objects.create(
        id=upload_id,
        kind=kind,
        filename=filename[:255],
        content_type=content_type,
        size=size,
        key=f"{settings.UPLOAD_PREFIX}{upload_id}/{name}",
        expires_at=timezone.now() + timedelta(minutes=settings.UPLOAD_TOKEN_MINUTES),
        details=clean,
        uploaded_by=user,
    )
    if not settings.DIRECT_UPLOADS:
        # The caller (the admin) points the browser at its own receive URL instead.
        return upload, {"url": None, "fields": {"Content-Type": content_type, "key": upload.key}}
    post = aws.client("s3").generate_presigned_post(
        Bucket=settings.MEDIA_BUCKET,
        Key=upload.key,
        Fields={"Content-Type": content_type, "success_action_status": "201"},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", size, size],
            {"success_action_status": "201"},
        ],
        ExpiresIn=settings.UPLOAD_TOKEN_MINUTES * 60,
    )
    return upload, post


def upload_object_created(*, bucket: str, key: str, size: int) -> str:
    """Handle one object created under the upload prefix; returns what was done."""
    if bucket != settings.MEDIA_BUCKET:
        logger.warning("Ignored object %s in bucket %s: not the media bucket", key, bucket)
        return "ignored"
    if not key.startswith(settings.UPLOAD_PREFIX):
        logger.warning("Ignored object %s: outside the upload prefix", key)
        return "ignored"
    upload_id = key[len(settings.UPLOAD_PREFIX) :].split("/", 1)[0]
    try:
        upload_uuid = uuid.UUID(upload_id)
    except ValueError:
        return _discard(bucket, key, "no upload was issued for this key")

    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_uuid).first()
        if upload is None or upload.key != key:
            # Not the exact key that was granted: touch no upload, keep nothing.
            return _discard(bucket, key, "no upload was issued for this key")
        if upload.state != Upload.State.PENDING:
            if _exists(bucket, key):  # a second file sent with a spent token
                return _discard(bucket, key, f"upload {upload.pk} was already {upload.state}")
            logger.info("Upload %s already %s; repeated event ignored", upload.pk, upload.state)
            return "duplicate"
        try:
            data, stored_type = _fetch(bucket, key, upload)
            record = _accept(upload, data, stored_type)
        except media.Rejected as exc:
            _delete(bucket, key)
            upload.state, upload.reason = Upload.State.REJECTED, str(exc)
            upload.processed_at = timezone.now()
            upload.save(update_fields=["state", "reason", "processed_at"])
            logger.warning("Upload %s (%s) rejected: %s", upload.pk, upload.filename, exc)
            return "rejected"
        upload.state, upload.processed_at = Upload.State.ACCEPTED, timezone.now()
        # The audit log's "created": an accepted direct upload skips services.media_save.
        AuditEvent.objects.record(AuditEvent.Action.CREATE, user=upload.uploaded_by, item=record)
        setattr(upload, upload.kind, record)
        upload.save(update_fields=["state", "processed_at", upload.kind])
    _delete(bucket, key)
    return "accepted"


def upload_received(*, user, upload_id, key: str, content_type: str, data: bytes) -> Upload:
    """Without S3: the file ``user`` posted for the upload ``upload_id``, checked as the
    presigned policy and then the S3 event would check it. Returns the Upload, accepted
    or rejected (with its reason); raises PermissionDenied for someone else's upload or
    a token that is spent, unknown or for another key (S3 would answer 403 too)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    def promote(name: str) -> str:
        return default_storage.save(name, ContentFile(data))

    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None or upload.uploaded_by_id != user.pk or upload.key != key:
            raise PermissionDenied(_("No upload was granted for this file."))
        if upload.state != Upload.State.PENDING:
            spent = _("This upload was already %(state)s.") % {"state": upload.state}
            raise PermissionDenied(spent)
        try:
            if timezone.now() > upload.expires_at:
                raise media.Rejected(_("The upload permission had expired; upload the file again."))
            if content_type != upload.content_type:
                raise media.Rejected(
                    _("The file was sent with a different type than was declared.")
                )
            _check_declared_size(len(data), upload)
            record = _accept(upload, data, content_type, promote=promote)
        except media.Rejected as exc:
            upload.state, upload.reason = Upload.State.REJECTED, str(exc)
            upload.processed_at = timezone.now()
            upload.save(update_fields=["state", "reason", "processed_at"])
            logger.warning("Upload %s (%s) rejected: %s", upload.pk, upload.filename, exc)
            return upload
        upload.state, upload.processed_at = Upload.State.ACCEPTED, timezone.now()
        setattr(upload, upload.kind, record)
        upload.save(update_fields=["state", "processed_at", upload.kind])
    return upload


def _fetch(bucket: str, key: str, upload: Upload) -> tuple[bytes, str]:
    """The object's bytes, after the checks S3 should have made (it may not have)."""
    client = aws.client("s3")
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        raise media.Rejected(_("The uploaded file could not be found.")) from exc
    if head["LastModified"] > upload.expires_at:
        raise media.Rejected(_("The upload permission had expired; upload the file again."))
    limit = max_size(upload.kind)
    if head["ContentLength"] > limit:
        raise media.Rejected(
            _("This file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(head["ContentLength"] / 2**20, 1), "limit": limit // 2**20}
        )
    _check_declared_size(head["ContentLength"], upload)
    stored_type = head.get("ContentType", "")
    if stored_type != upload.content_type:
        raise media.Rejected(_("The file was sent with a different type than was declared."))
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    data = body.read(upload.size + 1)
    _check_declared_size(len(data), upload)  # (replaced between the two requests?)
    return data, stored_type


def _check_declared_size(size: int, upload: Upload) -> None:
    if size != upload.size:
        raise media.Rejected(
            _("The file sent is %(sent)d bytes, not the %(declared)d bytes declared.")
            % {"sent": size, "declared": upload.size}
        )


def _accept(upload: Upload, data: bytes, content_type: str, promote=None):
    """Validate the bytes, copy the file out of quarantine and create its record."""
    details = upload.details
    if upload.kind == Upload.Kind.IMAGE:
        prepared = media.prepare_image(data, filename=upload.filename, declared_type=content_type)
        # Written by the storage (with its headers), under a key upload_to makes.
        return Image.objects.create(
            title=details["title"],
            alt_text=details["alt_text"],
            caption=details.get("caption", ""),
            credit=details.get("credit", ""),
            file=PreparedImageFile(prepared, upload.filename),
            uploaded_by=upload.uploaded_by,
        )
    media.inspect_document(data, filename=upload.filename, declared_type=content_type)
    document = Document(
        title=details["title"],
        file=document_upload_to(None, upload.filename),
        uploaded_by=upload.uploaded_by,
    )
    services.document_describe(document, size=len(data))
    if promote is None:
        _promote(upload.key, document.file.name)
    else:
        document.file.name = promote(document.file.name)
    document.save()
    return document


def _promote(source_key: str, name: str) -> None:
    """Copy a checked document into the served location (a copy inside S3: a 50 MB file
    does not pass through Lambda twice), with the headers the storage would store."""
    location = _storage_location()
    aws.client("s3").copy_object(
        Bucket=settings.MEDIA_BUCKET,
        Key=f"{location}/{name}" if location else name,
        CopySource={"Bucket": settings.MEDIA_BUCKET, "Key": source_key},
        MetadataDirective="REPLACE",
        CacheControl=settings.MEDIA_CACHE_CONTROL,
        **media_headers.object_headers(name),
    )


def _exists(bucket: str, key: str) -> bool:
    client = aws.client("s3")
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError:
        return False
    return True


def _delete(bucket: str, key: str) -> None:
    aws.client("s3").delete_object(Bucket=bucket, Key=key)


def _discard(bucket: str, key: str, why: str) -> str:
    _delete(bucket, key)
    logger.warning("Deleted %s: %s", key, why)
    return "deleted"
