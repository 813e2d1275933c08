"""No lost work in the change forms of articles, pages, images and documents: who else
is editing (a heartbeat), a save based on an outdated version refused with what
changed, and autosaves offered back. The rules are in sitecontent.publishing.editing;
this module unpacks requests, wires the check into the form's clean (so a forged POST
meets it too) and gives the template (includes/editing_session.html) its context.

The JSON endpoints answer JSON, errors included: a signed-out session, a failed CSRF
check, a missing item or a refused permission each get their status and a message the
page can show, never the HTML login page or 403 page.
"""

import json

from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from sitecontent import roles
from sitecontent.publishing import editing

BASE_FIELD = "_editing_base"
OVERWRITE_FIELD = "_overwrite"
# The submit buttons "Save anyway" may stand for (it repeats the one first pressed).
SAVE_ACTIONS = ("_continue", "_savedraft", "_save")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


class EditingSessionMixin:
    """Put first in a ModelAdmin's bases (before the mixins whose change_view, get_form
    and response_* it wraps)."""

    autosave_add_form = True

    # -- urls: heartbeat and autosave, JSON in and out --------------------------------

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        add = [
            # Before the item's own: "add" would otherwise be read as an object id.
            path(
                "add/editing/autosave/",
                self._json_view(self.autosave_view),
                name="{}_{}_add_autosave".format(*info),
            )
        ]
        return [
            *(add if self.autosave_add_form else []),
            path(
                "<path:object_id>/editing/heartbeat/",
                self._json_view(self.heartbeat_view),
                name="{}_{}_heartbeat".format(*info),
            ),
            path(
                "<path:object_id>/editing/autosave/",
                self._json_view(self.autosave_view),
                name="{}_{}_autosave".format(*info),
            ),
            *super().get_urls(),
        ]

    def _json_view(self, view):
        """admin_view's checks (staff session, CSRF on POST), answered in JSON."""

        def inner(request, *args, **kwargs):
            if not self.admin_site.has_permission(request):
                return _error(401, _("You are signed out. Sign in again in another tab."))
            if request.method == "POST":
                # The middleware leaves views marked csrf_exempt to us: the same check,
                # with a JSON answer instead of Django's HTML 403 page.
                refused = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                if refused is not None:
                    return _error(403, _("The form is out of date (CSRF); reload the page."))
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied as exc:
                return _error(403, str(exc) or _("You may not change this."))

        return csrf_exempt(never_cache(inner))

    def _editable_item(self, request, object_id):
        item = self.get_object(request, unquote(object_id))
        if item is None:
            return None
        if not self.has_change_permission(request, item):
            raise PermissionDenied(roles.why_read_only(request.user, item) or _("You may not."))
        return item

    def heartbeat_view(self, request, object_id):
        """POST ``{"base": ...}``: the others editing this item, and whether it was saved
        since the page's version. ``{"leave": true}`` (or the form field ``leave``, as
        the page's beacon sends it when it closes) says the form is gone."""
        if request.method != "POST":
            return _error(405, _("Use POST."))
        item = self._editable_item(request, object_id)
        if item is None:
            return _error(404, _("This item no longer exists."))
        if request.content_type == "application/json":
            try:
                payload = json.loads(request.body or b"{}")
            except ValueError:
                return _error(400, _("Send JSON."))
            if not isinstance(payload, dict):
                return _error(400, _("Send a JSON object."))
        else:
            payload = request.POST
        if payload.get("leave"):
            editing.presence_leave(user=request.user, item=item)
            return JsonResponse({"left": True})
        others = editing.presence_touch(user=request.user, item=item)
        changed = None
        base = payload.get("base") or ""
        if isinstance(base, str) and base and not editing.base_is_current(item=item, base=base):
            by, at = editing.last_change(item)
            changed = {"by": by, "at": editing.shown_time(at) if at else ""}
        return JsonResponse(
            {"others": others, "changed": changed, "interval": editing.HEARTBEAT_SECONDS}
        )

    def autosave_view(self, request, object_id=None):
        """POST the form's fields: keep them (``_discard`` drops them instead). GET:
        what the form needs to restore them, 404 when there is nothing to restore."""
        item = None
        if object_id is not None:
            item = self._editable_item(request, object_id)
            if item is None:
                return _error(404, _("This item no longer exists."))
        elif not self.has_add_permission(request):
            return _error(403, _("You may not add this."))
        if request.method == "GET":
            restorable = editing.autosave_restorable(user=request.user, model=self.model, item=item)
            if restorable is None:
                return _error(404, _("There are no unsaved changes to restore."))
            return JsonResponse(restorable)
        if request.method != "POST":
            return _error(405, _("Use GET or POST."))
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if size > editing.AUTOSAVE_MAX_BYTES:
            return _error(413, _("Too much to autosave; save the form instead."))
        if "_discard" in request.POST:
            editing.autosave_clear(user=request.user, model=self.model, item=item)
            return JsonResponse({"discarded": True})
        data = {name: request.POST.getlist(name) for name in request.POST}
        try:
            row = editing.autosave_store(
                user=request.user,
                model=self.model,
                item=item,
                data=data,
                base=request.POST.get(BASE_FIELD, ""),
            )
        except ValidationError as exc:
            return _error(400, "; ".join(exc.messages))
        return JsonResponse({"saved_at": editing.shown_time(row.saved_at)})

    # -- the stale-save check, in the form ---------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and OVERWRITE_FIELD in request.POST:
            # "Save anyway": the version the editor has now seen, and the button first pressed.
            action, _sep, base = request.POST[OVERWRITE_FIELD].partition(":")
            post = request.POST.copy()
            post[BASE_FIELD] = base
            if action in SAVE_ACTIONS:
                post[action] = "1"
            request.POST = post
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or obj.pk is None or request.method != "POST":
            return form_class
        model, pk, base = self.model, obj.pk, request.POST.get(BASE_FIELD, "")

        class EditingForm(form_class):
            stale_edit = None

            def clean(self):
                cleaned = super().clean()
                try:
                    editing.edit_check(model=model, pk=pk, base=base, submitted=cleaned)
                except editing.StaleEdit as exc:
                    self.stale_edit = exc
                    raise
                return cleaned

        EditingForm.__name__ = form_class.__name__
        return EditingForm

    # -- the page ----------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["editing_session"] = self._editing_context(request, context, add, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _editing_context(self, request, context, add, obj):
        opts = self.model._meta
        info = opts.app_label, opts.model_name
        form = context["adminform"].form
        if add:
            if not self.autosave_add_form or not self.has_add_permission(request):
                return None
            autosave_url = reverse("admin:{}_{}_add_autosave".format(*info))
            found = editing.autosave_find(user=request.user, model=self.model)
            return {
                "form_id": f"{opts.model_name}_form",
                "autosave_url": autosave_url,
                "autosave": found if request.method == "GET" else None,
                "autosave_time": editing.shown_time(found.saved_at) if found else "",
            }
        if obj is None or not self.has_change_permission(request, obj) or not form.fields:
            return None
        names = [name for name in form.fields if name != BASE_FIELD]
        stale = getattr(form, "stale_edit", None)
        if request.method == "POST":
            base = request.POST.get(BASE_FIELD, "")
        else:
            base = editing.fingerprint(obj, names)  # obj holds its draft, as the form does
        found = (
            editing.autosave_find(user=request.user, model=self.model, item=obj)
            if request.method == "GET"
            else None
        )
        pressed = next((a for a in SAVE_ACTIONS if a in request.POST), "_continue")
        return {
            "form_id": f"{opts.model_name}_form",
            "base": base,
            "heartbeat_url": reverse("admin:{}_{}_heartbeat".format(*info), args=[quote(obj.pk)]),
            "autosave_url": reverse("admin:{}_{}_autosave".format(*info), args=[quote(obj.pk)]),
            "interval": editing.HEARTBEAT_SECONDS,
            "others": editing.presence_touch(user=request.user, item=obj),
            "autosave": found,
            "autosave_time": editing.shown_time(found.saved_at) if found else "",
            "autosave_outdated": found is not None
            and editing.saved_since(autosave=found, item=obj),
            "stale": stale,
            "stale_when": editing.shown_time(stale.at) if stale and stale.at else "",
            "overwrite": f"{pressed}:{stale.base}" if stale else "",
        }

    # -- a save that went through: its autosave is done with ---------------------------

    def response_add(self, request, obj, post_url_continue=None):
        editing.autosave_clear(user=request.user, model=self.model)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        editing.autosave_clear(user=request.user, model=self.model, item=obj)
        return super().response_change(request, obj)


class MediaEditingSessionMixin(EditingSessionMixin):
    """For images and documents, whose change form is Django's own: the same form with
    the editing session's include (admin/sitecontent/editing_change_form.html)."""

    change_form_template = "admin/sitecontent/editing_change_form.html"
    # Their add page is the direct upload (admin/uploads.py), not a model form.
    autosave_add_form = False
