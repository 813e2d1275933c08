"""What roles.py's docstring says of each role, checked against ROLE_PERMISSIONS and the
policy functions, so the description cannot go stale again."""

import pytest

from sitecontent import roles
from tests.factories import ArticleFactory, DocumentFactory, PageFactory, editor, publisher

pytestmark = pytest.mark.django_db

CONTENT = ("article", "page", "image", "document", "category", "tag")


def test_editors_delete_no_content_but_do_delete_redirects():
    editors = set(roles.ROLE_PERMISSIONS[roles.EDITORS])
    assert not {f"delete_{model}" for model in CONTENT} & editors
    assert "redirects.delete_redirect" in editors
    assert roles.REDIRECT_OFFSITE not in editors
    assert not any(entry.startswith("publish_") for entry in editors)
    assert not any(entry.startswith("cms.") for entry in editors)  # no operations panel


def test_publishers_hold_everything_editors_do_and_more():
    editors = set(roles.ROLE_PERMISSIONS[roles.EDITORS])
    publishers = set(roles.ROLE_PERMISSIONS[roles.PUBLISHERS])
    assert editors < publishers
    assert {f"delete_{model}" for model in CONTENT} <= publishers
    assert {roles.REDIRECT_OFFSITE, "publish_article", "publish_page"} <= publishers


def test_an_editor_changes_only_their_own_and_deletes_nothing():
    someone = editor()
    mine = ArticleFactory(author=someone, is_published=False, publish_at=None)
    theirs = ArticleFactory(author=editor(), is_published=False, publish_at=None)
    assert roles.can_change(someone, mine)
    assert not roles.can_change(someone, theirs)
    assert not roles.can_delete(someone, mine)
    assert not roles.can_publish(someone, type(mine))


def test_a_publisher_deletes_live_items_and_changes_anyones():
    someone = publisher()
    live_page = PageFactory(owner=editor())
    assert roles.can_change(someone, live_page)
    assert roles.can_delete(someone, live_page)
    assert roles.can_delete(someone, DocumentFactory(uploaded_by=editor()))
