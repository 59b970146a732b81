"""Detector rules: alerts a platform detector raises (a leak, a lamp out) through a rule
agents see and may turn off, but whose test is code; cleared when the condition clears."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from alzette.territory.supervision import alerts, services
from alzette.territory.supervision.models import Alert, AlertRule, LedgerRecord
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
METER = "urn:ngsi-ld:WaterConsumptionObserved:district-57038-1"


@pytest.fixture(autouse=True)
def _forget():
    alerts.forget_rules()


def _detector() -> AlertRule:
    return alerts.detector_rule(
        "water.night-flow",
        name="Débit de nuit élevé",
        entity_type="WaterConsumptionObserved",
        attribute="minFlow",
    )


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_a_detector_rule_is_created_once_and_fires_once_while_open(
    agent_audun, agent_epci, django_capture_on_commit_callbacks
):
    rule = _detector()
    assert _detector() == rule
    assert (rule.kind, rule.detector, rule.unit, rule.enabled) == ("detector", "water.night-flow",
                                                                   "CCPHVA", True)  # fmt: skip
    with django_capture_on_commit_callbacks(using=DB, execute=True):
        alert = alerts.raise_detected(rule, METER, 850, "Débit de nuit 850 L/h (seuil 500).")
    assert alert is not None and alert.state == "firing"
    assert alerts.raise_detected(rule, METER, 900, "encore") is None
    assert LedgerRecord.objects.filter(kind="alert.fired", object_ref=f"alert:{alert.pk}").exists()
    assert agent_epci.email in mail.outbox[0].to


def test_clearing_closes_the_open_alert_and_it_can_fire_again(agent_audun):
    rule = _detector()
    alert = alerts.raise_detected(rule, METER, 850, "haut")
    assert alerts.clear_detected(rule, METER, "back under the threshold") == 1
    alert.refresh_from_db()
    assert (alert.state, alert.closed_by) == ("closed", "system")
    assert "back under the threshold" in alert.comment
    assert LedgerRecord.objects.filter(kind="alert.closed", object_ref=f"alert:{alert.pk}").exists()
    assert alerts.clear_detected(rule, METER, "again") == 0
    assert alerts.raise_detected(rule, METER, 870, "haut") is not None


def test_a_disabled_detector_raises_nothing_and_agents_only_toggle_it(agent_audun, agent_epci):
    rule = _detector()
    epci = services.actor_of(agent_epci)
    services.set_enabled(epci, rule, False)
    rule.refresh_from_db()
    assert rule.enabled is False
    assert alerts.raise_detected(rule, METER, 850, "haut") is None
    assert not Alert.objects.exists()
    # Its test is code: no agent edits it, from a form or the API.
    with pytest.raises(services.NotAllowed):
        services.save_rule(epci, {"name": "x", "entity_type": "WaterConsumptionObserved",
                                  "attribute": "minFlow", "kind": "threshold",
                                  "operator": "gt", "value": 1}, rule)  # fmt: skip
    assert services.rule_abilities(epci, rule) == {"view": True, "create": True, "change": True,
                                                   "edit": False}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.check_rule({"name": "x", "entity_type": "WaterConsumptionObserved",
                             "attribute": "minFlow", "kind": "detector"})  # fmt: skip
    assert "kind" in refused.value.message_dict
    # An agent of a commune does not switch the EPCI's detector off.
    with pytest.raises(services.NotAllowed):
        services.set_enabled(services.actor_of(agent_audun), rule, True)


def test_detector_rules_in_the_pages_and_the_api(agent_epci):
    rule = _detector()
    client = _client(agent_epci)
    listed = client.get("/api/v1/supervision/rules")
    assert listed.status_code == 200
    assert [(r["kind"], r["detector"]) for r in listed.json()] == [("detector", "water.night-flow")]
    put = client.put(f"/api/v1/supervision/rules/{rule.pk}",
                     {"name": "x", "entity_type": "WaterConsumptionObserved",
                      "attribute": "minFlow", "kind": "threshold", "operator": "gt", "value": 1},
                     content_type="application/json")  # fmt: skip
    assert put.status_code == 403
    assert client.get(f"/hypervision/supervision/rules/{rule.pk}/").status_code == 403
    page = client.get("/hypervision/supervision/rules/")
    assert page.status_code == 200
    assert f'action="/hypervision/supervision/rules/{rule.pk}/toggle/"' in page.content.decode()
    toggled = client.post(f"/hypervision/supervision/rules/{rule.pk}/toggle/")
    assert toggled.status_code == 302
    rule.refresh_from_db()
    assert rule.enabled is False
