"""Images and documents in the admin: uploads straight to storage, read-only forms that
say why, renditions and downloads."""

from django.contrib import admin, messages
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from sitecontent import roles
from sitecontent.admin.chooser import ImageChooserViewMixin
from sitecontent.admin.content import PolicyAdminMixin
from sitecontent.admin.uploads import DirectUploadMixin
from sitecontent.media import services
from sitecontent.media.renditions import image_sources, rendition_url
from sitecontent.models import Document, Image, Upload


class MediaAdminMixin(PolicyAdminMixin):
    """Images and documents: saved through services.media_save (the same rule again), and a
    read-only form says why it is read-only."""

    delete_service = staticmethod(services.media_delete)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        services.media_save(item=obj, user=request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        reading = change and obj is not None and request.method == "GET"
        if reading and (reason := roles.why_read_only(request.user, obj)):
            self.message_user(request, reason, messages.INFO)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Image)
class ImageAdmin(MediaAdminMixin, ImageChooserViewMixin, DirectUploadMixin, admin.ModelAdmin):
    upload_kind = Upload.Kind.IMAGE
    upload_fields = ("title", "alt_text", "caption", "credit")
    list_display = ["thumbnail", "title", "alt_text", "dimensions", "rendition_count", "created_at"]
    list_display_links = ["thumbnail", "title"]
    search_fields = ["title", "alt_text", "caption", "credit"]
    readonly_fields = ["thumbnail", "dimensions", "rendition_list", "uploaded_by", "created_at"]
    fields = [
        "title",
        "file",
        "thumbnail",
        "alt_text",
        "caption",
        "credit",
        "dimensions",
        "rendition_list",
    ]

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description=_("preview"))
    def thumbnail(self, obj):
        if not obj.file:
            return "—"
        url = image_sources(obj).thumbnail
        return format_html('<img class="admin-thumbnail" src="{}" alt="" loading="lazy">', url)

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
        return format_html_join(
            ", ",
            '<a href="{}">{} {}px</a>',
            ((rendition_url(r), r["format"], r["width"]) for r in obj.renditions),
        )


@admin.register(Document)
class DocumentAdmin(MediaAdminMixin, DirectUploadMixin, admin.ModelAdmin):
    upload_kind = Upload.Kind.DOCUMENT
    upload_fields = ("title",)
    list_display = ["title", "filename", "content_type", "size_display", "created_at"]
    search_fields = ["title", "file"]
    readonly_fields = ["content_type", "size_display", "download", "uploaded_by", "created_at"]
    fields = ["title", "file", "download", "content_type", "size_display"]

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description=_("download"))
    def download(self, obj):
        if not obj.pk:
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
