"""The page tree in Chromium: a Publisher drags one top-level page before another (the
menu's order) and a page onto another (it moves under it, with the page below it); the
buttons and the "Move under…" chooser do the same from the keyboard. Visitors then see
the new menu order and the new address, and the old addresses redirect to the new ones
(checked over HTTP). axe-core checks each admin screen on the way."""

import re
from urllib.error import HTTPError
from urllib.request import HTTPRedirectHandler, build_opener

import pytest
from playwright.sync_api import expect

from sitecontent.models import Page
from tests.browser.conftest import assert_accessible, save_screenshot, sign_in
from tests.factories import PageFactory, publisher

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url):
    """(status, Location, body) of a GET, redirects not followed."""
    try:
        response = build_opener(_NoRedirects).open(url)
    except HTTPError as error:
        return error.code, error.headers.get("Location"), ""
    return response.status, None, response.read().decode()


def menu(url):
    """The pages' titles in the public site's main navigation, in its order."""
    status, _, html = fetch(f"{url}/")
    assert status == 200
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return [t for t in re.findall(r">([^<>]+)</a>", nav) if t in {"About", "Contact", "Team"}]


def row(page, title):
    title = page.locator(".tree-title", has_text=re.compile(f"^{re.escape(title)}$"))
    return page.locator(".tree-row", has=title).first


@pytest.fixture
def site():
    about = PageFactory(title="About", slug="about", show_in_menus=True, menu_order=0)
    contact = PageFactory(title="Contact", slug="contact", show_in_menus=True, menu_order=1)
    team = PageFactory(title="Team", slug="team", menu_order=2)
    PageFactory(title="Alumni", slug="alumni", parent=team)
    PageFactory(title="Old alumni", slug="alumni", menu_order=3)
    publisher(username="pat")
    return about, contact, team


def test_drag_to_reorder_the_menu_and_to_move_a_page_under_another(page, live_server, site):
    url = live_server.url
    assert menu(url) == ["About", "Contact"]
    sign_in(page, live_server, "pat")
    assert_accessible(page, "the dashboard")
    page.goto(f"{url}/admin/sitecontent/page/")
    assert_accessible(page, "the page list")
    page.get_by_role("link", name="Page tree").click()
    expect(page.locator("h1")).to_have_text("Page tree")
    assert_accessible(page, "the page tree")
    save_screenshot(page, "page-tree")

    # 1. Contact dragged onto the top edge of About: before it, in the menu too.
    contact_row, about_row = row(page, "Contact"), row(page, "About")
    with page.expect_navigation():
        contact_row.drag_to(about_row, target_position={"x": 40, "y": 2})
    expect(page.locator(".messagelist")).to_contain_text("New order of the pages")
    titles = page.locator(".page-tree > li > .tree-row .tree-title").all_inner_texts()
    assert titles == ["Contact", "About", "Team", "Old alumni"]
    assert menu(url) == ["Contact", "About"]

    # 2. Team dropped onto the middle of About: under it, with its own page below.
    team_row, about_row = row(page, "Team"), row(page, "About")
    box = about_row.bounding_box()
    with page.expect_navigation():
        team_row.drag_to(about_row, target_position={"x": 40, "y": box["height"] / 2})
    expect(page.locator(".messagelist")).to_contain_text("“Team” is now under “About”")
    expect(page.locator(f"#page-{site[0].pk} > ul .tree-title").first).to_have_text("Team")
    assert_accessible(page, "the page tree after a move")
    save_screenshot(page, "page-tree-moved")

    assert fetch(f"{url}/about/team/")[0] == 200
    assert fetch(f"{url}/about/team/alumni/")[0] == 200
    assert fetch(f"{url}/team/")[:2] == (301, "/about/team/")
    assert fetch(f"{url}/team/alumni/")[:2] == (301, "/about/team/alumni/")

    # 3. A drop the rules refuse (the top level has an "alumni" already) says why, in
    # place, and moves nothing.
    row(page, "Alumni").drag_to(row(page, "Contact"), target_position={"x": 40, "y": 2})
    expect(page.locator("#page-tree-status")).to_contain_text("slug")
    assert fetch(f"{url}/about/team/alumni/")[0] == 200


def test_the_buttons_and_the_chooser_move_pages_without_dragging(page, live_server, site):
    _about, contact, team = site
    url = live_server.url
    sign_in(page, live_server, "pat")
    page.goto(f"{url}/admin/sitecontent/page/tree/")

    # Keyboard only: focus Contact's "Move up" and press Enter.
    page.get_by_role("button", name="Move up Contact").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("“Contact” is now at the top level")
    assert menu(url) == ["Contact", "About"]

    page.get_by_role("link", name="Move under… Team").click()
    expect(page.locator("h1")).to_have_text("Move “Team”")
    assert_accessible(page, "the move chooser")
    save_screenshot(page, "page-tree-move-chooser")
    page.get_by_label("New parent").select_option(label="Contact (/contact/)")
    page.get_by_role("button", name="Move").click()
    expect(page.locator(".messagelist")).to_contain_text("/contact/team/")
    assert Page.objects.get(pk=team.pk).parent_id == contact.pk
    assert fetch(f"{url}/team/alumni/")[:2] == (301, "/contact/team/alumni/")
