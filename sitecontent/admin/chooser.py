"""The image chooser: one in-page dialog (static/js/image-chooser.js) for the hero-image
field and for the rich text editor's "Insert image from the library".

``chooser/`` on the image admin answers with the list as an HTML fragment to put in the
dialog (search, pages, an upload form), or as JSON (``?format=json``) for scripts. It
needs no popup parameters: it is fetched into the page, never opened as a window.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from sitecontent import roles
from sitecontent.media import selectors
from sitecontent.media.renditions import image_sources
from sitecontent.models import Image, Upload

CHOOSER_MEDIA = forms.Media(
    js=["js/upload-client.js", "js/image-chooser.js"],
    css={"all": ["css/media-chooser.css"]},
)


def image_choice(image) -> dict:
    """What the page needs to show and use one image: the editor puts ``url`` in the
    body (the share-size rendition previews use too), the field shows ``thumb``."""
    sources = image_sources(image)
    return {
        "id": image.pk,
        "title": image.title,
        "alt": image.alt_text,
        "caption": image.caption,
        "url": sources.share,
        "thumb": sources.thumbnail,
    }


class ImageChooserViewMixin:
    """The image admin's ``chooser/`` endpoint (the editor's and the hero field's list)."""

    chooser_page_size = 24

    def get_urls(self):
        chooser = path(
            "chooser/",
            self.admin_site.admin_view(self.chooser_view),
            name="sitecontent_image_chooser",
        )
        return [chooser, *super().get_urls()]

    def chooser_images(self, request):
        """What the chooser lists: what this admin lets the user see (their collections:
        sitecontent.roles), newest first, optionally from one collection."""
        query = request.GET.get("q", "").strip()[:100]
        collection, chosen = request.GET.get("collection", ""), request.GET.get("id", "")
        images = selectors.images_for_chooser(
            self.get_queryset(request),
            query=query,
            collection_id=int(collection) if collection.isdigit() else None,
            image_id=int(chosen) if chosen.isdigit() else None,
        )
        # Only the collections this user may use are offered as filters.
        collections = roles.collections_for(request.user, Image)
        return images, query, collections

    def chooser_view(self, request):
        from django.core.paginator import Paginator

        if not self.has_view_permission(request):
            if request.GET.get("format") == "json":
                return JsonResponse({"error": "Permission denied."}, status=403)
            raise PermissionDenied
        images, query, collections = self.chooser_images(request)
        page = Paginator(images, self.chooser_page_size).get_page(request.GET.get("page"))
        choices = [image_choice(image) for image in page]
        if request.GET.get("format") == "json":
            return JsonResponse(
                {
                    "results": choices,
                    "page": page.number,
                    "num_pages": page.paginator.num_pages,
                    "count": page.paginator.count,
                }
            )
        can_upload = self.has_add_permission(request)
        context = {
            "choices": choices,
            "page": page,
            "query": query,
            "collections": collections,
            "collection": request.GET.get("collection", ""),
            "chooser_url": reverse("admin:sitecontent_image_chooser"),
            "can_upload": can_upload,
            "sign_url": reverse("admin:sitecontent_upload_sign") if can_upload else "",
            "max_mb": settings.IMAGE_MAX_UPLOAD_SIZE // 2**20,
        }
        if can_upload:
            from sitecontent.media import uploads

            context["accept"] = ",".join(sorted(uploads.allowed_content_types(Upload.Kind.IMAGE)))
        return TemplateResponse(
            request, "admin/sitecontent/includes/image_chooser_results.html", context
        )


class ImageChooserWidget(forms.Widget):
    """A chosen image: its thumbnail and title, "Choose image" (the dialog) and "Clear";
    the value is the image's id, in a hidden input."""

    template_name = "admin/sitecontent/widgets/image_chooser.html"
    media = CHOOSER_MEDIA

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = None
        if value not in (None, ""):
            image = Image.objects.filter(pk=value).first()
            chosen = image_choice(image) if image and image.file else None
        context["widget"]["chosen"] = chosen
        context["widget"]["chooser_url"] = reverse("admin:sitecontent_image_chooser")
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's templates (not the form renderer's, which sees only apps').
        from django.template.loader import render_to_string
        from django.utils.safestring import mark_safe

        html = render_to_string(self.template_name, self.get_context(name, value, attrs))
        return mark_safe(html)  # noqa: S308 - a template, autoescaped


class ImageChooserAdminMixin:
    """Admins with an image field (the hero image): the chooser dialog, not a select box
    with popups; and the rich text editor's "Insert image from the library" uses it."""

    def get_autocomplete_fields(self, request):
        fields = super().get_autocomplete_fields(request)
        return [name for name in fields if not self._is_image_fk(name)]

    def _is_image_fk(self, name):
        from django.core.exceptions import FieldDoesNotExist

        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        return getattr(field, "many_to_one", False) and field.related_model is Image

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if getattr(db_field, "many_to_one", False) and db_field.related_model is Image:
            # No RelatedFieldWidgetWrapper: its "+" and pencil open popup windows; the
            # dialog lists, searches and uploads.
            queryset = self.get_field_queryset(None, db_field, request)
            return db_field.formfield(
                widget=ImageChooserWidget(),
                queryset=queryset if queryset is not None else Image.objects.all(),
                **kwargs,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @property
    def media(self):
        return super().media + CHOOSER_MEDIA
