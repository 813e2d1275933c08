"""The admin's side of direct uploads: JSON endpoints and the upload page.

``sign`` grants a presigned POST (sitecontent.media.uploads.upload_issue); ``status`` tells the
page what the S3 event made of the file. Both sit behind the admin's login, CSRF and
permission checks.
"""

import json

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from sitecontent import roles
from sitecontent.media.renditions import image_sources
from sitecontent.models import Upload


def _json_error(status: int, message: str, fields=None) -> JsonResponse:
    return JsonResponse({"error": message, "fields": fields or {}}, status=status)


@require_POST
def sign(request):
    from sitecontent.media import uploads  # imported when used: the admin loads on every cold start

    try:
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise TypeError
        size = payload.get("size")
        upload, post = uploads.upload_issue(
            user=request.user,
            kind=str(payload.get("kind", "")),
            filename=str(payload.get("filename", "")),
            content_type=str(payload.get("content_type", "")),
            size=size if isinstance(size, int) else -1,
            details=payload.get("details") if isinstance(payload.get("details"), dict) else {},
        )
    except (ValueError, TypeError):
        return _json_error(400, "The request body must be a JSON object.")
    except PermissionDenied as exc:
        return _json_error(403, str(exc) or "Permission denied.")
    except ValidationError as exc:
        return _json_error(400, "Please correct the errors below.", exc.message_dict)
    return JsonResponse(
        {
            "upload": str(upload.pk),
            "url": post["url"],
            "fields": post["fields"],
            "expires_at": upload.expires_at.isoformat(),
            "status_url": reverse("admin:sitecontent_upload_status", args=[upload.pk]),
        },
        status=201,
    )


@require_GET
def status(request, pk):
    # Someone else's upload answers like one that does not exist.
    upload = get_object_or_404(roles.uploads_visible_to(request.user, Upload.objects.all()), pk=pk)
    result = upload.result
    return JsonResponse(
        {
            "state": upload.state,
            "reason": upload.reason,
            "result_url": reverse(f"admin:sitecontent_{upload.kind}_change", args=[result.pk])
            if result
            else None,
        }
    )


def upload_urls(admin_site):
    """Relative to the Upload admin's own prefix (admin/sitecontent/upload/)."""
    return [
        path("sign/", admin_site.admin_view(sign), name="sitecontent_upload_sign"),
        path(
            "<uuid:pk>/status/",
            admin_site.admin_view(status),
            name="sitecontent_upload_status",
        ),
    ]


class DirectUploadMixin:
    """Image and document admins: on AWS, "Add" uploads straight to S3.

    Without S3 (a laptop) or with ``?simple=1`` (small files), the ordinary form is used;
    it applies the same byte checks through the model field's validators.
    """

    upload_kind: str
    upload_fields: tuple[str, ...]

    def add_view(self, request, form_url="", extra_context=None):
        # The related-object popup (the "+" beside a hero image) expects the ordinary
        # form's response, so it keeps the simple form.
        if not settings.DIRECT_UPLOADS or request.GET.get("simple") or IS_POPUP_VAR in request.GET:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        from sitecontent.media import inspection as media
        from sitecontent.media import uploads

        model_field = self.model._meta.get_field
        accept = sorted(uploads.allowed_content_types(self.upload_kind))
        if self.upload_kind == Upload.Kind.DOCUMENT:
            accept += sorted(media.DOCUMENT_TYPES)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Upload {self.model._meta.verbose_name}",
            "kind": self.upload_kind,
            "fields": [model_field(name) for name in self.upload_fields],
            "accept": ",".join(accept),
            "max_mb": uploads.max_size(self.upload_kind) // 2**20,
            "sign_url": reverse("admin:sitecontent_upload_sign"),
        }
        return TemplateResponse(request, "admin/sitecontent/direct_upload.html", context)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    """What became of each direct upload; editors see their own."""

    list_display = ["filename", "kind", "state", "reason", "uploaded_by", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["filename", "reason"]
    fields = [
        "filename",
        "kind",
        "state",
        "reason",
        "content_type",
        "key",
        "uploaded_by",
        "created_at",
        "processed_at",
        "image",
        "document",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("uploaded_by")
        return roles.uploads_visible_to(request.user, queryset)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return upload_urls(self.admin_site) + super().get_urls()


class CKEditorImageBrowserMixin:
    """``picker/``: the media library as the rich text editor's "Browse…" window, over
    CKEditor's file-browser protocol (which django-prose-editor speaks).

    The editor opens the window with ``?CKEditorFuncNum=N`` and expects the chosen
    image back through ``window.opener.CKEDITOR.tools.callFunction(N, url, details)``
    (static/js/ckeditor-image-browser.js).
    """

    image_browser_page_size = 24

    def get_urls(self):
        browser = path(
            "picker/",
            self.admin_site.admin_view(self.image_browser_view),
            name="sitecontent_image_picker",
        )
        return [browser, *super().get_urls()]

    def image_browser_view(self, request):
        from django.core.paginator import Paginator

        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()[:100]
        images = self.get_queryset(request)
        if query:
            images = images.filter(title__icontains=query) | images.filter(
                alt_text__icontains=query
            )
        page = Paginator(images, self.image_browser_page_size).get_page(request.GET.get("page"))
        choices = []
        for image in page:
            sources = image_sources(image)
            # The editor puts ``url`` in the body: the file link previews use too.
            choices.append({"image": image, "url": sources.share, "thumb": sources.thumbnail})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Choose an image",
            "choices": choices,
            "page": page,
            "query": query,
            "callback_number": request.GET.get("CKEditorFuncNum", ""),
            "is_popup": True,
        }
        return TemplateResponse(request, "admin/sitecontent/ckeditor_image_browser.html", context)
