"""Operators' read-only views of background work: task runs and CDN purges."""

from django.contrib import admin
from django.utils.html import format_html_join

from .models import CdnPurge, TaskRun


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TaskRun)
class TaskRunAdmin(ReadOnlyAdmin):
    list_display = ["task_path", "status", "attempts", "enqueued_at", "finished_at"]
    list_filter = ["status", "task_path"]
    search_fields = ["id", "task_path", "error"]
    date_hierarchy = "enqueued_at"
    fields = [
        "id",
        "task_path",
        "backend",
        "status",
        "attempts",
        "args",
        "kwargs",
        "enqueued_at",
        "started_at",
        "finished_at",
        "dead_lettered_at",
        "error",
    ]


@admin.register(CdnPurge)
class CdnPurgeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "path_list", "path_count", "widened", "sent_at", "backend"]
    list_filter = ["widened"]
    search_fields = ["reference", "response_id"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "sent_at",
        "path_list",
        "path_count",
        "requested_path_count",
        "widened",
        "scheduled_for",
        "backend",
        "reference",
        "response_id",
    ]
    readonly_fields = ["path_list"]

    @admin.display(description="paths")
    def path_list(self, obj):
        return format_html_join(", ", "<code>{}</code>", ((p,) for p in obj.paths))
