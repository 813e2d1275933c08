"""The live preview beside the change form, and content checks when publishing.

As the editor types, static/js/live_preview.js posts the whole form here. The view
builds an item from it (a copy of the stored one for a change form; nothing is saved),
renders it with the public template exactly as a signed preview link does
(sitecontent.public.views.item_preview_response), keeps that one rendering in the
editor's session and answers with the content checks (sitecontent.publishing.checks) and
any form errors as JSON. The panel's iframe then loads the rendering from a same-origin
GET: the only admin response that may be framed, and only by the admin itself.

Publishing (“Save and publish”, the publish and schedule actions, publishing a draft)
is never stopped by a check: the warnings follow as a message, and the schedule
confirmation page lists them before anything is scheduled.
"""

import dataclasses
import functools

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from sitecontent.models import Revision
from sitecontent.public.views import item_preview_response
from sitecontent.publishing import checks as content_checks
from sitecontent.publishing import revisions
from sitecontent.richtext import RichTextField

SESSION_KEY = "sitecontent.live_previews"
# Renderings kept per session (one per open form, the oldest dropped first).
KEEP_RENDERINGS = 5
# Warnings listed per item in a message after publishing; the rest are counted.
LIST_AT_MOST = 6


def _framed_by_the_admin(view):
    """Let the admin frame this response, and nobody else: X-Frame-Options SAMEORIGIN
    and CSP frame-ancestors 'self' (both 'none'/DENY everywhere else)."""
    policy = {**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF]}
    return xframe_options_sameorigin(csp_override(policy)(view))


def _json_error(message, status):
    return JsonResponse({"error": str(message)}, status=status)


class LivePreviewAdminMixin:
    """For the article and page admins (before PublishableAdmin's other bases)."""

    @property
    def media(self):
        return super().media + forms.Media(
            js=["js/live_preview.js"], css={"all": ["css/live_preview.css"]}
        )

    # -- URLs -----------------------------------------------------------------------

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        wrap = self.admin_site.admin_view
        frame = wrap(_framed_by_the_admin(self.live_preview_frame_view))
        return [
            # The JSON endpoint answers 403 in JSON rather than redirecting to the login
            # page as admin_view would; CSRF is checked by the middleware.
            path(
                "live-preview/",
                never_cache(self.live_preview_view),
                name="{}_{}_live_preview_add".format(*info),
            ),
            path("live-preview/frame/", frame, name="{}_{}_live_preview_frame_add".format(*info)),
            path(
                "<path:object_id>/live-preview/",
                never_cache(self.live_preview_view),
                name="{}_{}_live_preview".format(*info),
            ),
            path(
                "<path:object_id>/live-preview/frame/",
                frame,
                name="{}_{}_live_preview_frame".format(*info),
            ),
            *super().get_urls(),
        ]

    def _live_preview_urls(self, object_id=None) -> dict:
        info = self.model._meta.app_label, self.model._meta.model_name
        if object_id is None:
            return {
                "endpoint": reverse("admin:{}_{}_live_preview_add".format(*info)),
                "frame": reverse("admin:{}_{}_live_preview_frame_add".format(*info)),
            }
        return {
            "endpoint": reverse("admin:{}_{}_live_preview".format(*info), args=[object_id]),
            "frame": reverse("admin:{}_{}_live_preview_frame".format(*info), args=[object_id]),
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Only where the form can be saved: a read-only view has nothing to preview.
        editable = (
            self.has_change_permission(request, obj) if change else self.has_add_permission(request)
        )
        if editable:
            context["live_preview"] = self._live_preview_urls(obj.pk if change else None)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- the endpoint ---------------------------------------------------------------

    def _stored_item(self, request, object_id):
        """The item the form edits (None for an add form), if this user may edit it."""
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            return None
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def live_preview_view(self, request, object_id=None):
        if not self.admin_site.has_permission(request):
            return _json_error(_("Sign in to the admin to preview."), 403)
        if request.method != "POST":
            return _json_error(_("Post the form to preview it."), 405)
        try:
            stored = self._stored_item(request, object_id)
        except PermissionDenied:
            return _json_error(_("You may not edit this item."), 403)
        except Http404:
            return _json_error(_("This item does not exist (any more)."), 404)

        form_class = self.get_form(request, stored, change=stored is not None)
        form = form_class(request.POST, request.FILES, instance=stored)
        # Builds form.instance from every field that is valid; the others keep the
        # stored (or default) value, and their errors are shown in the panel.
        form.is_valid()
        item = form.instance
        found = content_checks.content_checks(item)
        self._prepare_for_rendering(request, form, item, stored)

        response = item_preview_response(request, item, live_preview=True)
        response.render()
        key = f"{self.model._meta.label_lower}:{object_id or 'add'}"
        renderings = {k: v for k, v in request.session.get(SESSION_KEY, {}).items() if k != key}
        renderings[key] = response.content.decode()
        request.session[SESSION_KEY] = dict(list(renderings.items())[-KEEP_RENDERINGS:])

        urls = self._live_preview_urls(object_id)
        return JsonResponse(
            {
                "frame_url": urls["frame"],
                "checks": [check.as_dict() for check in found],
                "errors": [
                    {
                        "field": name,
                        "label": str(form.fields[name].label) if name in form.fields else "",
                        "messages": [str(message) for message in errors],
                    }
                    for name, errors in form.errors.items()
                ],
            }
        )

    def _prepare_for_rendering(self, request, form, item, stored):
        """What saving would do to the values, and the relations from the posted ids."""
        for field in item._meta.concrete_fields:
            if isinstance(field, RichTextField):
                setattr(item, field.attname, field.normalize(getattr(item, field.attname)))
        if hasattr(item, "author_id") and item.author_id is None:
            item.author = request.user  # as ArticleAdmin.save_model does on the first save
        if "slug" in form.errors or not item.slug:
            # The template links to the item's own address; a slug being typed may not
            # make one yet.
            item.slug = "preview"
        item._prefetched_objects_cache = {}
        for field in item._meta.many_to_many:
            if field.name not in form.fields:  # read-only for this user: as stored
                chosen = (
                    getattr(stored, field.name).all()
                    if stored
                    else field.related_model._default_manager.none()
                )
            elif field.name in form.cleaned_data:
                chosen = form.cleaned_data[field.name]
            else:
                # Some choice is invalid: show the valid ones, from what the form offers
                # this user (never more).
                ids = [v for v in request.POST.getlist(field.name) if v.isdigit()]
                chosen = form.fields[field.name].queryset.filter(pk__in=ids)
            # The template reads item.<relation>.all(), which answers from this cache.
            item._prefetched_objects_cache[field.name] = chosen
        if item.pk is None:
            # A many-to-many manager needs a primary key even when it answers from the
            # cache; 0 is never a row's and stays false, so nothing treats it as saved.
            item.pk = 0

    def live_preview_frame_view(self, request, object_id=None):
        self._stored_item(request, object_id)
        key = f"{self.model._meta.label_lower}:{object_id or 'add'}"
        html = request.session.get(SESSION_KEY, {}).get(key)
        if html is None:
            html = format_html(
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
                "</head><body><p>{}</p></body></html>",
                _("Live preview"),
                _("The preview appears here as you edit."),
            )
        response = HttpResponse(html)
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    # -- checks when publishing -----------------------------------------------------

    def _warn_about_checks(self, request, items, *, scheduled=False):
        for item in items:
            found = content_checks.warnings(item)
            if not found:
                continue
            listed = found[:LIST_AT_MOST]
            more = len(found) - len(listed)
            if scheduled or (item.publish_at and item.publish_at > timezone.now()):
                intro = ngettext(
                    "“%(item)s” is scheduled; %(count)d content check to look at:",
                    "“%(item)s” is scheduled; %(count)d content checks to look at:",
                    len(found),
                )
            else:
                intro = ngettext(
                    "“%(item)s” is published; %(count)d content check to look at:",
                    "“%(item)s” is published; %(count)d content checks to look at:",
                    len(found),
                )
            intro %= {"item": item, "count": len(found)}
            tail = (
                ngettext("and %(count)d more.", "and %(count)d more.", more) % {"count": more}
                if more
                else ""
            )
            self.message_user(
                request,
                format_html(
                    "{}<ul>{}</ul>{}",
                    intro,
                    format_html_join("", "<li>{}</li>", ((c.message,) for c in listed)),
                    tail,
                ),
                messages.WARNING,
            )

    def _save_published(self, request, obj) -> bool:
        return obj.is_published and not getattr(request, "_saved_as_draft", False)

    def response_add(self, request, obj, post_url_continue=None):
        if self._save_published(request, obj):
            self._warn_about_checks(request, [obj])
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if self._save_published(request, obj):
            self._warn_about_checks(request, [obj])
        return super().response_change(request, obj)

    def get_action(self, action, *args, **kwargs):
        found = super().get_action(action, *args, **kwargs)
        if found is None or found.name not in {"publish_now", "schedule"}:
            return found
        func = found.func

        @functools.wraps(func)  # keeps allowed_permissions and the description
        def with_checks(modeladmin, request, queryset):
            response = func(modeladmin, request, queryset)
            if isinstance(response, TemplateResponse):
                # The schedule confirmation page: the warnings before choosing the time.
                response.context_data["content_checks"] = [
                    (item, found) for item in queryset if (found := content_checks.warnings(item))
                ]
            elif response is None:
                self._warn_about_checks(request, queryset.filter(is_published=True))
            return response

        return dataclasses.replace(found, func=with_checks)

    def revision_action_view(self, request, object_id, revision_id, action):
        response = super().revision_action_view(request, object_id, revision_id, action)
        if request.method == "POST" and action in {"publish", "schedule"}:
            revision = Revision.objects.filter(pk=revision_id).first()
            item = self.model._default_manager.filter(pk=unquote(object_id)).first()
            if revision is None or item is None:
                return response
            if revision.is_draft and revision.go_live_at is not None:
                revisions.overlay(item, revision.data)  # what will go live at that time
                self._warn_about_checks(request, [item], scheduled=True)
            elif not revision.is_draft:
                self._warn_about_checks(request, [item])
        return response
