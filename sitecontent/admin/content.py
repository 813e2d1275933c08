"""The editors' workspace.

Roles are enforced here on the server, not only hidden: an Editor's forms have no
publication fields (Django ignores posted values for fields a form does not have), their
changes to published items become drafts, and the publish/schedule/unpublish actions
and deleting need the permissions sitecontent.roles names. Saving, publishing and
deleting go through sitecontent.publishing.services, which check again.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_prose_editor.widgets import AdminProseEditorWidget

from sitecontent import roles
from sitecontent.admin.chooser import ImageChooserAdminMixin
from sitecontent.admin.editing import EditingSessionMixin
from sitecontent.admin.forms import ScheduleForm
from sitecontent.admin.preview import LivePreviewAdminMixin
from sitecontent.admin.review import ReviewAdminMixin
from sitecontent.admin.revisions import RevisionAdminMixin
from sitecontent.admin.tree import PageTreeAdminMixin
from sitecontent.models import Article, Category, Page, Status, Tag, User
from sitecontent.publishing import services
from sitecontent.richtext import RichTextField, editor_config


def local_time(value) -> str:
    """A time as editors read it: in the site's zone, with the zone named (the admin's
    one format, DATETIME_FORMAT in cms/formats/en/formats.py: ``Y-m-d H:i T``)."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() in Status.values:
            return queryset.with_status(self.value())
        return queryset


class PolicyAdminMixin:
    """Change and delete as sitecontent.roles says, for an object (Editors change
    their own; see there). Without an object (lists, "add") Django's checks stand.

    Deleting goes through ``delete_service`` (keyword arguments ``item`` and ``user``),
    which checks roles.can_delete again: a forged POST meets the rule there too.
    """

    delete_service = None  # set by each admin

    def delete_model(self, request, obj):
        self.delete_service(item=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        # One by one: each item's rule (live or shown, or not) and its signals are its own.
        with transaction.atomic():
            for item in queryset:
                self.delete_service(item=item, user=request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return roles.can_change(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        return roles.can_delete(request.user, obj)


class PublishableAdmin(
    EditingSessionMixin,
    LivePreviewAdminMixin,
    ImageChooserAdminMixin,
    PolicyAdminMixin,
    ReviewAdminMixin,
    RevisionAdminMixin,
    admin.ModelAdmin,
):
    """What articles and pages share: status column and filter, roles, bulk actions,
    revisions and previews (admin/revisions.py)."""

    actions = ["publish_now", "schedule", "unpublish"]
    delete_service = staticmethod(services.content_delete)
    formfield_overrides = {
        RichTextField: {
            "widget": AdminProseEditorWidget(config=editor_config(), preset="configurable")
        }
    }
    date_hierarchy = "publish_at"
    readonly_fields = ["status_badge", "created_at", "updated_at"]

    class Media:
        css = {"all": ["css/admin.css"]}

    # -- roles ---------------------------------------------------------------

    def has_publish_permission(self, request) -> bool:
        return roles.can_publish(request.user, self.model)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_publish_permission(request):
            fields += self.model.PUBLICATION_FIELDS
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            if "is_published" in options["fields"]:
                options = {
                    **options,
                    "description": _("Times are in %(zone)s.")
                    % {"zone": timezone.get_current_timezone_name()},
                    # Shown in the editing screen's sidebar (publishable_change_form.html).
                    "classes": [*options.get("classes", []), "publication"],
                }
            fieldsets.append((name, options))
        return fieldsets

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and db_field.name in self.model.PUBLICATION_FIELDS:
            # The publication fields are in the sidebar, outside the item's <form>
            # element (publishable_change_form.html): the attribute makes them its own.
            formfield.widget.attrs["form"] = f"{self.opts.model_name}_form"
        return formfield

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Here, not in save_model: the item is saved (and its go-live time defaulted) only
        # by RevisionAdminMixin.save_related.
        self._warn_about_past_times(request, form.instance, form)

    def _warn_about_past_times(self, request, obj, form):
        now = timezone.now()
        published = obj.is_published and obj.publish_at
        if "publish_at" in form.changed_data and published and obj.publish_at < now:
            self.message_user(
                request,
                _("The go-live time %(time)s is in the past: this is live now.")
                % {"time": local_time(obj.publish_at)},
                messages.WARNING,
            )
        if "unpublish_at" in form.changed_data and obj.unpublish_at and obj.unpublish_at <= now:
            self.message_user(
                request,
                _("The expiry time %(time)s is in the past: this is not visible.")
                % {"time": local_time(obj.unpublish_at)},
                messages.WARNING,
            )

    # -- columns -------------------------------------------------------------

    @admin.display(description=_("status"))
    def status_badge(self, obj):
        if obj.pk is None:
            return Status.DRAFT.label
        status = obj.status
        if status == Status.SCHEDULED:
            label = _("Scheduled for %(time)s") % {"time": local_time(obj.publish_at)}
        elif status == Status.EXPIRED:
            label = _("Expired %(time)s") % {"time": local_time(obj.unpublish_at)}
        else:
            label = status.label
        return format_html('<span class="status-badge status-{}">{}</span>', status, label)

    @admin.display(description=_("go-live time"), ordering="publish_at")
    def go_live(self, obj):
        return local_time(obj.publish_at) if obj.publish_at else "—"

    # -- actions -------------------------------------------------------------

    def _run_bulk_action(self, request, queryset, service, done_message):
        """Call ``service`` on each selected item, reporting the ones it refuses."""
        done = 0
        for item in queryset:
            try:
                service(item)
            except (ValidationError, PermissionDenied) as exc:
                reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else exc
                self.message_user(request, f"“{item}”: {reason}", messages.ERROR)
            else:
                done += 1
        if done:
            opts = self.model._meta
            kind = opts.verbose_name if done == 1 else opts.verbose_name_plural
            self.message_user(request, done_message % {"count": done, "kind": kind})

    @admin.action(description=_("Publish selected items now"), permissions=["publish"])
    def publish_now(self, request, queryset):
        self._run_bulk_action(
            request,
            queryset,
            lambda item: services.content_publish(item=item, user=request.user),
            _("Published %(count)d %(kind)s."),
        )

    @admin.action(description=_("Unpublish selected items"), permissions=["publish"])
    def unpublish(self, request, queryset):
        self._run_bulk_action(
            request,
            queryset,
            lambda item: services.content_unpublish(item=item, user=request.user),
            _("Unpublished %(count)d %(kind)s."),
        )

    @admin.action(description=_("Schedule selected items…"), permissions=["publish"])
    def schedule(self, request, queryset):
        form = ScheduleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            publish_at = form.cleaned_data["publish_at"]
            self._run_bulk_action(
                request,
                queryset,
                lambda item: services.content_schedule(
                    item=item, user=request.user, publish_at=publish_at
                ),
                _("Scheduled %(count)d %(kind)s for ") + local_time(publish_at) + ".",
            )
            return None
        opts = self.model._meta
        return TemplateResponse(
            request,
            "admin/sitecontent/schedule_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": ngettext(
                    "Schedule %(count)d item", "Schedule %(count)d items", len(queryset)
                )
                % {"count": len(queryset)},
                "opts": opts,
                "queryset": queryset,
                "form": form,
                "zone": timezone.get_current_timezone_name(),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Article)
class ArticleAdmin(PublishableAdmin):
    list_display = ["title", "status_badge", "go_live", "author", "category"]
    list_filter = [StatusFilter, "category", "author", "featured", "tags"]
    list_select_related = ["author", "category"]
    search_fields = ["title", "summary", "body", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["category", "tags", "hero_image", "attachments"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "hero_image"]}),
        (_("Classification"), {"fields": ["author", "category", "tags", "featured"]}),
        (_("Downloads"), {"fields": ["attachments"]}),
        (
            _("Publication"),
            {"fields": ["status_badge", "is_published", "publish_at", "unpublish_at"]},
        ),
        (
            _("Search engines and sharing"),
            {"fields": ["seo_title", "seo_description"], "classes": ["collapse"]},
        ),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # Editors write as themselves; handing an article to someone else would also
        # take it out of their hands.
        return fields if self.has_publish_permission(request) else [*fields, "author"]

    def save_model(self, request, obj, form, change):
        if not change and not obj.author_id:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Page)
class PageAdmin(PageTreeAdminMixin, PublishableAdmin):
    list_display = ["title", "status_badge", "parent", "show_in_menus", "menu_order"]
    list_filter = [StatusFilter, "show_in_menus"]
    list_select_related = ["parent"]
    search_fields = ["title", "body", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["parent", "attachments"]
    ordering = ["parent__title", "menu_order", "title"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    fieldsets = [
        (None, {"fields": ["title", "slug", "parent", "body", "attachments"]}),
        (_("Navigation"), {"fields": ["show_in_menus", "menu_order"]}),
        (
            _("Publication"),
            {"fields": ["status_badge", "is_published", "publish_at", "unpublish_at"]},
        ),
        (
            _("Search engines and sharing"),
            {"fields": ["seo_title", "seo_description"], "classes": ["collapse"]},
        ),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        # Ordered again: a query with an aggregate ignores Meta.ordering, and the article
        # form's category autocomplete pages this queryset.
        counted = super().get_queryset(request).annotate(article_count=Count("articles"))
        return counted.order_by(*Category._meta.ordering)

    @admin.display(description=_("articles"), ordering="article_count")
    def article_count(self, obj):
        return obj.article_count


@admin.register(Tag)
class TagAdmin(CategoryAdmin):
    pass
