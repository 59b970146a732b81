"""Supervision in a real browser: an agent sees the alerts and acknowledges one; the
pages pass axe-core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alzette.territory.supervision import services
from alzette.territory.supervision.models import Alert
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
DB = "territory"


def test_an_agent_acknowledges_an_alert(page, live_server, agent_audun, axe):
    rule = services.save_rule(services.actor_of(agent_audun), {
        "name": "Bac plein", "entity_type": "WasteContainer", "attribute": "fillingLevel",
        "kind": "threshold", "operator": "gt", "value": 0.9})  # fmt: skip
    alert = Alert.objects.using(DB).create(
        rule=rule, entity_id="urn:ngsi-ld:WasteContainer:bin-57038-001", value=0.95,
        message="fillingLevel is 0.95", fired_at=datetime.now(UTC),
    )  # fmt: skip
    log_in_agent(page, live_server, agent_audun, "/hypervision/supervision/alerts/")
    assert page.get_attribute("#unacknowledged", "data-count") == "1"
    assert page.locator(f"#alert-{alert.pk}[data-state=firing]").count() == 1
    assert wcag_violations(axe, page) == []
    page.fill(f"#comment-{alert.pk}", "Tournée prévue demain")
    with page.expect_navigation():
        page.click(f"#alert-{alert.pk} button[value=acknowledge]")
    assert page.locator(f"#alert-{alert.pk}[data-state=acknowledged]").count() == 1
    assert page.get_attribute("#unacknowledged", "data-count") == "0"
    assert wcag_violations(axe, page) == []
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", agent_audun.pseudonym)
    for path in (
        "/hypervision/supervision/",
        "/hypervision/supervision/rules/new/",
        "/hypervision/supervision/devices/",
        "/hypervision/supervision/quarantine/",
    ):
        page.goto(live_server.url + path)
        assert wcag_violations(axe, page) == [], path
