"""The dashboard in a real browser: editing on a phone (with and without JavaScript),
the layout on phones and desktops, and WCAG 2.1 AA (axe-core)."""

from __future__ import annotations

import pytest

from alzette.personal.dashboard.models import DashboardLayout
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

# English pages, so that the assertions read the messages as written in the code.
PHONE = {"viewport": (375, 740), "locale": "en-GB"}
DEFAULT_SLUGS = ["territory", "account-security", "ledger-receipts", "connected-services"]


def _log_in(page, live_server, user) -> None:
    log_in(page, live_server, user, "/dashboard/")


def _shown(page) -> list[str]:
    return page.eval_on_selector_all(
        ".dashboard-widget", "nodes => nodes.map(n => n.dataset.widget)"
    )


def _edit_list(page) -> list[str]:
    return page.eval_on_selector_all(
        ".dashboard-edit-list > li", "nodes => nodes.map(n => n.dataset.widget)"
    )


def _focused_widget(page) -> str | None:
    return page.evaluate(
        "(() => { const li = document.activeElement.closest('li'); "
        "return li ? li.dataset.widget : null; })()"
    )


def _stored(user) -> list[str]:
    return [slug for slug, _size in DashboardLayout.objects.get(user=user).entries()]


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_edit_on_a_phone_with_javascript_and_it_persists(page, live_server, territory, citizen):
    _log_in(page, live_server, citizen)
    page.wait_for_selector("#territory-map[data-communes-drawn='8']")
    assert _shown(page) == DEFAULT_SLUGS
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    with page.expect_navigation(url=live_server.url + "/dashboard/edit/"):
        page.click("main a[href='/dashboard/edit/']")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.evaluate("window.notReloaded = true")

    # Remove: no page load, a status line, the focus on the next widget.
    page.click("#edit-ledger-receipts form[data-dashboard-action=remove] button")
    page.wait_for_selector("#edit-ledger-receipts", state="detached")
    assert _edit_list(page) == ["territory", "account-security", "connected-services"]
    assert page.locator("#dashboard-live").inner_text().strip() != ""
    assert _focused_widget(page) == "connected-services"

    # Add it back: it comes last, and the focus goes to it.
    page.click("#add-ledger-receipts form[data-dashboard-action=add] button")
    page.wait_for_selector("#edit-ledger-receipts")
    assert _edit_list(page)[-1] == "ledger-receipts"
    assert _focused_widget(page) == "ledger-receipts"

    # Move with the keyboard: the focus stays on the button that was pressed.
    page.focus("#edit-ledger-receipts button[name=direction][value=up]")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('.dashboard-edit-list > li')[2].dataset.widget"
        " === 'ledger-receipts'"
    )
    assert page.evaluate("document.activeElement.value") == "up"
    assert _focused_widget(page) == "ledger-receipts"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('.dashboard-edit-list > li')[1].dataset.widget"
        " === 'ledger-receipts'"
    )
    assert page.evaluate("window.notReloaded") is True  # all of it without a page load

    expected = ["territory", "ledger-receipts", "account-security", "connected-services"]
    assert _stored(citizen) == expected
    page.reload()
    assert _edit_list(page) == expected
    page.goto(live_server.url + "/dashboard/")
    assert _shown(page) == expected


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_a_refusal_is_announced_without_reloading(page, live_server, citizen):
    _log_in(page, live_server, citizen)
    page.goto(live_server.url + "/dashboard/edit/")
    # Another tab removed the widget meanwhile: this page still offers to move it.
    DashboardLayout.objects.filter(user=citizen).update(
        widgets=[{"slug": "territory", "size": "wide"}]
    )
    page.click("#edit-account-security button[name=direction][value=up]")
    page.wait_for_selector("#dashboard-alert .dashboard-error")
    assert "“My account security”" in page.locator("#dashboard-alert").inner_text()
    assert _stored(citizen) == ["territory"]


def test_edit_on_a_phone_without_javascript(browser, live_server, territory, citizen):
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    try:
        _log_in(page, live_server, citizen)
        page.goto(live_server.url + "/dashboard/edit/")
        with page.expect_navigation(url=live_server.url + "/dashboard/edit/"):
            page.click("#edit-territory form[data-dashboard-action=remove] button")
        assert "“My territory” was removed from your dashboard." in page.inner_text(".messages")
        with page.expect_navigation(url=live_server.url + "/dashboard/edit/"):
            page.click("#add-territory form[data-dashboard-action=add] button")
        with page.expect_navigation(url=live_server.url + "/dashboard/edit/"):
            page.click("#edit-connected-services button[name=direction][value=down]")
        expected = ["account-security", "ledger-receipts", "territory", "connected-services"]
        assert _edit_list(page) == expected
        page.reload()
        assert _edit_list(page) == expected
        page.goto(live_server.url + "/dashboard/")
        assert _shown(page) == expected
        assert _stored(citizen) == expected
    finally:
        context.close()


def _boxes(page) -> dict[str, dict]:
    return {slug: page.locator(f"#widget-{slug}").bounding_box() for slug in _shown(page)}


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_one_column_on_a_phone(page, live_server, territory, citizen):
    _log_in(page, live_server, citizen)
    boxes = _boxes(page)
    assert len({round(box["x"]) for box in boxes.values()}) == 1
    assert len({round(box["width"]) for box in boxes.values()}) == 1
    tops = [box["y"] for box in boxes.values()]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)


def test_a_grid_on_a_desktop(page, live_server, territory, citizen):
    _log_in(page, live_server, citizen)
    boxes = _boxes(page)
    territory_box, security, receipts, connected = (boxes[slug] for slug in DEFAULT_SLUGS)
    # Three columns: the wide territory widget takes two, the next widget the third.
    assert territory_box["width"] > 1.8 * security["width"]
    assert round(security["y"]) == round(territory_box["y"]) and security["x"] > territory_box["x"]
    # Then the next row, in the person's order.
    assert receipts["y"] > territory_box["y"] and round(receipts["y"]) == round(connected["y"])
    assert receipts["x"] < connected["x"]


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/edit/"])
@pytest.mark.parametrize("page", [{}, PHONE], indirect=True)
def test_dashboard_has_no_wcag_violation(page, live_server, territory, citizen, axe, path):
    _log_in(page, live_server, citizen)
    page.goto(live_server.url + path)
    if path == "/dashboard/":
        page.wait_for_selector("#territory-map[data-communes-drawn='8']")
    assert wcag_violations(axe, page) == []


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_edit_mode_after_changes_and_refusals_has_no_wcag_violation(
    page, live_server, citizen, axe
):
    _log_in(page, live_server, citizen)
    page.goto(live_server.url + "/dashboard/edit/")
    page.click("#edit-territory form[data-dashboard-action=remove] button")
    page.wait_for_selector("#add-territory")
    assert wcag_violations(axe, page) == []
    # Without JavaScript's help: a refused change shows the edit page with the reason.
    page.goto(live_server.url + "/dashboard/edit/")
    page.evaluate(
        "(() => { const form = document.querySelector('#edit-account-security "
        "form[data-dashboard-action=move]'); form.removeAttribute('data-dashboard-action');"
        " form.querySelector('input[name=widget]').value = 'no-such-widget'; })()"
    )
    with page.expect_navigation():
        page.click("#edit-account-security button[name=direction]")
    assert page.locator("#dashboard-alert .dashboard-error").count() == 1
    assert wcag_violations(axe, page) == []
