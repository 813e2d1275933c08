"""The admin's side of direct uploads: JSON endpoints, the upload page and "Upload many".

``sign`` grants a presigned POST (sitecontent.media.uploads.upload_issue); ``status`` tells the
page what the S3 event made of the file. Without S3 (``DIRECT_UPLOADS`` off) ``sign``
points the browser at ``receive``, which stands in for the bucket and its event
(``upload_received``), so the pages run the same code on a laptop. All sit behind the
admin's login, CSRF and permission checks.
"""

import contextlib
import json
import threading

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
from sitecontent.models import Upload

# Without S3 the site is the bucket too, on a laptop's SQLite, which takes one writer at
# a time (and the test server's threads share one connection): the upload endpoints take
# turns there. The browser still sends several files at once, and their bytes still
# arrive in parallel (read before the turn is taken). On AWS nothing waits.
_LOCAL_TURN = threading.Lock()


def _turn():
    return contextlib.nullcontext() if settings.DIRECT_UPLOADS else _LOCAL_TURN


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
        with _turn():
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
            "url": post["url"] or reverse("admin:sitecontent_upload_receive", args=[upload.pk]),
            "fields": post["fields"],
            "expires_at": upload.expires_at.isoformat(),
            "status_url": reverse("admin:sitecontent_upload_status", args=[upload.pk]),
        },
        status=201,
    )


@require_POST
def receive(request, pk):
    """Without S3: the bucket's part. Answers like S3 (201, or 403 for a bad token); the
    page then asks ``status`` for the verdict, as it does on AWS."""
    from sitecontent.media import uploads  # imported when used: the admin loads on every cold start

    if settings.DIRECT_UPLOADS:
        return _json_error(404, "Files go to the media bucket here.")
    file = request.FILES.get("file")
    if file is None:
        return _json_error(400, "No file was sent.")
    data = file.read()
    try:
        with _turn():
            upload = uploads.upload_received(
                user=request.user,
                upload_id=pk,
                key=request.POST.get("key", ""),
                content_type=request.POST.get("Content-Type", ""),
                data=data,
            )
    except PermissionDenied as exc:
        return _json_error(403, str(exc) or "Permission denied.")
    return JsonResponse({"state": upload.state}, status=201)


@require_GET
def status(request, pk):
    # Someone else's upload answers like one that does not exist.
    with _turn():
        visible = roles.uploads_visible_to(request.user, Upload.objects.all())
        upload = get_object_or_404(visible.select_related("image", "document"), pk=pk)
        result = upload.result
    return JsonResponse(
        {
            "state": upload.state,
            "reason": upload.reason,
            "result_id": result.pk if result else None,
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
            "<uuid:pk>/receive/",
            admin_site.admin_view(receive),
            name="sitecontent_upload_receive",
        ),
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
    # The changelist's object tools offer "Upload many" (templates/admin/sitecontent/).
    change_list_template = "admin/sitecontent/media_change_list.html"

    def get_urls(self):
        opts = self.model._meta
        bulk = path(
            "upload-many/",
            self.admin_site.admin_view(self.bulk_upload_view),
            name=f"{opts.app_label}_{opts.model_name}_bulk_upload",
        )
        return [bulk, *super().get_urls()]

    def _upload_context(self, request):
        from sitecontent.media import inspection as media
        from sitecontent.media import uploads

        accept = sorted(uploads.allowed_content_types(self.upload_kind))
        if self.upload_kind == Upload.Kind.DOCUMENT:
            accept += sorted(media.DOCUMENT_TYPES)
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "kind": self.upload_kind,
            "accept": ",".join(accept),
            "max_mb": uploads.max_size(self.upload_kind) // 2**20,
            "max_bytes": uploads.max_size(self.upload_kind),
            "sign_url": reverse("admin:sitecontent_upload_sign"),
        }

    def bulk_upload_view(self, request):
        """Many files at once, each through the direct-upload pipeline (static/js/
        bulk-upload.js): its own progress, verdict and link; one refusal stops no other."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        opts = self.model._meta
        context = {
            **self._upload_context(request),
            "title": f"Upload many {opts.verbose_name_plural}",
            "needs_alt_text": self.upload_kind == Upload.Kind.IMAGE,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        return TemplateResponse(request, "admin/sitecontent/bulk_upload.html", context)

    def add_view(self, request, form_url="", extra_context=None):
        # The related-object popup (the "+" beside a hero image) expects the ordinary
        # form's response, so it keeps the simple form.
        if not settings.DIRECT_UPLOADS or request.GET.get("simple") or IS_POPUP_VAR in request.GET:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        model_field = self.model._meta.get_field
        context = {
            **self._upload_context(request),
            "title": f"Upload {self.model._meta.verbose_name}",
            "fields": [model_field(name) for name in self.upload_fields],
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
