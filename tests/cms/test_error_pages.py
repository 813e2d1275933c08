"""404, 403 and the sign-in lockout: in the admin's frame under /admin/, the site's own
pages elsewhere (cms.views.page_not_found / permission_denied, both URLconfs)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import path

from cms import public_urls
from cms import urls as admin_urls
from tests.factories import editor

ADMIN_HEADER = '<div id="site-name"><a href="/admin/">Lambda CMS administration</a></div>'


def test_both_urlconfs_name_the_same_handlers():
    for urlconf in (admin_urls, public_urls):
        assert urlconf.handler404 == "cms.views.page_not_found"
        assert urlconf.handler403 == "cms.views.permission_denied"


@pytest.mark.django_db
def test_a_404_under_admin_is_branded_with_the_users_links(client):
    eda = editor(username="eda")
    client.force_login(eda)
    response = client.get("/admin/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert ADMIN_HEADER in html
    assert '<div id="user-tools">' in html
    assert "eda" in html
    assert "Page not found" in html
    assert "browse all articles" not in html  # not the public page


@pytest.mark.django_db
def test_a_missing_admin_object_is_the_admin_404_too(client):
    client.force_login(editor(username="eda"))
    # The admin redirects a missing object to its list with a message; an unknown
    # model under /admin/ is a plain 404.
    response = client.get("/admin/sitecontent/nosuchmodel/")
    assert response.status_code == 404
    assert ADMIN_HEADER in response.content.decode()


@pytest.mark.django_db
def test_a_403_under_admin_is_branded(client):
    client.force_login(editor(username="eda"))
    response = client.get("/admin/sitecontent/user/add/")
    assert response.status_code == 403
    html = response.content.decode()
    assert ADMIN_HEADER in html
    assert "Access denied" in html
    assert "eda" in html


@pytest.mark.django_db
def test_public_404_is_the_sites_own(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "browse all articles" in html
    assert "administration" not in html


def denied(request):
    raise PermissionDenied


urlpatterns = [path("denied/", denied), *public_urls.urlpatterns]
handler403 = "cms.views.permission_denied"


@pytest.mark.django_db
def test_public_403_is_the_sites_own(client, settings):
    settings.ROOT_URLCONF = __name__
    # Public requests resolve against cms.public_urls (cms.middleware); this test's
    # URLconf stands in for it so that a view can refuse.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "PublicURLConf" not in m]
    response = client.get("/denied/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "This address is not open to visitors." in html
    assert "administration" not in html


@pytest.mark.django_db
def test_the_lockout_page_carries_the_admin_branding(client, settings):
    settings.AXES_FAILURE_LIMIT = 1
    editor(username="eda")
    response = client.post("/admin/login/", {"username": "eda", "password": "wrong"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many sign-in attempts" in html
    assert ADMIN_HEADER in html
    assert "Django administration" not in html
