"""The policy editor, the overview and the calendar in a real browser at 360 px: no
horizontal overflow, axe-core clean, and the forms work without JavaScript."""

from __future__ import annotations

import pytest

from alzette.territory.lighting.models import CalendarOverride, Policy
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_lighting_policies import AUDUN, make_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def name_group(group: str, name: str) -> None:
    """The streets are shown by name with their (long) id beneath: both must fit."""
    from alzette.territory.lighting.demo import context
    from alzette.territory.ngsild import entities

    entities.append(entities.Op(tenant="", ctx=context()), group,
                    {"name": {"type": "Property", "value": name}})  # fmt: skip


def test_policy_editor_and_calendar_at_360_px(page, live_server, agent_audun, axe):
    page.set_viewport_size({"width": 360, "height": 740})
    group, _lamps = make_group(AUDUN, "grand-rue")
    name_group(group, "Audun-le-Tiche, Grand-Rue")
    log_in_agent(page, live_server, agent_audun, "/hypervision/lighting/policies/new/")
    page.wait_for_selector("#policy-form")
    fits(page)
    assert wcag_violations(axe, page) == []
    # A bad level first: the row says so.
    page.fill("#id_name", "Programme hiver")
    page.fill("#id_step_1_level", "150")
    with page.expect_navigation():
        page.click("#policy-save")
    assert page.locator("#id_step_1_level_error").count() == 1
    fits(page)
    assert wcag_violations(axe, page) == []
    page.fill("#id_step_1_level", "40")
    page.select_option("#id_step_3_at", "time")
    page.fill("#id_step_3_time", "05:00")
    page.fill("#id_step_3_level", "50")
    # 05:00 comes before sunrise all year round; sunrise moves to the fifth row.
    page.select_option("#id_step_2_at", "time")
    page.fill("#id_step_2_time", "01:00")
    page.fill("#id_step_2_level", "0")
    page.select_option("#id_step_4_at", "sunrise")
    page.fill("#id_step_4_level", "0")
    page.check(f"#policy-groups input[value='{group}']")
    with page.expect_navigation():
        page.click("#policy-save")
    policy = Policy.objects.using("territory").get()
    assert [s["level"] for s in policy.steps] == [1.0, 0.4, 0.0, 0.5, 0.0]
    # The overview: the night's chart and its table.
    page.wait_for_selector("#li-night-chart")
    assert page.locator(f"#li-policies .li-group[data-group='{group}'] .li-id").count() == 1
    fits(page)
    assert wcag_violations(axe, page) == []
    page.goto(f"{live_server.url}/hypervision/lighting/?commune={AUDUN}&group={group}")
    assert page.locator("#li-night-table tbody tr").count() >= 5

    page.goto(f"{live_server.url}/hypervision/lighting/calendar/?commune={AUDUN}&month=2026-12")
    page.wait_for_selector("#cal-days")
    fits(page)
    assert wcag_violations(axe, page) == []
    page.fill("#id_reason", "Marché de Noël")
    page.fill("#id_start", "2026-12-04T16:00")
    page.fill("#id_end", "2026-12-04T23:00")
    page.fill("#id_level", "100")
    page.check(f"#override-groups input[value='{group}']")
    with page.expect_navigation():
        page.click("#override-save")
    assert CalendarOverride.objects.using("territory").count() == 1
    assert page.get_attribute("li[data-date='2026-12-04']", "data-overrides") == "1"
    assert page.locator(f"#cal-overrides .li-group[data-group='{group}'] .li-id").count() == 1
    fits(page)
    assert wcag_violations(axe, page) == []
