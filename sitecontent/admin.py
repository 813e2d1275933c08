"""The editors' workspace.

Roles are enforced here on the server, not only hidden: an Editor's forms have no
publication fields (Django ignores posted values for fields a form does not have), items
that are published or scheduled are read-only for them, and the publish/schedule/
unpublish actions need the publish permission (re-checked by the services).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_prose_editor.widgets import AdminProseEditorWidget

from . import (
    admin_redirects,  # noqa: F401 - registers the redirect admin
    permissions,
    services,
)
from .admin_revisions import RevisionAdminMixin
from .admin_uploads import DirectUploadMixin, ImagePickerMixin
from .models import Article, Category, Document, Image, Page, Status, Tag, Upload, User
from .richtext import RichTextField, editor_config


def local_time(value) -> str:
    """A time as editors read it: in the site's zone, with the zone named."""
    local = timezone.localtime(value)
    return f"{date_format(local, 'Y-m-d H:i')} {local.tzname()}"


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        if self.value() in Status.values:
            return queryset.with_status(self.value())
        return queryset


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Go-live time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_publish_at(self):
        value = self.cleaned_data["publish_at"]
        if value <= timezone.now():
            raise ValidationError(_("Choose a time in the future."))
        return value


class PolicyAdminMixin:
    """Change and delete as sitecontent.permissions says, for an object (Editors change
    their own; see there). Without an object (lists, "add") Django's checks stand."""

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return permissions.can_change(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        return permissions.can_delete(request.user, obj)


class PublishableAdmin(PolicyAdminMixin, RevisionAdminMixin, admin.ModelAdmin):
    """What articles and pages share: status column and filter, roles, bulk actions,
    revisions and previews (admin_revisions.py)."""

    actions = ["publish_now", "schedule", "unpublish"]
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
        return permissions.can_publish(request.user, self.model)

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
                }
            fieldsets.append((name, options))
        return fieldsets

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._warn_about_past_times(request, obj, form)

    def _warn_about_past_times(self, request, obj, form):
        now = timezone.now()
        if "publish_at" in form.changed_data and obj.is_published and obj.publish_at < now:
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

    def _apply(self, request, queryset, service, done_message):
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
        self._apply(
            request,
            queryset,
            lambda item: services.content_publish(item=item, user=request.user),
            _("Published %(count)d %(kind)s."),
        )

    @admin.action(description=_("Unpublish selected items"), permissions=["publish"])
    def unpublish(self, request, queryset):
        self._apply(
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
            self._apply(
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
class PageAdmin(PublishableAdmin):
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
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description=_("articles"), ordering="article_count")
    def article_count(self, obj):
        return obj.article_count


@admin.register(Tag)
class TagAdmin(CategoryAdmin):
    pass


class MediaAdminMixin(PolicyAdminMixin):
    """Images and documents: saved through services.media_save (the same rule again), and a
    read-only form says why it is read-only."""

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        services.media_save(item=obj, user=request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        reading = change and obj is not None and request.method == "GET"
        if reading and (reason := permissions.why_read_only(request.user, obj)):
            self.message_user(request, reason, messages.INFO)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Image)
class ImageAdmin(MediaAdminMixin, ImagePickerMixin, DirectUploadMixin, admin.ModelAdmin):
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
        smallest = min(obj.renditions, key=lambda r: r["width"], default=None)
        url = default_storage.url(smallest["name"]) if smallest else obj.file.url
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
            ((default_storage.url(r["name"]), r["format"], r["width"]) for r in obj.renditions),
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
        from .views import document_response

        document = self.get_object(request, object_id)
        if document is None or not self.has_view_permission(request, document):
            raise Http404
        return document_response(document)  # admin_view marks it private, never cached

    def save_model(self, request, obj, form, change):
        if "file" in form.changed_data:
            from . import media

            obj.content_type = media.DOCUMENT_TYPES.get(media.extension_of(obj.file.name), "")
            obj.size = obj.file.size
        super().save_model(request, obj, form, change)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """User management for those allowed; everyone else may edit their own profile only."""

    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Author profile"), {"fields": ["display_name", "bio"]}),
    ]
    # What staff without user permissions see of themselves: no roles, flags or username,
    # so posting those fields changes nothing.
    own_profile_fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email"]}),
        (_("Author profile"), {"fields": ["display_name", "bio"]}),
    ]
    list_display = ["username", "display_name", "email", "is_staff", "is_active"]

    @staticmethod
    def _is_self(request, obj) -> bool:
        return obj is not None and obj.pk == request.user.pk

    def _manages_users(self, request) -> bool:
        return super().has_change_permission(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self._is_self(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self._is_self(request, obj)

    def _own_profile_only(self, request, obj) -> bool:
        return self._is_self(request, obj) and not self._manages_users(request)

    def get_fieldsets(self, request, obj=None):
        if self._own_profile_only(request, obj):
            return self.own_profile_fieldsets
        return super().get_fieldsets(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if self._own_profile_only(request, obj):
            context.update(own_profile=True, title=_("My profile"))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def user_change_password(self, request, id, form_url=""):
        # Django's form here sets a password without asking for the current one: right
        # for an administrator resetting someone else's, wrong for one's own (a session
        # left open would be enough to take the account). Their own goes to the form
        # that asks for it.
        if str(request.user.pk) == str(id):
            return HttpResponseRedirect(reverse("admin:password_change"))
        return super().user_change_password(request, id, form_url)

    def response_change(self, request, obj):
        if self._own_profile_only(request, obj):
            self.message_user(request, _("Your profile was saved."))
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
