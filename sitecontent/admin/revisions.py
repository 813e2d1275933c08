"""Revisions, drafts of live items, and preview links in the admin (for articles, pages).

Every save keeps a revision. Saving a live or scheduled item as an Editor (or with "Save
draft") leaves the live item alone and keeps the changes as a draft, which the form then
shows; publishers publish or schedule it. Rules live in sitecontent.publishing.revisions; this
module only unpacks requests.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from sitecontent.admin.forms import ScheduleChangesForm
from sitecontent.models import Revision
from sitecontent.publishing import previews as preview
from sitecontent.publishing import revisions, services


class RevisionAdminMixin:
    change_form_template = "admin/sitecontent/publishable_change_form.html"

    # -- saving: directly, or as a draft ------------------------------------------
    # Where a save goes is sitecontent.publishing.revisions.saves_as_draft; a direct save
    # is the content_save service (which checks again and announces what went live).

    def save_model(self, request, obj, form, change):
        request._saved_as_draft = change and revisions.saves_as_draft(
            user=request.user, item=obj, draft_requested="_savedraft" in request.POST
        )
        if request._saved_as_draft:
            self._save_publication_fields(request, obj, form)
        # A direct save happens in save_related, with the relations it needs the row for.

    def _save_publication_fields(self, request, obj, form):
        """A publisher's "Save draft" still applies what they set for go-live and expiry."""
        changed = [f for f in obj.PUBLICATION_FIELDS if f in form.changed_data]
        if changed and self.has_publish_permission(request):
            services.content_publication_update(
                item=obj, user=request.user, changes={name: getattr(obj, name) for name in changed}
            )

    def save_related(self, request, form, formsets, change):
        if request._saved_as_draft:
            data = revisions.snapshot_from_form(form, form.instance)
            revisions.revision_save_draft(item=form.instance, user=request.user, data=data)
            return
        save_relations = super().save_related
        services.content_save(
            item=form.instance,
            user=request.user,
            save_relations=lambda: save_relations(request, form, formsets, change),
        )

    def response_change(self, request, obj):
        if getattr(request, "_saved_as_draft", False):
            self.message_user(
                request,
                _(
                    "Saved as a draft. The live version stays as it is until a publisher "
                    "publishes the changes."
                ),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # -- showing the draft in the form --------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        request._show_pending_draft = request.method == "GET"
        return super().change_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and getattr(request, "_show_pending_draft", False):
            draft = revisions.pending_draft(obj)
            if draft is not None:
                revisions.overlay(obj, draft.data)
                obj._pending_draft = draft
        return obj

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            live = self.model.objects.filter(pk=obj.pk, is_published=True).exists()
            context.update(
                pending_draft=getattr(obj, "_pending_draft", None),
                item_is_live=live,
                can_publish=self.has_publish_permission(request),
                drafts_only=live and not self.has_publish_permission(request),
                schedule_changes_form=ScheduleChangesForm(),
                site_zone=timezone.get_current_timezone_name(),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- revision history, compare, restore, publish, schedule, preview ------------

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/revisions/",
                wrap(self.revisions_view),
                name="{}_{}_revisions".format(*info),
            ),
            path(
                "<path:object_id>/revisions/compare/",
                wrap(self.compare_view),
                name="{}_{}_revisions_compare".format(*info),
            ),
            path(
                "<path:object_id>/revisions/<int:revision_id>/<str:action>/",
                wrap(self.revision_action_view),
                name="{}_{}_revision_action".format(*info),
            ),
            path(
                "<path:object_id>/preview/",
                wrap(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            *super().get_urls(),
        ]

    def _item_or_404(self, request, object_id, *, change=False):
        obj = super().get_object(request, object_id)
        if obj is None:
            raise Http404
        allowed = self.has_change_permission if change else self.has_view_permission
        if not allowed(request, obj):
            raise PermissionDenied
        return obj

    def _context(self, request, obj, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": title,
            **extra,
        }

    def revisions_view(self, request, object_id):
        obj = self._item_or_404(request, object_id)
        history = list(Revision.objects.for_item(obj).select_related("created_by", "approved_by"))
        context = self._context(
            request,
            obj,
            _("Revisions of “%(item)s”") % {"item": obj},
            revisions=history,
            can_change=self.has_change_permission(request, obj),
            can_publish=self.has_publish_permission(request),
        )
        return TemplateResponse(request, "admin/sitecontent/revisions.html", context)

    def compare_view(self, request, object_id):
        obj = self._item_or_404(request, object_id)
        revisions_of_item = Revision.objects.for_item(obj)
        try:
            a = revisions_of_item.get(pk=request.GET.get("a"))
            b = revisions_of_item.get(pk=request.GET.get("b"))
        except (Revision.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        older, newer = sorted([a, b], key=lambda r: (r.created_at, r.pk))
        context = self._context(
            request,
            obj,
            _("Changes between two revisions"),
            older=older,
            newer=newer,
            changes=revisions.compare(older, newer),
        )
        return TemplateResponse(request, "admin/sitecontent/revision_compare.html", context)

    def revision_action_view(self, request, object_id, revision_id, action):
        """POST does ``action``; a GET of "restore" asks first (restore_confirm_view)."""
        if request.method == "GET" and action == "restore":
            return self.restore_confirm_view(request, object_id, revision_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"] if action == "restore" else ["POST"])
        obj = self._item_or_404(request, object_id, change=True)
        revision = get_object_or_404(Revision.objects.for_item(obj), pk=revision_id)
        try:
            if action == "restore":
                restored = revisions.revision_restore(revision=revision, user=request.user)
                done = (
                    _("Restored; the changes are live.")
                    if not restored.is_draft
                    else _("Restored as a draft for a publisher to publish.")
                )
            elif action == "publish":
                revisions.revision_publish(revision=revision, user=request.user)
                done = _("The changes are live.")
            elif action == "schedule":
                form = ScheduleChangesForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(form.errors.get("go_live_at") or _("Choose a time."))
                revisions.revision_schedule(
                    revision=revision, user=request.user, at=form.cleaned_data["go_live_at"]
                )
                done = _("The changes will go live at %(time)s.") % {
                    "time": timezone.localtime(form.cleaned_data["go_live_at"]).strftime(
                        "%Y-%m-%d %H:%M %Z"
                    )
                }
            else:
                raise Http404
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))

    def restore_confirm_view(self, request, object_id, revision_id):
        """What restoring this revision will do (live now, or a draft for a publisher),
        and which fields change from what the item holds; its form POSTs the restore."""
        obj = self._item_or_404(request, object_id, change=True)
        revision = get_object_or_404(
            Revision.objects.for_item(obj).select_related("created_by"), pk=revision_id
        )
        outcome = revisions.restore_outcome(revision=revision, user=request.user)
        context = self._context(
            request,
            obj,
            _("Restore this version of “%(item)s”?") % {"item": obj},
            revision=revision,
            **outcome,
        )
        return TemplateResponse(request, "admin/sitecontent/revision_restore_confirm.html", context)

    def preview_view(self, request, object_id):
        """A signed, expiring link to the item as it will render (its draft, if any)."""
        obj = self._item_or_404(request, object_id)
        draft = revisions.pending_draft(obj)
        link = request.build_absolute_uri(preview.preview_url(obj, draft))
        context = self._context(
            request,
            obj,
            _("Preview of “%(item)s”") % {"item": obj},
            link=link,
            draft=draft,
            hours=preview.max_age_hours(),
        )
        return TemplateResponse(request, "admin/sitecontent/preview_link.html", context)
