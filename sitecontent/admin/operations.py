"""The operations panel (/admin/operations/): is the site's background machinery healthy?

Shows when the minute tick last ran and whether it is overdue, failed, dead-lettered
(Lambda gave up on them after its retries: cms.task_backends.record_dead_letters) and
stuck task runs (with a retry button), this month's CDN paths against the budget
(cms.purge_queue), recent CDN purges and transitions, and whether storage and
the database answer. For staff holding ``cms.view_taskrun`` (Publishers, superusers).
"""

import logging
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cms.models import CdnPurge, TaskRun
from sitecontent.models import ContentTransition, SchedulerState
from sitecontent.publishing import tick_gate

logger = logging.getLogger(__name__)

# The tick runs every minute; this long without one means the schedule is not firing.
TICK_OVERDUE_AFTER = timedelta(minutes=3)
# An enqueued task not started within this long was probably never delivered.
STUCK_AFTER = timedelta(minutes=10)


def _storage_status() -> dict:
    backend = default_storage.__class__.__name__  # the lazy wrapper passes on __class__
    where = getattr(default_storage, "bucket_name", None) or str(
        getattr(default_storage, "location", "")
    )
    try:
        default_storage.exists("operations-check")
    except Exception as exc:
        logger.warning("Storage check failed: %r", exc)
        return {"ok": False, "backend": backend, "where": where, "error": repr(exc)}
    return {"ok": True, "backend": backend, "where": where}


def _database_status() -> dict:
    # Imported here, like task_retry below: cms.urls loads this module on every cold
    # start (to build the URL resolver), and pages need neither.
    from django.db.migrations.executor import MigrationExecutor

    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(
                "select version()"
                if connection.vendor == "postgresql"
                else "select sqlite_version()"
            )
            version = cursor.fetchone()[0]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        logger.warning("Database check failed: %r", exc)
        return {"ok": False, "vendor": connection.vendor, "error": repr(exc)}
    return {
        "ok": not pending,
        "vendor": connection.vendor,
        "version": version,
        "pending_migrations": [f"{m.app_label}.{m.name}" for m, _ in pending],
    }


def _cdn_month(now) -> dict:
    # Imported here like the others: this module loads on every cold start.
    from cms.purge_queue import month_summary

    return month_summary(now=now)


def operations_view(request):
    if not request.user.has_perm("cms.view_taskrun"):
        raise PermissionDenied
    now = timezone.now()
    state = SchedulerState.objects.first()
    # A tick that found nothing due skips the database (sitecontent.publishing.tick_gate) and
    # records only in its marker that it ran: either proves the schedule fires.
    last_full_run = state.last_finished_at if state else None
    last_checked = tick_gate.last_checked_at()
    last_tick = max(filter(None, (last_full_run, last_checked)), default=None)
    dead_letters = TaskRun.objects.filter(status="FAILED").exclude(dead_lettered_at=None)
    context = {
        **admin.site.each_context(request),
        "title": _("Operations"),
        "now": now,
        "scheduler": state,
        "last_tick": last_tick,
        "tick_skipped_since": last_checked
        if last_checked and (last_full_run is None or last_checked > last_full_run)
        else None,
        "tick_overdue": last_tick is None or now - last_tick > TICK_OVERDUE_AFTER,
        "failures": TaskRun.objects.filter(status="FAILED", dead_lettered_at=None)[:20],
        "dead_letters": dead_letters[:20],
        # Those still waiting for an operator: not retried yet.
        "dead_letter_count": dead_letters.filter(retried_as="").count(),
        "stuck": TaskRun.objects.filter(status="READY", enqueued_at__lt=now - STUCK_AFTER)[:20],
        "purges": CdnPurge.objects.all()[:15],
        # This month's CDN paths against the budget, wildcard fallbacks, what waits.
        "cdn_month": _cdn_month(now),
        "transitions": ContentTransition.objects.select_related("content_type")[:10],
        "storage": _storage_status(),
        "database": _database_status(),
        "can_retry": request.user.has_perm("cms.retry_taskrun"),
    }
    return TemplateResponse(request, "admin/operations.html", context)


def retry_view(request, run_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        from cms.task_runs import task_retry

        new_id = task_retry(run_id=run_id, user=request.user)
    except (ValidationError, TaskRun.DoesNotExist) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Enqueued again as run %(id)s.") % {"id": new_id})
    return HttpResponseRedirect(reverse("operations"))


def operations_urls():
    wrap = admin.site.admin_view
    return [
        path("admin/operations/", wrap(operations_view), name="operations"),
        path(
            "admin/operations/tasks/<str:run_id>/retry/", wrap(retry_view), name="operations_retry"
        ),
    ]
