"""The review workflow in the admin, for articles and pages: "Submit for review" on the
change form (the review_panel include), the review screen comparing the submission with
what is live, where a Publisher approves (now or at a time) or asks for changes.

Rules live in sitecontent.publishing.review; the views unpack requests, check that the
user may see the item, and call the services (which check permissions again).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sitecontent import roles
from sitecontent.models import ReviewRequest
from sitecontent.publishing import review as reviews


class SubmitForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Message to the reviewer"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("What changed, what to check (optional)."),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "approve"), ("request_changes", "request changes")],
        widget=forms.HiddenInput,
    )
    go_live_at = forms.DateTimeField(
        label=gettext_lazy("Go live at"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "aria-describedby": "go-live-help"},
            format="%Y-%m-%dT%H:%M",
        ),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )
    seen_revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReviewAdminMixin:
    """Adds the review screens to a ModelAdmin of articles or pages."""

    def _review_urlname(self, name):
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_{name}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/review/submit/",
                wrap(self.review_submit_view),
                name=self._review_urlname("review_submit"),
            ),
            path(
                "<path:object_id>/review/<int:review_id>/",
                wrap(self.review_view),
                name=self._review_urlname("review"),
            ),
            *super().get_urls(),
        ]

    def _item(self, request, object_id):
        obj = super().get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj

    def _back_to_form(self, obj):
        return HttpResponseRedirect(
            reverse(f"admin:{self._review_urlname('change')}", args=[obj.pk])
        )

    def review_submit_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._item(request, object_id)
        form = SubmitForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(list(form.errors.get("message", [])))
            reviews.review_submit(item=obj, user=request.user, message=form.cleaned_data["message"])
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("Submitted for review. The publishers have been told."),
                messages.SUCCESS,
            )
        return self._back_to_form(obj)

    def review_view(self, request, object_id, review_id):
        obj = self._item(request, object_id)
        review = get_object_or_404(ReviewRequest.objects.for_item(obj), pk=review_id)
        may_decide = roles.can_publish(request.user, self.model)
        form = DecisionForm(request.POST or None)
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            if form.is_valid():
                data = form.cleaned_data
                try:
                    if data["decision"] == "approve":
                        reviews.review_approve(
                            review=review,
                            user=request.user,
                            at=data["go_live_at"],
                            comment=data["comment"],
                            seen_revision_id=data["seen_revision"],
                        )
                        done = _("Approved: it is published.")
                        if data["go_live_at"]:
                            local = timezone.localtime(data["go_live_at"])
                            done = _("Approved: it goes live at %(time)s.") % {
                                "time": f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
                            }
                    else:
                        reviews.review_request_changes(
                            review=review, user=request.user, comment=data["comment"]
                        )
                        done = _("Changes requested. The author has been told.")
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    self.message_user(request, done, messages.SUCCESS)
                    return self._back_to_form(obj)
        review.item = obj
        compared = reviews.comparison(review)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": _("Review of “%(item)s”") % {"item": obj},
            "review": review,
            "comparison": compared,
            "changed_since_submitted": compared.revision is not None
            and review.revision_id is not None
            and compared.revision.pk != review.revision_id,
            "may_decide": may_decide and review.is_pending,
            "form": form,
            "site_zone": timezone.get_current_timezone_name(),
            "rounds": reviews.history(obj),
        }
        return TemplateResponse(request, "admin/sitecontent/review.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            rounds = reviews.history(obj)
            current = rounds[0] if rounds else None
            stored = type(obj).objects.get(pk=obj.pk)
            target = reviews.under_review(stored)
            # What review_submit accepts: nothing open, theirs to change, and something
            # to review (unpublished, or a draft of changes not yet scheduled).
            can_submit = (
                (current is None or not current.is_pending)
                and roles.can_change(request.user, stored)
                and (not stored.is_published or (target is not None and target.go_live_at is None))
            )
            context.update(
                review_current=current,
                review_rounds=rounds,
                review_can_submit=can_submit,
                review_nothing_to_review=stored.is_published and target is None,
                review_can_decide=roles.can_publish(request.user, self.model),
                review_submit_form=SubmitForm(),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)
