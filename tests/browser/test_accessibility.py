"""axe-core over the public pages and the admin pages the journeys use: no serious or
critical violation (tests.browser.conftest.assert_accessible), on a wide screen and, for
the editing screen, a phone.

The admin's own widgets get their names from static/js/admin-a11y.js (select2's
autocomplete boxes, the rich text editor) and from the templates (the image's file
field); this test is what keeps them named."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from sitecontent.models import Article
from tests.browser.conftest import assert_accessible, save_screenshot, sign_in
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
    UserFactory,
    editor,
)
from tests.media_corpus import valid_jpeg

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def content(settings):
    settings.SERVE_MEDIA_FILES = True
    image = ImageFactory(
        title="Harbour", file=ContentFile(valid_jpeg((800, 600)), name="harbour.jpg")
    )
    category = CategoryFactory(name="News", slug="news")
    tag = TagFactory(name="Boats", slug="boats")
    article = ArticleFactory(
        title="Harbour diaries", slug="harbour-diaries", category=category, hero_image=image
    )
    article.tags.set([tag])
    page = PageFactory(title="About us", slug="about")
    document = DocumentFactory(title="Annual report")
    from django.contrib.redirects.models import Redirect

    redirect = Redirect.objects.create(site_id=1, old_path="/old/", new_path="/about/")
    return {
        "image": image,
        "category": category,
        "tag": tag,
        "article": article,
        "page": page,
        "document": document,
        "redirect": redirect,
    }


def visit(page, url, where, *, status=200):
    response = page.goto(url)
    assert response.status == status, f"{where}: {response.status}"
    page.wait_for_load_state("networkidle")
    assert_accessible(page, where)
    return response


def test_public_pages(page, live_server, content):
    url = live_server.url
    for path, where in [
        ("/", "home"),
        ("/articles/harbour-diaries/", "article"),
        ("/about/", "page"),
        ("/categories/news/", "category"),
        ("/tags/boats/", "tag"),
        ("/search/?q=harbour", "search"),
    ]:
        visit(page, f"{url}{path}", where)
    visit(page, f"{url}/no-such-page/", "404", status=404)
    expect(page.locator("h1")).to_have_text("Page not found")


def test_admin_pages(page, live_server, content):
    url = live_server.url
    UserFactory(username="root", is_superuser=True)
    visit(page, f"{url}/admin/login/", "admin login")
    sign_in(page, live_server, "root")
    visit(page, f"{url}/admin/", "dashboard")
    models = {
        "article": content["article"],
        "page": content["page"],
        "image": content["image"],
        "document": content["document"],
        "category": content["category"],
        "tag": content["tag"],
    }
    for name, obj in models.items():
        base = f"{url}/admin/sitecontent/{name}/"
        visit(page, base, f"{name} list")
        visit(page, f"{base}add/", f"{name} add")
        visit(page, f"{base}{obj.pk}/change/", f"{name} change")
    base = f"{url}/admin/redirects/redirect/"
    visit(page, base, "redirect list")
    visit(page, f"{base}add/", "redirect add")
    visit(page, f"{base}{content['redirect'].pk}/change/", "redirect change")

    # A save from the sidebar's button makes a revision, then its pages.
    article = content["article"]
    page.goto(f"{url}/admin/sitecontent/article/{article.pk}/change/")
    page.fill("#id_title", "Harbour diaries, revised")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_be_visible()
    assert Article.objects.get(pk=article.pk).title == "Harbour diaries, revised"
    visit(page, f"{url}/admin/sitecontent/article/{article.pk}/revisions/", "revisions")
    visit(page, f"{url}/admin/operations/", "operations")
    visit(page, f"{url}/admin/no-such-page/", "admin 404", status=404)
    expect(page.locator("#site-name")).to_contain_text("administration")
    expect(page.locator("#user-tools")).to_contain_text("root")


def test_admin_403_and_lockout(page, live_server, content, settings):
    url = live_server.url
    editor(username="eda")
    sign_in(page, live_server, "eda")
    # Editors may not manage accounts: a 403 in the admin's frame.
    visit(page, f"{url}/admin/sitecontent/user/add/", "admin 403", status=403)
    expect(page.locator("#site-name")).to_contain_text("administration")
    expect(page.locator("#content h1")).to_have_text("Access denied")

    settings.AXES_FAILURE_LIMIT = 1
    other = page.context.browser.new_context()
    stranger = other.new_page()
    stranger.goto(f"{url}/admin/login/")
    stranger.fill("#id_username", "eda")
    stranger.fill("#id_password", "wrong")
    stranger.click("input[type=submit]")
    expect(stranger.locator("h1")).to_have_text("Too many sign-in attempts")
    expect(stranger.locator("#site-name")).to_contain_text("Lambda CMS administration")
    assert_accessible(stranger, "lockout")
    other.close()


def test_editing_screen_layout(page, live_server, content):
    """The sidebar beside the content on a wide screen, sticky; below it on a phone."""
    url = live_server.url
    UserFactory(username="root", is_superuser=True)
    sign_in(page, live_server, "root")
    change = f"{url}/admin/sitecontent/article/{content['article'].pk}/change/"
    page.goto(change)
    main = page.locator(".editing-main").bounding_box()
    sidebar = page.locator(".editing-sidebar").bounding_box()
    assert sidebar["x"] > main["x"] + main["width"] - 1
    assert main["width"] > 2 * sidebar["width"]
    assert page.locator(".editing-sidebar").evaluate("e => getComputedStyle(e).position") == (
        "sticky"
    )
    assert page.locator(".editing-sidebar #id_publish_at_0").count() == 1
    assert page.locator(".editing-sidebar input[name=_save]").count() == 1
    # The rich text area grows with what is typed: no inner scroll bar.
    editable = page.locator(".ProseMirror[contenteditable=true]")
    # Named by the field's own label (static/js/admin-a11y.js), as select2's boxes are.
    expect(editable).to_have_attribute("aria-labelledby", re.compile(r"."))
    label = editable.evaluate(
        "e => document.getElementById(e.getAttribute('aria-labelledby')).textContent"
    )
    assert label.strip().startswith("Body")
    category = page.locator("#id_category + .select2 .select2-selection")
    assert (
        category.evaluate(
            "e => document.getElementById(e.getAttribute('aria-labelledby').split(' ')[0])"
            ".textContent"
        )
        .strip()
        .startswith("Category")
    )
    before = editable.bounding_box()["height"]
    editable.click()
    for _ in range(30):
        page.keyboard.type("Another line of text.")
        page.keyboard.press("Enter")
    after = editable.bounding_box()["height"]
    assert after > before + 200
    assert editable.evaluate("e => e.scrollHeight <= e.clientHeight + 2")
    save_screenshot(page, "editing-screen-wide")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(change)
    main = page.locator(".editing-main").bounding_box()
    sidebar = page.locator(".editing-sidebar").bounding_box()
    assert sidebar["y"] >= main["y"] + main["height"] - 1
    assert_accessible(page, "article change, phone")
    save_screenshot(page, "editing-screen-phone")


def test_api_docs_render_under_the_content_security_policy(page, live_server, content):
    violations = []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and violations.append(m.text),
    )
    outside = []
    page.on(
        "request",
        lambda r: not r.url.startswith(live_server.url) and outside.append(r.url),
    )
    page.goto(f"{live_server.url}/api/v1/docs/")
    # Swagger UI has read the OpenAPI document and lists the endpoints.
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/articles/").count() >= 1
    save_screenshot(page, "api-docs")
    assert violations == []
    assert outside == []
