"""The media library: images, documents, and the uploads editors send straight to S3."""

import uuid
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from sitecontent.models.fields import PlainCharField


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


class ImageFieldFile(models.fields.files.ImageFieldFile):
    def save(self, name, content, save=True):
        """``image.file.save(name, content)`` (seed_demo, a shell) stores content only as
        sitecontent.media.inspection.prepare_image re-encodes it too, as pre_save does for a file
        assigned and saved with the model."""
        prepared = getattr(content, "prepared", None) or _prepared_image(content)
        if not isinstance(content, PreparedImageFile):
            content = PreparedImageFile(prepared, name)
        setattr(self.instance, self.field.width_field, prepared.info.width)
        setattr(self.instance, self.field.height_field, prepared.info.height)
        super().save(name, content, save)


class ImageField(models.ImageField):
    """Django's ImageField, storing only re-encoded images, and not re-reading a stored
    file to refresh width and height.

    A new file is stored as sitecontent.media.inspection.prepare_image wrote it (pre_save), never as
    uploaded, and its width and height are those of that copy. Django reads the image
    header again whenever a form assigns the file, even the one already stored: on S3, a
    GET for every alt-text edit. A stored file's size was recorded when it arrived and
    cannot change (keys are unique per upload), so only a row without its size is read."""

    attr_class = ImageFieldFile

    def update_dimension_fields(self, instance, force=False, *args, **kwargs):
        file = getattr(instance, self.attname)
        if file and not file._committed:
            # A new file's size is that of its re-encoded copy, set by pre_save; measuring
            # the upload here would also open hostile bytes before they are checked.
            return
        known = all(getattr(instance, f, None) for f in (self.width_field, self.height_field))
        if force and known and file and _already_stored(file):
            return
        super().update_dimension_fields(instance, force, *args, **kwargs)

    def pre_save(self, model_instance, add):
        """A new file is stored only as sitecontent.media.inspection.prepare_image re-encoded it, so
        no caller (form, upload handler, command, shell) can store an uploader's bytes."""
        file = getattr(model_instance, self.attname)
        if file and not file._committed:
            prepared = _prepared_image(file)
            setattr(model_instance, self.width_field, prepared.info.width)
            setattr(model_instance, self.height_field, prepared.info.height)
            file.save(file.name, PreparedImageFile(prepared, file.name), save=False)
        return super().pre_save(model_instance, add)

    def formfield(self, **kwargs):
        # A plain file field: Django's image field opens the file with Pillow and answers
        # any problem with one generic sentence; validate_image_bytes gives the reason.
        return super(models.ImageField, self).formfield(
            **{"form_class": ImageUploadField, "max_length": self.max_length, **kwargs}
        )


class ImageUploadField(forms.FileField):
    def widget_attrs(self, widget):
        return {
            **super().widget_attrs(widget),
            "accept": "image/jpeg,image/png,image/gif,image/webp",
        }


class PreparedImageFile(ContentFile):
    """An image's bytes as sitecontent.media.inspection.prepare_image re-encoded them."""

    def __init__(self, prepared, name):
        super().__init__(prepared.data, name=name)
        self.prepared = prepared


def _prepared_image(file):
    """The re-encoded image for a new file: made by the upload handler or the form's
    validator already (each does it once), else now."""
    from sitecontent.media import inspection as media

    prepared = getattr(file, "_prepared_image", None) or getattr(
        getattr(file, "file", None), "prepared", None
    )
    if prepared is not None:
        return prepared
    file.seek(0)
    try:
        return media.prepare_image(file.read(), filename=file.name)
    except media.Rejected as exc:
        raise ValidationError({"file": str(exc)}, code="invalid_image") from exc
    finally:
        file.seek(0)


def _check_bytes(file, inspector: str, code: str):
    """The byte checks the S3 upload handler applies (sitecontent.media.inspection), for a file
    arriving through a form; a stored one was checked when it arrived."""
    from sitecontent.media import inspection as media

    if _already_stored(file):
        return None
    file.seek(0)
    try:
        return getattr(media, inspector)(file.read(), filename=file.name)
    except media.Rejected as exc:
        raise ValidationError(str(exc), code=code) from exc
    finally:
        file.seek(0)


def validate_image_bytes(file):
    # The re-encoded image is kept with the file, for ImageField.pre_save to store.
    prepared = _check_bytes(file, "prepare_image", "invalid_image")
    if prepared is not None:
        file._prepared_image = prepared


def validate_document_bytes(file):
    _check_bytes(file, "inspect_document", "invalid_document")


class CollectionQuerySet(models.QuerySet):
    def default_id(self) -> int:
        """The collection new media go to when none is chosen ("General", made by
        migration 0015; made again if a test flushed the table)."""
        pk = self.filter(is_default=True).values_list("pk", flat=True).first()
        if pk is None:
            pk = self.create(name=str(_("General")), is_default=True).pk
        return pk


def default_collection_id() -> int:
    return Collection.objects.default_id()


class Collection(models.Model):
    """A folder of the media library. Naming ``editor_groups`` limits who may see, choose,
    add and change the images and documents in it (sitecontent.roles.collections_for);
    a collection without groups is open to everyone who may use the media library."""

    name = PlainCharField(max_length=120, help_text=_("For example “Sport photos 2026”."))
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("Put this collection inside another one (a folder in a folder)."),
    )
    editor_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="media_collections",
        help_text=_(
            "Groups whose members may see, choose, add and change media here. Empty: "
            "everyone who may use the media library. Publishers may always."
        ),
    )
    is_default = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("Where new media go when no collection is chosen."),
    )

    objects = CollectionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="sitecontent_collection_one_default",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"], name="sitecontent_collection_unique_name_in_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """A collection cannot be put inside itself, nor inside one of its own."""
        parent, seen = self.parent, set()
        while parent is not None and parent.pk not in seen:
            if self.pk is not None and parent.pk == self.pk:
                raise ValidationError(
                    {"parent": _("A collection cannot be inside itself or one of its own.")}
                )
            seen.add(parent.pk)
            parent = parent.parent


def _collection_field(kind):
    return models.ForeignKey(
        Collection,
        on_delete=models.PROTECT,
        default=default_collection_id,
        related_name=f"{kind}s",
        help_text=_("The folder it is kept in; it decides who may see and change it."),
    )


# A focal point's coordinates: a fraction of the width (x) or height (y) from the top left.
_FRACTION = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Image(models.Model):
    """An image in the media library that articles and pages can use.

    ``renditions`` lists the resized copies a task made after upload (widths and formats
    from sitecontent.media.inspection), so pages build ``srcset`` without touching storage.
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
    collection = _collection_field("image")
    focal_x = models.FloatField(
        _("focal point x"),
        null=True,
        blank=True,
        validators=_FRACTION,
        help_text=_("0 is the left edge, 1 the right. Empty: the centre."),
    )
    focal_y = models.FloatField(
        _("focal point y"),
        null=True,
        blank=True,
        validators=_FRACTION,
        help_text=_("0 is the top edge, 1 the bottom. Empty: the centre."),
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    renditions = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text=_("Resized copies: [{name, width, height, format}]"),
    )
    crops = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Copies cut to a shape around the focal point: {crop: {name, width, …}}"),
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
        # Like articles' and pages': changing what live pages show (sitecontent.roles).
        permissions = [("publish_image", "Can change anyone's images, those live pages show too")]

    def __str__(self):
        return self.title

    @property
    def folder(self) -> str:
        """Where the original and its renditions live ("images/<uuid>")."""
        return str(PurePosixPath(self.file.name).parent)

    @property
    def focal_point(self) -> tuple[float, float]:
        """Where crops centre, as fractions of the width and height (the centre if unset)."""
        x = 0.5 if self.focal_x is None else self.focal_x
        y = 0.5 if self.focal_y is None else self.focal_y
        return (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))


class Document(models.Model):
    """A file editors attach to content (PDF, office documents, plain text)."""

    title = PlainCharField(max_length=200, help_text=_("The link text readers see."))
    file = models.FileField(
        upload_to=document_upload_to,
        max_length=255,
        validators=[validate_document_size, validate_document_bytes],
        help_text=_("PDF, Word, Excel, PowerPoint, OpenDocument, plain text or CSV."),
    )
    collection = _collection_field("document")
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
        permissions = [
            ("publish_document", "Can change anyone's documents, those live pages show too")
        ]

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
    size = models.PositiveBigIntegerField(
        help_text=_("Bytes declared when the upload was granted: the file must be exactly this.")
    )
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
