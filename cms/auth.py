"""Django's ModelBackend with a user's permissions read in one query, not two.

ModelBackend reads a user's own permissions and their groups' permissions with a query
each, on every signed-in admin request that checks one (the dashboard, each change list).
This backend reads both at once (the same set: ``app_label.codename`` of the user's and
their groups' permissions; every permission for an active superuser) into the same
per-request cache (``user._perm_cache``), so ModelBackend, listed after it for sessions
signed in before it was, answers from that cache too.
"""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
            names = perms.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in names.distinct()}
        return user_obj._perm_cache
