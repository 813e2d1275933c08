"""Redirects in the admin: django.contrib.redirects' model, with this site's rules
(sitecontent.publishing.redirects): targets on this site for everyone allowed to edit redirects,
other sites only for publishers, never another scheme."""

# Imported here, not left to autodiscovery's order: its registration is the one this
# module replaces, whichever of the two is imported first (a test, cms.urls).
import django.contrib.redirects.admin  # noqa: F401
from django import forms
from django.contrib import admin
from django.contrib.redirects.models import Redirect
from django.core.exceptions import ValidationError

from sitecontent.publishing import redirects


class RedirectForm(forms.ModelForm):
    user = None  # set by the admin for the request

    class Meta:
        model = Redirect
        fields = ["site", "old_path", "new_path"]

    def clean(self):
        data = super().clean()
        if "old_path" in data and "new_path" in data:
            try:
                redirects.check_redirect(
                    old_path=data["old_path"], new_path=data["new_path"], user=self.user
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
        return data


admin.site.unregister(Redirect)


@admin.register(Redirect)
class RedirectAdmin(admin.ModelAdmin):
    form = RedirectForm
    list_display = ["old_path", "new_path"]
    list_filter = ["site"]
    search_fields = ["old_path", "new_path"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or redirects.can_change_redirect(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or redirects.can_change_redirect(request.user, obj))

    def save_model(self, request, obj, form, change):
        redirects.redirect_save(redirect=obj, user=request.user)

    def delete_model(self, request, obj):
        redirects.redirect_delete(redirect=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for redirect in queryset:
            redirects.redirect_delete(redirect=redirect, user=request.user)
