"""cms.auth: a signed-in user and all their permissions in one query, the same set
Django's ModelBackend gives, read afresh on every request."""

import pytest
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms.auth import ModelBackend
from tests.factories import UserFactory, editor, publisher

pytestmark = pytest.mark.django_db


def django_permissions(user):
    fresh = type(user).objects.get(pk=user.pk)
    return DjangoModelBackend().get_all_permissions(fresh)


@pytest.mark.parametrize("make", [editor, publisher], ids=["editor", "publisher"])
def test_the_user_and_their_permissions_come_in_one_query(make):
    user = make()
    # One of their own too, beside their group's (and one both give: counted once).
    own = Permission.objects.get(codename="view_auditevent")
    user.user_permissions.add(own, *user.groups.first().permissions.all()[:1])
    with CaptureQueriesContext(connection) as queries:
        loaded = ModelBackend().get_user(user.pk)
        allowed = loaded.get_all_permissions()
        assert loaded.has_perm("sitecontent.view_auditevent")
        assert loaded.has_module_perms("sitecontent")
    assert len(queries) == 1
    assert allowed == django_permissions(user)
    assert "sitecontent.view_auditevent" in allowed


def test_a_user_without_permissions_has_none_and_no_second_query():
    user = UserFactory(is_staff=True)
    with CaptureQueriesContext(connection) as queries:
        loaded = ModelBackend().get_user(user.pk)
        assert loaded.get_all_permissions() == set()
        assert not loaded.has_perm("sitecontent.change_article")
    assert len(queries) == 1


def test_a_permission_taken_away_counts_from_the_next_load():
    user = editor()
    group = user.groups.first()
    assert ModelBackend().get_user(user.pk).has_perm("sitecontent.change_article")
    group.permissions.remove(Permission.objects.get(codename="change_article"))
    assert not ModelBackend().get_user(user.pk).has_perm("sitecontent.change_article")
    user.groups.clear()
    assert ModelBackend().get_user(user.pk).get_all_permissions() == set()


def test_a_superuser_has_every_permission_and_inactive_or_missing_users_none():
    boss = UserFactory(is_superuser=True, is_staff=True)
    assert ModelBackend().get_user(boss.pk).has_perm("anything.at_all")
    gone = UserFactory(is_active=False)
    assert ModelBackend().get_user(gone.pk) is None
    assert ModelBackend().get_user(10**9) is None


def test_a_user_loaded_another_way_reads_them_in_one_query():
    user = editor()
    user.groups.add(Group.objects.create(name="Extra"))
    loaded = type(user).objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        allowed = ModelBackend().get_all_permissions(loaded)
        ModelBackend().get_all_permissions(loaded)
    assert len(queries) == 1
    assert allowed == django_permissions(user)


def test_an_admin_sign_in_loads_later_requests_through_it(client):
    """The admin's login form authenticates through cms.auth (axes only counts), so the
    session's backend is it, and the dashboard's user comes with their permissions."""
    user = editor()
    user.set_password("a long and private passphrase")
    user.save()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": user.username, "password": "a long and private passphrase"},
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "cms.auth.ModelBackend"
