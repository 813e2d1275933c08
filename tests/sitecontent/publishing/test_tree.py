"""Moving and reordering pages (sitecontent.publishing.tree): places, slugs, cycles,
depth, who may, and the addresses that follow."""

import pytest
from django.contrib.redirects.models import Redirect
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from cms import cdn
from sitecontent.models import AuditEvent, Page
from sitecontent.publishing import revisions
from sitecontent.publishing.tree import page_move, page_tree, pages_reorder, walk
from tests.factories import PageFactory, editor, publisher

pytestmark = pytest.mark.django_db


def order(parent=None):
    return list(
        Page.objects.filter(parent=parent).order_by("menu_order").values_list("slug", flat=True)
    )


@pytest.fixture
def pat():
    return publisher(username="pat")


def draft(**kwargs):
    return PageFactory(is_published=False, publish_at=None, **kwargs)


# -- places ------------------------------------------------------------------------------


def test_moving_under_another_page_puts_it_at_the_position_and_renumbers_densely(pat):
    about = PageFactory(slug="about")
    PageFactory(slug="history", parent=about, menu_order=5)
    PageFactory(slug="press", parent=about, menu_order=9)
    team = PageFactory(slug="team")
    moved = page_move(page=team, parent=about, position=1, user=pat)
    assert moved.parent == about
    assert order(about) == ["history", "team", "press"]
    assert list(about.children.order_by("menu_order").values_list("menu_order", flat=True)) == [
        0,
        1,
        2,
    ]
    assert moved.get_absolute_url() == "/about/team/"


def test_a_position_past_the_end_puts_it_last(pat):
    about = PageFactory(slug="about")
    PageFactory(slug="history", parent=about)
    team = PageFactory(slug="team")
    page_move(page=team, parent=about, position=99, user=pat)
    assert order(about) == ["history", "team"]


def test_moving_within_the_same_parent_changes_only_the_order(pat):
    *_, c = (PageFactory(slug=s, menu_order=i) for i, s in enumerate("abc"))
    page_move(page=c, parent=None, position=0, user=pat)
    assert order() == ["c", "a", "b"]
    assert not Redirect.objects.exists()


def test_moving_to_the_top_level(pat):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    page_move(page=team, parent=None, position=0, user=pat)
    team.refresh_from_db()
    assert team.parent is None
    assert team.get_absolute_url() == "/team/"


def test_reordering_sets_the_order_given(pat):
    about = PageFactory(slug="about")
    pages = [PageFactory(slug=s, parent=about, menu_order=i) for i, s in enumerate("abc")]
    pages_reorder(parent=about, ordered_ids=[pages[2].pk, pages[0].pk, pages[1].pk], user=pat)
    assert order(about) == ["c", "a", "b"]


@pytest.mark.parametrize("ids", ["none", "missing one", "twice", "stranger"])
def test_a_reorder_must_name_each_child_once(pat, ids):
    a, b = PageFactory(slug="a"), PageFactory(slug="b")
    stranger = PageFactory(slug="c", parent=a)
    ids = {
        "none": [],
        "missing one": [a.pk],
        "twice": [a.pk, a.pk, b.pk],
        "stranger": [a.pk, b.pk, stranger.pk],
    }[ids]
    with pytest.raises(ValidationError):
        pages_reorder(parent=None, ordered_ids=ids, user=pat)


def test_the_move_is_in_the_audit_log_with_where_from_and_where_to(pat):
    about = PageFactory(slug="about", title="About")
    team = PageFactory(slug="team")
    page_move(page=team, parent=about, position=0, user=pat)
    event = AuditEvent.objects.get(action=AuditEvent.Action.MOVE)
    assert event.actor == pat
    assert event.object_id == str(team.pk)
    assert event.details["from"]["url"] == "/team/"
    assert event.details["to"] == {
        "parent": about.pk,
        "parent_title": "About",
        "menu_order": 0,
        "url": "/about/team/",
    }


def test_a_reorder_that_one_move_makes_records_that_move(pat):
    a, b, c = (PageFactory(slug=s, menu_order=i) for i, s in enumerate("abc"))
    pages_reorder(parent=None, ordered_ids=[c.pk, a.pk, b.pk], user=pat)
    assert list(AuditEvent.objects.values_list("object_id", flat=True)) == [str(c.pk)]


# -- what is refused ---------------------------------------------------------------------


def test_a_page_cannot_go_under_itself_or_below_itself(pat):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    alumni = PageFactory(slug="alumni", parent=team)
    for parent in (about, team, alumni):
        with pytest.raises(ValidationError) as refused:
            page_move(page=about, parent=parent, position=0, user=pat)
        assert "parent" in refused.value.message_dict
    about.refresh_from_db()
    assert about.parent is None


def test_a_slug_taken_among_the_new_siblings_is_refused_and_nothing_changes(pat):
    about = PageFactory(slug="about")
    PageFactory(slug="team", parent=about)
    team = PageFactory(slug="team")
    PageFactory(slug="later", menu_order=7)
    with pytest.raises(ValidationError):
        page_move(page=team, parent=about, position=0, user=pat)
    team.refresh_from_db()
    assert team.parent is None
    assert order(about) == ["team"]
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("slug", ["static", "media", "admin", "articles"])
def test_a_top_level_slug_the_site_uses_elsewhere_is_refused(pat, slug):
    about = PageFactory(slug="about")
    page = PageFactory(slug=slug, parent=about)
    with pytest.raises(ValidationError) as refused:
        page_move(page=page, parent=None, position=0, user=pat)
    assert "slug" in refused.value.message_dict


def test_a_move_that_would_nest_the_pages_below_too_deep_is_refused(pat):
    chain = [PageFactory(slug="level-1")]
    for depth in range(2, Page.MAX_DEPTH + 1):
        chain.append(PageFactory(slug=f"level-{depth}", parent=chain[-1]))
    branch = PageFactory(slug="branch")
    PageFactory(slug="leaf", parent=branch)
    # The branch alone would fit at the deepest level but its leaf would not.
    with pytest.raises(ValidationError):
        page_move(page=branch, parent=chain[-2], position=0, user=pat)
    page_move(page=branch, parent=chain[-3], position=0, user=pat)


def test_a_negative_position_is_refused(pat):
    page = PageFactory(slug="a")
    with pytest.raises(ValidationError):
        page_move(page=page, parent=None, position=-1, user=pat)


# -- who may -----------------------------------------------------------------------------


def test_an_editor_moves_their_own_draft_but_not_someone_elses():
    eda = editor(username="eda")
    about = PageFactory(slug="about")
    mine = draft(slug="mine", owner=eda)
    theirs = draft(slug="theirs")
    page_move(page=mine, parent=about, position=0, user=eda)
    with pytest.raises(PermissionDenied):
        page_move(page=theirs, parent=about, position=0, user=eda)


def test_an_editor_may_not_move_a_published_page_even_their_own():
    eda = editor(username="eda")
    mine = PageFactory(slug="mine", owner=eda)
    with pytest.raises(PermissionDenied):
        page_move(page=mine, parent=PageFactory(slug="about"), position=0, user=eda)


def test_an_editor_may_not_move_their_draft_when_a_page_below_it_is_published():
    eda = editor(username="eda")
    mine = draft(slug="mine", owner=eda)
    PageFactory(slug="live-child", parent=mine)
    with pytest.raises(PermissionDenied):
        page_move(page=mine, parent=None, position=5, user=eda)


def test_an_editor_may_place_their_draft_among_published_pages():
    eda = editor(username="eda")
    PageFactory(slug="a", menu_order=0)
    PageFactory(slug="b", menu_order=1)
    mine = draft(slug="mine", owner=eda, menu_order=2)
    page_move(page=mine, parent=None, position=0, user=eda)
    assert order() == ["mine", "a", "b"]


def test_an_editor_reorder_that_moves_a_published_page_is_refused():
    eda = editor(username="eda")
    a, b = PageFactory(slug="a", menu_order=0), PageFactory(slug="b", menu_order=1)
    with pytest.raises(PermissionDenied):
        pages_reorder(parent=None, ordered_ids=[b.pk, a.pk], user=eda)
    assert order() == ["a", "b"]


def test_an_editor_reorder_that_only_moves_their_draft_is_allowed():
    eda = editor(username="eda")
    a, b = PageFactory(slug="a", menu_order=0), PageFactory(slug="b", menu_order=1)
    mine = draft(slug="mine", owner=eda, menu_order=2)
    pages_reorder(parent=None, ordered_ids=[a.pk, mine.pk, b.pk], user=eda)
    assert order() == ["a", "mine", "b"]


def test_the_tree_says_who_may_move_what_without_a_query_per_page(django_assert_num_queries):
    about = PageFactory(slug="about")
    for i in range(5):
        team = PageFactory(slug=f"team-{i}", parent=about)
        draft(slug=f"draft-{i}", parent=team)
    with django_assert_num_queries(1):
        nodes = page_tree()
        addresses = [node.page.get_absolute_url() for node in walk(nodes)]
    assert addresses[0] == "/about/"
    assert "/about/team-4/draft-4/" in addresses
    assert nodes[0].published_below
    assert not nodes[0].children[0].published_below


# -- addresses follow --------------------------------------------------------------------


def test_moving_a_page_redirects_it_and_its_published_descendants(pat):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    PageFactory(slug="alumni", parent=team)
    draft(slug="secret", parent=team)
    company = PageFactory(slug="company")
    page_move(page=team, parent=company, position=0, user=pat)
    visitor = Client()
    assert visitor.get("/about/team/")["Location"] == "/company/team/"
    assert visitor.get("/about/team/alumni/")["Location"] == "/company/team/alumni/"
    assert visitor.get("/company/team/alumni/").status_code == 200
    # A draft had no public address: nothing to keep, nothing to give away.
    assert not Redirect.objects.filter(old_path__contains="secret").exists()


def test_a_parent_changed_in_the_admin_form_redirects_the_descendants_too(pat):
    """The receivers, not the service, make the redirects: any parent change does it."""
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    PageFactory(slug="alumni", parent=team)
    company = PageFactory(slug="company")
    team.parent = company
    team.save()
    assert Client().get("/about/team/alumni/")["Location"] == "/company/team/alumni/"


def test_a_move_purges_the_old_and_new_addresses_and_both_parents(
    pat, django_capture_on_commit_callbacks
):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    company = PageFactory(slug="company")
    with django_capture_on_commit_callbacks(execute=True):
        page_move(page=team, parent=company, position=0, user=pat)
    purged = set().union(*(set(paths) for paths in cdn.get_backend().purges))

    def covered(path):
        return any(p == path or (p.endswith("*") and path.startswith(p[:-1])) for p in purged)

    for path in ("/about/team/", "/about/team/x/", "/company/team/", "/about/", "/company/"):
        assert covered(path), path
    assert not covered("/elsewhere/")


def test_a_pending_draft_follows_the_move(pat):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team")
    revisions.revision_create(item=team, user=pat)
    pending = revisions.revision_create(
        item=team, user=pat, data={**revisions.snapshot(team), "title": "Our team"}, applied=False
    )
    page_move(page=team, parent=about, position=0, user=pat)
    pending.refresh_from_db()
    revisions.revision_publish(revision=pending, user=pat)
    team.refresh_from_db()
    assert (team.title, team.parent) == ("Our team", about)
