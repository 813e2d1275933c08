"""The page explorer in the admin (sitecontent.admin.tree): what it shows, its JSON and
form endpoints, their errors, and how many queries the tree costs."""

import json

import pytest
from django.contrib.messages import get_messages
from django.contrib.redirects.models import Redirect
from django.test import Client

from sitecontent.models import Page
from sitecontent.publishing import revisions
from tests.admin_forms import page_form, split
from tests.factories import PageFactory

pytestmark = pytest.mark.django_db

TREE = "/admin/sitecontent/page/tree/"
MOVE = "/admin/sitecontent/page/tree/move/"
REORDER = "/admin/sitecontent/page/tree/reorder/"


def post_json(browser, url, data):
    return browser.post(url, json.dumps(data), content_type="application/json")


def order(parent=None):
    return list(
        Page.objects.filter(parent=parent).order_by("menu_order").values_list("slug", flat=True)
    )


def draft(**kwargs):
    return PageFactory(is_published=False, publish_at=None, **kwargs)


# -- the tree ----------------------------------------------------------------------------


def test_the_tree_nests_pages_with_status_and_links(publisher_client):
    about = PageFactory(title="About us", slug="about", show_in_menus=True)
    team = draft(title="Our team", slug="team", parent=about)
    response = publisher_client.get(TREE)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<li id="page-{about.pk}"' in html
    # The child is in a list inside its parent's item.
    assert (
        html.index(f'id="page-{about.pk}"')
        < html.index("<ul>")
        < html.index(f'id="page-{team.pk}"')
    )
    assert "status-published" in html
    assert "status-draft" in html
    assert "/about/team/" in html
    assert f"/admin/sitecontent/page/{team.pk}/change/" in html
    assert f"/admin/sitecontent/page/add/?parent={about.pk}" in html
    assert "In the menu" in html
    assert 'src="/static/js/page_tree.js"' in html
    assert "<script>" not in html  # no inline script (CSP)


def test_a_page_with_changes_waiting_as_a_draft_says_so(publisher_client):
    page = PageFactory(slug="about")
    revisions.revision_create(item=page, user=publisher_client.user)
    assert "Draft changes" not in publisher_client.get(TREE).content.decode()
    revisions.revision_create(
        item=page,
        user=publisher_client.user,
        data={**revisions.snapshot(page), "title": "New"},
        applied=False,
    )
    assert "Draft changes" in publisher_client.get(TREE).content.decode()


def test_the_tree_costs_the_same_queries_for_three_pages_or_thirty_four(
    publisher_client, django_assert_num_queries
):
    def build(count):
        top = PageFactory()
        for _ in range(count):
            child = PageFactory(parent=top)
            draft(parent=child)

    build(1)
    publisher_client.get(TREE)  # warm the session and the content types
    # the session, the user with their permissions (their own and their groups', one
    # query: cms.auth), and every page at once
    with django_assert_num_queries(3) as few:
        publisher_client.get(TREE)
    build(15)
    with django_assert_num_queries(len(few.captured_queries)):
        response = publisher_client.get(TREE)
    assert response.content.decode().count('class="tree-node"') == 34


def test_an_editor_gets_move_controls_only_for_pages_they_may_move(editor_client):
    theirs = PageFactory(slug="theirs")
    mine = draft(slug="mine", owner=editor_client.user)
    html = editor_client.get(TREE).content.decode()
    assert f'data-page-id="{theirs.pk}" data-parent-id="" data-movable="false"' in html
    assert f'data-page-id="{mine.pk}" data-parent-id="" data-movable="true"' in html
    assert html.count("Move under…") == 1


def test_the_page_list_and_the_dashboard_link_to_the_tree(publisher_client):
    assert TREE in publisher_client.get("/admin/sitecontent/page/").content.decode()
    assert TREE in publisher_client.get("/admin/").content.decode()


def test_add_child_page_prefills_the_parent(publisher_client):
    about = PageFactory(slug="about", title="About us")
    html = publisher_client.get(f"/admin/sitecontent/page/add/?parent={about.pk}").content
    assert f'<option value="{about.pk}" selected>About us</option>' in html.decode()


def test_the_move_chooser_offers_every_page_but_itself_and_those_below(publisher_client):
    about = PageFactory(slug="about", title="About")
    team = PageFactory(slug="team", title="Team", parent=about)
    PageFactory(slug="alumni", title="Alumni", parent=team)
    PageFactory(slug="contact", title="Contact")
    response = publisher_client.get(f"/admin/sitecontent/page/tree/{team.pk}/move/")
    options = response.content.decode()
    assert f'value="{about.pk}" selected' in options
    assert "Contact (/contact/)" in options
    assert "Alumni" not in options
    assert publisher_client.get("/admin/sitecontent/page/tree/999999/move/").status_code == 404


# -- moving by JSON ----------------------------------------------------------------------


def test_a_json_move_answers_json_and_leaves_a_message_for_the_reload(publisher_client):
    about = PageFactory(slug="about", title="About")
    team = PageFactory(slug="team", title="Team")
    response = post_json(
        publisher_client, MOVE, {"page": team.pk, "parent": about.pk, "position": 0}
    )
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert "/about/team/" in response.json()["message"]
    team.refresh_from_db()
    assert team.parent == about
    assert Client().get("/team/")["Location"] == "/about/team/"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [response.json()["message"]]


def test_a_json_reorder_sets_the_order(publisher_client):
    a, b, c = (PageFactory(slug=s, menu_order=i) for i, s in enumerate("abc"))
    response = post_json(
        publisher_client, REORDER, {"parent": None, "ordered_ids": [b.pk, c.pk, a.pk]}
    )
    assert response.status_code == 200
    assert order() == ["b", "c", "a"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ("[1, 2]", 400),
        (json.dumps({"page": "x"}), 400),
        (json.dumps({"page": 999999, "parent": None}), 404),
        (json.dumps({"page": "PAGE", "parent": None, "position": "first"}), 400),
    ],
    ids=["not json", "not an object", "not an id", "no such page", "bad position"],
)
def test_malformed_moves_get_json_errors(publisher_client, body, status):
    page = PageFactory(slug="a")
    response = publisher_client.post(
        MOVE, body.replace('"PAGE"', str(page.pk)), content_type="application/json"
    )
    assert response.status_code == status
    assert response.json()["ok"] is False
    assert response.json()["message"]


def test_a_cycle_is_a_400_naming_the_field(publisher_client):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    response = post_json(publisher_client, MOVE, {"page": about.pk, "parent": team.pk})
    assert response.status_code == 400
    assert "parent" in response.json()["errors"]


def test_a_slug_clash_is_a_400(publisher_client):
    about = PageFactory(slug="about")
    PageFactory(slug="team", parent=about)
    team = PageFactory(slug="team")
    response = post_json(publisher_client, MOVE, {"page": team.pk, "parent": about.pk})
    assert response.status_code == 400
    assert "slug" in response.json()["message"]


def test_an_editor_moving_a_published_page_gets_a_403(editor_client):
    page = PageFactory(slug="live", owner=editor_client.user)
    response = post_json(editor_client, MOVE, {"page": page.pk, "parent": None, "position": 3})
    assert response.status_code == 403
    assert "publisher" in response.json()["message"]
    response = post_json(editor_client, REORDER, {"parent": None, "ordered_ids": [page.pk]})
    assert response.status_code == 200  # the same order: nothing moves


def test_a_reorder_naming_the_wrong_pages_is_a_400(publisher_client):
    a = PageFactory(slug="a")
    response = post_json(publisher_client, REORDER, {"parent": None, "ordered_ids": [a.pk, a.pk]})
    assert response.status_code == 400
    response = post_json(publisher_client, REORDER, {"parent": None, "ordered_ids": "a"})
    assert response.status_code == 400


def test_the_endpoints_take_posts_only_with_csrf(publisher_client):
    assert publisher_client.get(MOVE).status_code == 405
    assert publisher_client.get(REORDER).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(publisher_client.user)
    page = PageFactory(slug="a")
    assert post_json(strict, MOVE, {"page": page.pk, "parent": None}).status_code == 403


# -- moving by form (buttons, no script) -------------------------------------------------


def test_the_move_up_button_moves_and_comes_back_to_the_tree(publisher_client):
    PageFactory(slug="a", menu_order=0)
    b = PageFactory(slug="b", menu_order=1)
    html = publisher_client.get(TREE).content.decode()
    assert "Move up" in html
    response = publisher_client.post(MOVE, {"page": b.pk, "parent": "", "position": "0"})
    assert response.status_code == 302
    assert response["Location"] == f"{TREE}#page-{b.pk}"
    assert order() == ["b", "a"]


def test_a_form_move_the_rules_refuse_comes_back_with_the_reason(publisher_client):
    about = PageFactory(slug="about")
    PageFactory(slug="team", parent=about)
    team = PageFactory(slug="team")
    response = publisher_client.post(
        MOVE, {"page": team.pk, "parent": about.pk, "position": "end"}, follow=True
    )
    assert response.redirect_chain == [(TREE, 302)]
    assert ["slug" in str(m) for m in response.context["messages"]] == [True]


def test_a_forged_form_move_is_forbidden(editor_client):
    page = PageFactory(slug="live")
    response = editor_client.post(MOVE, {"page": page.pk, "parent": "", "position": "1"})
    assert response.status_code == 403


# -- the change form's parent field ------------------------------------------------------


def test_changing_the_parent_in_the_change_form_redirects_the_pages_below(publisher_client):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", title="Team", parent=about, body="")
    PageFactory(slug="alumni", parent=team)
    company = PageFactory(slug="company")
    date, time = split(team.publish_at)
    response = publisher_client.post(
        f"/admin/sitecontent/page/{team.pk}/change/",
        page_form(
            title="Team",
            slug="team",
            parent=company.pk,
            is_published="on",
            publish_at_0=date,
            publish_at_1=time,
        ),
    )
    assert response.status_code == 302, response.content
    visitor = Client()
    assert visitor.get("/about/team/")["Location"] == "/company/team/"
    assert visitor.get("/about/team/alumni/")["Location"] == "/company/team/alumni/"
    assert Redirect.objects.count() == 2
