"""The audit log in the admin: read-only, filterable by person, action, item type and
item, with a date hierarchy, search and a CSV download of what the filters show.

Records are written by the services (sitecontent.publishing, sitecontent.media) and by
the sign-in lockout receiver (models/audit.py record_lockout); here they are only read. Publishers
have the view permission; nobody may add, change or delete a record.
"""

import csv
import json
from datetime import datetime

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sitecontent.admin.content import local_time
from sitecontent.models import AuditEvent

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection,
# OWASP); a leading quote makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# What the services record acts on, by model name: their change forms link to their history.
AUDITED_MODELS = frozenset({"article", "page", "image", "document"})


def history_query(item) -> str:
    """The audit list's query string for one item's records."""
    content_type = ContentType.objects.get_for_model(item)
    return f"?content_type__id__exact={content_type.pk}&object_id={item.pk}"


def describe(event: AuditEvent) -> str:
    """The record's message, or what its details say, in a sentence editors read."""
    details = event.details or {}
    parts = [event.message] if event.message else []
    if details.get("by") == "schedule":
        parts.append(gettext("by the schedule"))
    if details.get("at") and event.action == AuditEvent.Action.SCHEDULE:
        try:
            when = local_time(datetime.fromisoformat(details["at"]))
        except (TypeError, ValueError):
            when = str(details["at"])
        parts.append(gettext("for %(time)s") % {"time": when})
    if details.get("changed"):
        parts.append(gettext("changed: %(fields)s") % {"fields": ", ".join(details["changed"])})
    if details.get("fields"):
        parts.append(gettext("set: %(fields)s") % {"fields": ", ".join(details["fields"])})
    if event.action == AuditEvent.Action.RESTORE:
        parts.append(gettext("now live") if details.get("live") else gettext("as a draft"))
    return "; ".join(parts)


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write hands the line back, for streaming csv.writer."""

    def write(self, value):
        return value


CSV_HEADER = ["at", "actor", "action", "item type", "item id", "item", "message", "details"]


def csv_rows(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events:
        yield writer.writerow(
            [
                csv_safe(value)
                for value in (
                    timezone.localtime(event.at).isoformat(timespec="seconds"),
                    event.actor_name,
                    event.get_action_display(),
                    event.content_type.model if event.content_type_id else "",
                    event.object_id,
                    event.object_repr,
                    describe(event),
                    json.dumps(event.details, sort_keys=True) if event.details else "",
                )
            ]
        )


class PersonFilter(admin.SimpleListFilter):
    """Who acted: everyone the log names (a deleted account's records keep its name, and
    are found by searching for it), or the system (the clock, lockouts)."""

    title = _("person")
    parameter_name = "actor"
    SYSTEM = "system"

    def lookups(self, request, model_admin):
        people = (
            model_admin.model.objects.filter(actor__isnull=False)
            .values_list("actor_id", "actor__display_name", "actor__username")
            .distinct()
            .order_by("actor__username")
        )
        choices = [
            (str(pk), f"{name} ({username})" if name else username) for pk, name, username in people
        ]
        return [*choices, (self.SYSTEM, _("the system"))]

    def queryset(self, request, queryset):
        if self.value() == self.SYSTEM:
            return queryset.filter(actor__isnull=True, actor_name="")
        if self.value() and self.value().isdigit():
            return queryset.filter(actor_id=self.value())
        return queryset


class ItemTypeFilter(admin.SimpleListFilter):
    title = _("item type")
    parameter_name = "content_type__id__exact"

    def lookups(self, request, model_admin):
        used = (
            model_admin.model.objects.filter(content_type__isnull=False)
            .values_list("content_type_id", flat=True)
            .distinct()
            .order_by()
        )
        types = [ContentType.objects.get_for_id(pk) for pk in used]
        return sorted(
            (
                (str(t.pk), str(t.model_class()._meta.verbose_name_plural).capitalize())
                for t in types
                if t.model_class() is not None
            ),
            key=lambda choice: choice[1],
        )

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(content_type_id=self.value())
        return queryset


class ItemFilter(admin.SimpleListFilter):
    """One item's records (``?content_type__id__exact=…&object_id=…``, the link on each
    change form); shown, with a way back to all, only while it applies."""

    title = _("item")
    parameter_name = "object_id"

    def lookups(self, request, model_admin):
        if not self.value():
            return []
        event = model_admin.model.objects.filter(object_id=self.value()).exclude(object_repr="")
        content_type = request.GET.get("content_type__id__exact")
        if content_type and content_type.isdigit():
            event = event.filter(content_type_id=content_type)
        first = event.only("object_repr").first()
        return [(self.value(), first.object_repr if first else self.value())]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(object_id=self.value())
        return queryset


class AuditChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        _mark_existing(self.result_list)


def _mark_existing(events) -> None:
    """Set ``item_exists`` on each record: one query per item type on the page, not one
    per row (the log names items without a foreign key, so a deleted one stays named)."""
    wanted: dict[int, set[str]] = {}
    for event in events:
        if event.content_type_id and event.object_id:
            wanted.setdefault(event.content_type_id, set()).add(event.object_id)
    existing: set[tuple[int, str]] = set()
    for content_type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            continue
        try:
            found = model._default_manager.filter(pk__in=ids).values_list("pk", flat=True)
            existing |= {(content_type_id, str(pk)) for pk in found}
        except (ValueError, TypeError):
            continue
    for event in events:
        event.item_exists = (event.content_type_id, event.object_id) in existing


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["when", "who", "action", "item", "summary"]
    list_filter = [PersonFilter, "action", ItemTypeFilter, ItemFilter]
    list_select_related = ["content_type"]
    date_hierarchy = "at"
    search_fields = ["actor_name", "object_repr", "message"]
    list_per_page = 100
    # The log only grows: a full count of it on every page would grow with it.
    show_full_result_count = False
    actions = None
    readonly_fields = [
        "when",
        "who",
        "action",
        "item",
        "object_id",
        "summary",
        "details_display",
    ]
    fields = readonly_fields

    # -- read-only -----------------------------------------------------------

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist(self, request, **kwargs):
        return AuditChangeList

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": _("Audit log"), **(extra_context or {})})

    # -- columns -------------------------------------------------------------

    @admin.display(description=_("at"), ordering="at")
    def when(self, obj):
        return local_time(obj.at)

    @admin.display(description=_("who"), ordering="actor_name")
    def who(self, obj):
        return obj.actor_name or _("the system")

    @admin.display(description=_("item"), ordering="object_repr")
    def item(self, obj):
        if not obj.content_type_id:
            return "—"
        label = obj.object_repr or f"{obj.content_type.name} {obj.object_id}"
        exists = getattr(obj, "item_exists", None)
        if exists is None:  # the detail page: one record, one query
            _mark_existing([obj])
            exists = obj.item_exists
        if not exists:
            return format_html("{} <em>({})</em>", label, _("deleted"))
        try:
            url = reverse(
                f"admin:{obj.content_type.app_label}_{obj.content_type.model}_change",
                args=[obj.object_id],
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("message"))
    def summary(self, obj):
        return describe(obj) or "—"

    @admin.display(description=_("details"))
    def details_display(self, obj):
        return json.dumps(obj.details, indent=2, sort_keys=True) if obj.details else "—"

    # -- CSV -----------------------------------------------------------------

    def get_urls(self):
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="sitecontent_auditevent_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The records the list's current filters and search select, all of them (not
        one page), streamed as CSV: the log may be long."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(gettext("Those filters do not apply to the log."))
        events = changelist.get_queryset(request).select_related("content_type")
        response = StreamingHttpResponse(
            csv_rows(events.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        return response
