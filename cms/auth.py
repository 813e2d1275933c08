"""Django's ModelBackend with a signed-in user's permissions read with the user.

ModelBackend reads a user's own permissions and their groups' permissions with a query
each, on every signed-in admin request that checks one (the dashboard, each change list),
after the query that loads the user. Here the user's row and the names of all their
permissions (``app_label.codename``, their own and their groups', as ModelBackend
gives) come in one query (``get_user``, which the session's user is loaded by), into the
same per-request cache (``user._perm_cache``) that ModelBackend and
``get_all_permissions`` answer from. A user loaded another way (authenticate(), a
session signed in through Django's backend, listed after this one) reads them in one
query of their own at the first check.

Permissions are read on each request, never kept across requests: one taken away
counts from the next request on.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.db.models import F, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.functions import Concat

# Neither an app label nor a codename holds a comma (both are identifiers), so the
# names come back as one comma-separated text: SQLite's GROUP_CONCAT(DISTINCT ...)
# takes no other separator.
SEPARATOR = ","


def _permissions(user) -> Q:
    return Q(user=user) | Q(group__user=user)


def _names(permissions):
    return permissions.values_list("content_type__app_label", "codename").order_by()


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        names = (
            Permission.objects.filter(_permissions(OuterRef("pk")))
            .order_by()
            # No GROUP BY (a constant is left out of it): one row over all of them.
            .annotate(everything=Value(1))
            .values("everything")
            .annotate(
                names=StringAgg(
                    Concat(F("content_type__app_label"), Value("."), F("codename")),
                    Value(SEPARATOR),
                    distinct=True,
                )
            )
            .values("names")
        )
        user_model = get_user_model()
        try:
            user = user_model._default_manager.annotate(_permission_names=Subquery(names)).get(
                pk=user_id
            )
        except user_model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:
            text = user._permission_names or ""
            user._perm_cache = set(text.split(SEPARATOR)) if text else set()
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = Permission.objects.filter(_permissions(user_obj))
            user_obj._perm_cache = {f"{app}.{code}" for app, code in _names(perms).distinct()}
        return user_obj._perm_cache
