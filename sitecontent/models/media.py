"""The media library: images, documents, and the uploads editors send straight to S3."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from ..plaintext import PlainCharField


def safe_filename(filename: str, fallback: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    path = PurePosixPath(name)
    stem = slugify(path.stem)[:80] or fallback
    return f"{stem}{path.suffix.lower()[:10]}"


def image_upload_to(instance, filename: str) -> str:
    """A fresh key per upload, so a replaced file never needs a CDN invalidation."""
    return f"images/{uuid.uuid4().hex}/{safe_filename(filename, 'image')}"


def document_upload_to(instance, filename: str) -> str:
    return f"documents/{uuid.uuid4().hex}/{safe_filename(filename, 'document')}"


@deconstructible
class FileSizeLimit:
    """Refuse files over the size in the named setting (read at validation time)."""

    def __init__(self, setting: str):
        self.setting = setting

    def __call__(self, file):
        if _already_stored(file):
            return
        limit = getattr(settings, self.setting)
        if file.size > limit:
            raise ValidationError(
                _("This file is %(size)s MB; the limit is %(limit)s MB."),
                params={"size": round(file.size / 2**20, 1), "limit": limit // 2**20},
                code="file_too_large",
            )

    def __eq__(self, other):
        return isinstance(other, FileSizeLimit) and other.setting == self.setting


validate_image_size = FileSizeLimit("IMAGE_MAX_UPLOAD_SIZE")
validate_document_size = FileSizeLimit("DOCUMENT_MAX_UPLOAD_SIZE")


def _already_stored(file) -> bool:
    """A file saved earlier was checked when it arrived (by its form or the S3 upload
    handler). Model validation runs on every save, even one that only edits the alt
    text: checking again would fetch the whole original from S3 each time."""
    return getattr(file, "_committed", False)


class ImageField(models.ImageField):
    """Django's ImageField, minus re-reading a stored file to refresh width and height.

    Django reads the image header again whenever a form assigns the file, even the one
    already stored: on S3, a GET for every alt-text edit. A stored file's size was
    recorded when it arrived and cannot change (keys are unique per upload), so only a
    new file, or a row without its size yet, is read."""

    def update_dimension_fields(self, instance, force=False, *args, **kwargs):
        file = getattr(instance, self.attname)
        known = all(getattr(instance, f, None) for f in (self.width_field, self.height_field))
        if force and known and file and _already_stored(file):
            return
        super().update_dimension_fields(instance, force, *args, **kwargs)


def _check_bytes(file, inspector: str, code: str) -> None:
    """The byte checks the S3 upload handler applies (sitecontent.media), for a file
    arriving through a form; a stored one was checked when it arrived."""
    from .. import media

    if _already_stored(file):
        return
    file.seek(0)
    try:
        getattr(media, inspector)(file.read(), filename=file.name)
    except media.Rejected as exc:
        raise ValidationError(str(exc), code=code) from exc
    finally:
        file.seek(0)


def validate_image_bytes(file):
    _check_bytes(file, "inspect_image", "invalid_image")


def validate_document_bytes(file):
    _check_bytes(file, "inspect_document", "invalid_document")


class Image(models.Model):
    """An image in the media library that articles and pages can use.

    ``renditions`` lists the resized copies a task made after upload (widths and formats
    from sitecontent.media), so pages build ``srcset`` without touching storage.
    """

    title = PlainCharField(max_length=200, help_text=_("For finding the image in the admin."))
    file = ImageField(
        upload_to=image_upload_to,
        width_field="width",
        height_field="height",
        max_length=255,
        validators=[validate_image_size, validate_image_bytes],
        help_text=_("JPEG, PNG, GIF or WebP."),
    )
    alt_text = PlainCharField(
        _("alt text"),
        max_length=250,
        help_text=_("Describe the image for people who cannot see it."),
    )
    caption = PlainCharField(max_length=250, blank=True, help_text=_("Shown under the image."))
    credit = PlainCharField(
        max_length=120, blank=True, help_text=_("Photographer or source, shown with the caption.")
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    renditions = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text=_("Resized copies: [{name, width, height, format}]"),
    )
    renditions_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def folder(self) -> str:
        """Where the original and its renditions live ("images/<uuid>")."""
        return str(PurePosixPath(self.file.name).parent)


class Document(models.Model):
    """A file editors attach to content (PDF, office documents, plain text)."""

    title = PlainCharField(max_length=200, help_text=_("The link text readers see."))
    file = models.FileField(
        upload_to=document_upload_to,
        max_length=255,
        validators=[validate_document_size, validate_document_bytes],
        help_text=_("PDF, Word, Excel, PowerPoint, OpenDocument, plain text or CSV."),
    )
    content_type = models.CharField(max_length=100, editable=False, default="")
    size = models.PositiveBigIntegerField(editable=False, default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse(
            "sitecontent:document_download", kwargs={"pk": self.pk, "filename": self.filename}
        )

    @property
    def filename(self) -> str:
        return PurePosixPath(self.file.name).name

    @property
    def extension(self) -> str:
        return PurePosixPath(self.file.name).suffix.lstrip(".")


class Upload(models.Model):
    """A direct-to-S3 upload an editor was allowed to make, and what became of it.

    Issuing one grants a presigned POST for exactly ``key``; the S3 event for that key
    then accepts the file (creating the Image or Document) or rejects it with a reason.
    """

    class Kind(models.TextChoices):
        IMAGE = "image", _("image")
        DOCUMENT = "document", _("document")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for the file")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    filename = PlainCharField(max_length=255)
    content_type = models.CharField(max_length=100)
    max_size = models.PositiveBigIntegerField()
    key = models.CharField(max_length=400, unique=True)
    expires_at = models.DateTimeField()
    details = models.JSONField(default=dict, help_text=_("Title, alt text… for the record."))
    reason = models.TextField(blank=True, help_text=_("Why the file was rejected."))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.SET_NULL)
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def result(self):
        return self.image or self.document
