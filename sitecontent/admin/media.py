"""Images and documents in the admin: uploads straight to storage, read-only forms that
say why, renditions and downloads, collections, focal points and where each is used."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from sitecontent import roles
from sitecontent.admin.chooser import ImageChooserViewMixin
from sitecontent.admin.content import PolicyAdminMixin
from sitecontent.admin.editing import MediaEditingSessionMixin
from sitecontent.admin.uploads import DirectUploadMixin
from sitecontent.media import selectors, services
from sitecontent.media.renditions import image_sources, rendition_url
from sitecontent.models import Collection, Document, Image, Upload

# The size of the preview an editor clicks to set the focal point.
FOCAL_PREVIEW_WIDTH = 640


class MediaForm(forms.ModelForm):
    """A browser cannot put a chosen file back in a form: when anything else in it is
    wrong, the file is gone from the page it comes back as, so the file field says so."""

    choose_again = _(
        "Choose the file again: it was not saved, because of the other errors in this form."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "collection" in self.fields:
            # Left out (an older form, a script): the default collection, as for uploads.
            self.fields["collection"].required = False

    def clean_collection(self):
        chosen = self.cleaned_data.get("collection")
        if chosen is None:
            # The field offers only the collections the user may use (MediaAdminMixin).
            offered = self.fields["collection"].queryset
            chosen = offered.filter(pk=Collection.objects.default_id()).first()
            if chosen is None:
                raise forms.ValidationError(_("Choose a collection."), code="required")
        return chosen

    def full_clean(self):
        super().full_clean()
        chosen = self.is_bound and self.files.get(self.add_prefix("file"))
        if chosen and self._errors and "file" not in self._errors:
            self._errors["file"] = self.error_class([self.choose_again])


class MediaAdminMixin(MediaEditingSessionMixin, PolicyAdminMixin):
    """Images and documents: saved through services.media_save (the same rule again), and a
    read-only form says why it is read-only. Lists, choosers and forms show only the media
    and collections the user may use (sitecontent.roles.collections_for)."""

    delete_service = staticmethod(services.media_delete)
    form = MediaForm
    list_filter = [("collection", admin.RelatedOnlyFieldListFilter)]

    def get_queryset(self, request):
        # The image browser (CKEditorImageBrowserMixin) and autocompletes read this too.
        queryset = super().get_queryset(request).select_related("collection")
        return roles.media_visible_to(request.user, queryset)

    add_fields: list[str]

    def get_fields(self, request, obj=None):
        # A new item has no preview, focal point, renditions or uses yet.
        return self.add_fields if obj is None else super().get_fields(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "collection":
            kwargs["queryset"] = roles.collections_for(request.user, self.model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("used on"))
    def usage(self, obj):
        """Each article and page using it, with its state and how it uses it."""
        if obj is None or obj.pk is None:
            return "—"
        uses = selectors.media_uses(obj)
        if not uses:
            return _("No article or page uses this %(kind)s.") % {"kind": obj._meta.verbose_name}
        rows = (
            (
                reverse(
                    f"admin:sitecontent_{use.item._meta.model_name}_change", args=[use.item.pk]
                ),
                use.item.title,
                use.item._meta.verbose_name.capitalize(),
                use.item.status.label,
                ", ".join(str(_(way)) for way in use.ways),
            )
            for use in uses
        )
        return format_html(
            '<ul class="media-uses">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a> <span class="media-uses__meta">{}, {}: {}</span></li>',
                rows,
            ),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        services.media_save(item=obj, user=request.user)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(formfield.widget, forms.FileInput):
            # Django puts a file field in a <fieldset> with a <legend>, which names no
            # input: with a <label for="id_file"> the file input has an accessible name.
            formfield.widget.use_fieldset = False
        return formfield

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        reading = change and obj is not None and request.method == "GET"
        if reading and (reason := roles.why_read_only(request.user, obj)):
            self.message_user(request, reason, messages.INFO)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Image)
class ImageAdmin(MediaAdminMixin, ImageChooserViewMixin, DirectUploadMixin, admin.ModelAdmin):
    upload_kind = Upload.Kind.IMAGE
    upload_fields = ("title", "alt_text", "caption", "credit")
    list_display = [
        "thumbnail",
        "title",
        "alt_text",
        "collection",
        "dimensions",
        "rendition_count",
        "created_at",
    ]
    list_display_links = ["thumbnail", "title"]
    search_fields = ["title", "alt_text", "caption", "credit"]
    readonly_fields = [
        "thumbnail",
        "focal_point_picker",
        "dimensions",
        "rendition_list",
        "usage",
        "uploaded_by",
        "created_at",
    ]
    fields = [
        "title",
        "file",
        "thumbnail",
        "alt_text",
        "caption",
        "credit",
        "collection",
        "focal_point_picker",
        "focal_x",
        "focal_y",
        "dimensions",
        "rendition_list",
        "usage",
    ]
    add_fields = ["title", "file", "alt_text", "caption", "credit", "collection"]

    class Media:
        css = {"all": ["css/admin.css", "css/media-library.css"]}
        js = ["js/focal-point.js"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in {"focal_x", "focal_y"}:
            kwargs["widget"] = forms.NumberInput(
                attrs={"step": "0.001", "min": "0", "max": "1", "class": "focal-point__input"}
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @staticmethod
    def _previewable(obj) -> bool:
        """Whether a preview can be shown of what is stored. After a failed form the file
        is the upload, which was not kept: no preview may point at it, but the stored
        image's renditions (still those on the row) show what is kept."""
        if not (obj and obj.file):
            return False
        return obj.file._committed or bool(obj.pk and obj.renditions)

    @admin.display(description=_("preview"))
    def thumbnail(self, obj):
        if not self._previewable(obj):
            return _("Shown once the image is saved.") if obj and obj.file else "—"
        url = image_sources(obj).thumbnail
        # The list links the thumbnail to the image's form: its alt is that link's name.
        return format_html(
            '<img class="admin-thumbnail" src="{}" alt="{}" loading="lazy">', url, obj.title
        )

    @admin.display(description=_("focal point"))
    def focal_point_picker(self, obj):
        """The preview an editor clicks to set the focal point (static/js/focal-point.js
        fills the two number fields below it, which also work on their own)."""
        if not self._previewable(obj) or not obj.width:
            return _("Set once the image is saved.")
        x, y = obj.focal_point
        return format_html(
            '<div class="focal-point" data-focal-x="{}" data-focal-y="{}">'
            '<img class="focal-point__image" src="{}" width="{}" height="{}" alt="{}">'
            '<span class="focal-point__marker" hidden></span></div>'
            '<p class="help">{}</p>',
            x,
            y,
            image_sources(obj).nearest(FOCAL_PREVIEW_WIDTH),
            obj.width,
            obj.height,
            _("The image; click the part crops must keep"),
            _(
                "Click the part of the image that crops (such as link previews) must "
                "keep, or type it as fractions below. Both empty: the centre."
            ),
        )

    @admin.display(description=_("size"))
    def dimensions(self, obj):
        return f"{obj.width} × {obj.height}" if obj.width else "—"  # noqa: RUF001

    @admin.display(description=_("renditions"))
    def rendition_count(self, obj):
        return len(obj.renditions) or _("being made")

    @admin.display(description=_("renditions"))
    def rendition_list(self, obj):
        if not obj.renditions:
            return _("Being made; pages show the original meanwhile.")
        sizes = format_html_join(
            ", ",
            '<a href="{}">{} {}px</a>',
            ((rendition_url(r), r["format"], r["width"]) for r in obj.renditions),
        )
        crops = format_html_join(
            ", ",
            '<a href="{}">{} {}×{}</a>',  # noqa: RUF001
            ((rendition_url(c), name, c["width"], c["height"]) for name, c in obj.crops.items()),
        )
        return format_html("{}; {}: {}", sizes, _("crops"), crops) if crops else sizes


@admin.register(Document)
class DocumentAdmin(MediaAdminMixin, DirectUploadMixin, admin.ModelAdmin):
    upload_kind = Upload.Kind.DOCUMENT
    upload_fields = ("title",)
    list_display = ["title", "filename", "collection", "content_type", "size_display", "created_at"]
    search_fields = ["title", "file"]
    readonly_fields = [
        "content_type",
        "size_display",
        "download",
        "usage",
        "uploaded_by",
        "created_at",
    ]
    fields = ["title", "file", "download", "collection", "content_type", "size_display", "usage"]
    add_fields = ["title", "file", "collection"]

    class Media:
        css = {"all": ["css/media-library.css"]}

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description=_("download"))
    def download(self, obj):
        if not obj.pk or not obj.file._committed:
            return "—"
        url = reverse("admin:sitecontent_document_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.filename)

    def get_urls(self):
        download = path(
            "<path:object_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="sitecontent_document_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, object_id):
        """Staff download any document they may see, public or not (never cached)."""
        from sitecontent.public.views import document_response

        document = self.get_object(request, object_id)
        if document is None or not self.has_view_permission(request, document):
            raise Http404
        return document_response(document)  # admin_view marks it private, never cached

    def save_model(self, request, obj, form, change):
        if "file" in form.changed_data:
            services.document_describe(obj, size=obj.file.size)
        super().save_model(request, obj, form, change)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    """Folders of the media library and the groups that may use each (Publishers)."""

    list_display = ["name", "parent", "groups", "image_count", "document_count"]
    list_select_related = ["parent"]
    search_fields = ["name"]
    fields = ["name", "parent", "editor_groups"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                image_count=Count("images", distinct=True),
                document_count=Count("documents", distinct=True),
            )
            .prefetch_related("editor_groups")
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "editor_groups":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # New media go to the default collection; one with media in it is protected.
        return super().has_delete_permission(request, obj) and not (obj and obj.is_default)

    @admin.display(description=_("groups"))
    def groups(self, obj):
        return ", ".join(g.name for g in obj.editor_groups.all()) or _("everyone")

    @admin.display(description=_("images"), ordering="image_count")
    def image_count(self, obj):
        return obj.image_count

    @admin.display(description=_("documents"), ordering="document_count")
    def document_count(self, obj):
        return obj.document_count
