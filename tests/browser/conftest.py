"""Playwright driving Debian's Chromium (/usr/bin/chromium) against a live test server.

Screenshots of the key screens go to .artifacts/screenshots/ (kept by CI as artefacts).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    # Playwright's sync API runs an event loop in this thread, which Django would take
    # for async code calling the ORM; the test code itself is synchronous. Set only
    # while browser tests run: `check --deploy` rightly refuses it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def csp_violations():
    return []


@pytest.fixture
def open_page(chromium, csp_violations):
    """A new browser (context) per call: separate people, or a tab opened anew; every
    Content Security Policy violation it logs goes to ``csp_violations``."""
    contexts = []

    def open_as(viewport=(1280, 900)):
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda m: (
                "Content Security Policy" in m.text
                and csp_violations.append(f"{page.url}: {m.text}")
            ),
        )
        return page

    yield open_as
    for context in contexts:
        context.close()


def save_screenshot(page, name):
    """Keep a picture of a key screen (CI keeps .artifacts/ as test artefacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def screenshot(page):
    return lambda name: save_screenshot(page, name)


def sign_in(page, live_server, username, password="pw"):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


# axe-core (MPL-2.0, vendored from npm so browser runs need no network): the
# accessibility rules a page is checked against. Serious and critical violations fail.
AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_FAILING_IMPACTS = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; the serious and critical violations.

    ``evaluate`` runs through the DevTools protocol, so the site's Content Security
    Policy (no inline scripts) does not stop the injection and stays on for the page.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in AXE_FAILING_IMPACTS
    ]


def assert_accessible(page, where: str = ""):
    """Fail with axe-core's serious or critical violations on the page as it is now."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {where or page.url}: {violations}"
