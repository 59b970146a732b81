"""Headless Chromium from Debian, driven by Playwright (which cannot download browsers here)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("ALZETTE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing.")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django would then
    # refuse ORM calls made by fixtures in the same thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request) -> Iterator[object]:
    options = {"viewport": (1280, 900), "locale": "fr-FR", **getattr(request, "param", {})}
    width, height = options["viewport"]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=options["locale"]
    )
    page = context.new_page()
    yield page
    context.close()


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="session")
def axe():
    """axe-core, injected into pages by axe-playwright-python."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def wcag_violations(axe, page) -> list[str]:
    """The WCAG 2.1 A and AA rules the page breaks, one line each (empty when none)."""
    results = axe.run(page, options=WCAG_21_AA)
    return [
        f"{item['id']}: {item['help']} ({len(item['nodes'])} element(s), "
        f"first: {item['nodes'][0]['html'][:120]})"
        for item in results.response["violations"]
    ]


def log_in(page, live_server, user, next_path: str = "/") -> None:
    """Sign in through the real login form, landing on ``next_path``."""
    from tests.factories import PASSWORD

    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("main input[name=login]", user.email)
    page.fill("main input[name=password]", PASSWORD)
    with page.expect_navigation(url=live_server.url + next_path):
        page.press("main input[name=password]", "Enter")
