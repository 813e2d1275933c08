"""People in the admin: user management for those allowed, one's own profile for everyone."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sitecontent.models import User


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
