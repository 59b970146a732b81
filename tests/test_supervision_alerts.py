"""Alert rules without code: threshold, rate, no data, geofence; firing once, mails,
acknowledgement and closure recorded; the rules and alerts API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from alzette.territory.ngsild import mapping
from alzette.territory.supervision import alerts, services
from alzette.territory.supervision.models import Alert, AlertRule, LedgerRecord
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"
LOCATION = {"type": "Point", "coordinates": [5.98, 49.47]}
SQUARE = {"type": "Polygon", "coordinates": [[[5.9, 49.4], [6.1, 49.4], [6.1, 49.6],
                                              [5.9, 49.6], [5.9, 49.4]]]}  # fmt: skip


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    alerts.forget_rules()


@pytest.fixture
def ld():
    return NgsiLd()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _container(ld, entity_id: str = BIN, level: float = 0.2, **extra) -> None:
    ld.create({"id": entity_id, "type": "WasteContainer", "location": LOCATION,
               "fillingLevel": {"type": "Property", "value": level}, **extra})  # fmt: skip


def _set(ld, entity_id: str, attrs: dict) -> None:
    response = ld.post(f"/entities/{entity_id}/attrs", attrs)
    assert response.status_code == 204, response.content


def _fill(ld, value: float, entity_id: str = BIN, observed: datetime | None = None) -> None:
    attribute = {"type": "Property", "value": value}
    if observed is not None:
        attribute["observedAt"] = _iso(observed)
    _set(ld, entity_id, {"fillingLevel": attribute})


def _rule(agent, **fields) -> AlertRule:
    data = {"name": "Bac plein", "entity_type": "WasteContainer", "attribute": "fillingLevel",
            "kind": "threshold", "operator": "gt", "value": 0.9, **fields}  # fmt: skip
    return services.save_rule(services.actor_of(agent), data)


def test_a_threshold_fires_once_while_open_and_mails_the_unit(
    ld, agent_audun, agent_villerupt, agent_epci, django_capture_on_commit_callbacks
):
    rule = _rule(agent_audun)
    assert rule.unit == "57038" and rule.created_by == agent_audun.pseudonym
    _container(ld)
    with django_capture_on_commit_callbacks(using=DB, execute=True):
        _fill(ld, 0.95)
    _fill(ld, 0.97)  # still over the threshold: the open alert stands for it
    alert = Alert.objects.get()
    assert (alert.rule, alert.entity_id, alert.state, alert.value) == (rule, BIN, "firing", 0.95)
    assert LedgerRecord.objects.filter(kind="alert.fired", object_ref=f"alert:{alert.pk}").exists()
    assert LedgerRecord.objects.filter(kind="alert_rule.changed").count() == 1
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([agent_audun.email, agent_epci.email])
    assert BIN in mail.outbox[0].body
    # Closed, the alert fires again on the next reading over the threshold.
    services.close(services.actor_of(agent_audun), alert.pk, "bac vidé")
    _fill(ld, 0.96)
    assert Alert.objects.filter(state="firing").count() == 1


def test_values_below_the_threshold_and_disabled_rules_do_not_fire(ld, agent_audun):
    rule = _rule(agent_audun)
    _container(ld, level=0.5)
    _fill(ld, 0.6)
    assert not Alert.objects.exists()
    services.set_enabled(services.actor_of(agent_audun), rule, False)
    _fill(ld, 0.99)
    assert not Alert.objects.exists()


def test_a_device_message_through_onem2m_fires_an_alert(ld, m2m, agent_audun):
    mapping.define(name="bins", container="alzette/bin-*/fill", entity_type="WasteContainer",
                   entity_id="urn:ngsi-ld:WasteContainer:{ae}", attribute="fillingLevel",
                   value_path="level", unit_code="P1")  # fmt: skip
    _rule(agent_audun, entity_pattern="urn:ngsi-ld:WasteContainer:bin-57038-*")
    ld.create({"id": BIN, "type": "WasteContainer", "location": LOCATION})
    ae = m2m.register("bin-57038-001")
    m2m.container("alzette/bin-57038-001/", "fill", ae["aei"])
    assert m2m.instance("alzette/bin-57038-001/fill", {"level": 0.5}, ae["aei"]).status_code == 201
    assert not Alert.objects.exists()
    assert m2m.instance("alzette/bin-57038-001/fill", {"level": 0.93}, ae["aei"]).status_code == 201
    assert Alert.objects.get().entity_id == BIN


def _inside(code: str) -> dict:
    from alzette.core import spatial
    from alzette.territory.geo.models import TerritorialUnit

    point = spatial.parse_geometry(TerritorialUnit.objects.get(code=code).geometry)
    point = point.representative_point()
    return {"type": "Point", "coordinates": [point.x, point.y]}


def test_the_commune_is_read_from_the_location(ld, agent_audun):
    _rule(agent_audun, commune="57038")
    elsewhere = "urn:ngsi-ld:WasteContainer:bin-57038-009"  # named in Audun, lying in Villerupt
    _container(ld, elsewhere, location=_inside("54580"))
    named_elsewhere = "urn:ngsi-ld:WasteContainer:bin-54580-002"
    _container(ld, named_elsewhere, location=_inside("57038"))
    _fill(ld, 0.95, elsewhere)
    assert not Alert.objects.exists()
    _fill(ld, 0.95, named_elsewhere)
    assert Alert.objects.get().entity_id == named_elsewhere


def test_the_pattern_selects_entities(ld, agent_audun):
    _rule(agent_audun, entity_pattern="urn:ngsi-ld:WasteContainer:bin-57038-*")
    other = "urn:ngsi-ld:WasteContainer:bin-54580-001"
    _container(ld)
    _container(ld, other)
    _fill(ld, 0.95, other)
    assert not Alert.objects.exists()
    _fill(ld, 0.95)
    assert Alert.objects.get().entity_id == BIN


def test_a_fast_rise_fires_a_rate_rule(ld, agent_audun):
    _rule(agent_audun, kind="rate", operator="gt", value=0.5, minutes=120)
    now = datetime.now(UTC).replace(microsecond=0)
    _container(ld, level=0.1)
    _fill(ld, 0.1, observed=now - timedelta(minutes=60))
    _fill(ld, 0.3, observed=now - timedelta(minutes=30))
    assert not Alert.objects.exists()  # 0.4 per hour
    _fill(ld, 0.9, observed=now)  # 0.8 in an hour
    alert = Alert.objects.get()
    assert alert.value == pytest.approx(0.8)


def test_no_data_for_n_minutes_is_found_by_the_check(ld, agent_audun):
    _rule(agent_audun, name="Capteur muet", kind="nodata", minutes=60)
    now = datetime.now(UTC)
    silent = "urn:ngsi-ld:WasteContainer:bin-57038-002"
    _container(ld, silent)
    _fill(ld, 0.4, silent, observed=now - timedelta(hours=3))
    _container(ld)
    _fill(ld, 0.4, observed=now - timedelta(minutes=5))
    assert not Alert.objects.exists()  # a change never fires a no-data rule
    fired = alerts.check_no_data()
    assert [a.entity_id for a in fired] == [silent]
    assert alerts.check_no_data() == []  # still open: not fired twice
    later = alerts.check_no_data(now + timedelta(hours=2))
    assert [a.entity_id for a in later] == [BIN]


def test_a_geofence_fires_when_an_entity_leaves_its_area(ld, agent_audun):
    _rule(
        agent_audun,
        name="Benne déplacée",
        kind="geofence",
        attribute="",
        area=SQUARE,
        direction="leaves",
    )
    _container(ld)
    assert not Alert.objects.exists()
    away = {"type": "Point", "coordinates": [6.5, 49.5]}
    _set(ld, BIN, {"location": {"type": "GeoProperty", "value": away}})
    alert = Alert.objects.get()
    assert alert.value == {"type": "Point", "coordinates": [6.5, 49.5]}


def test_evaluate_entity_tests_an_entity_as_it_is(ld, agent_audun):
    _container(ld, level=0.95)
    assert not Alert.objects.exists()  # the rule did not exist yet
    _rule(agent_audun)
    assert [a.entity_id for a in alerts.evaluate_entity("", BIN)] == [BIN]
    assert alerts.evaluate_entity("", BIN) == []
    assert alerts.evaluate_entity("", "urn:ngsi-ld:WasteContainer:none") == []


POINT = {"type": "Point", "coordinates": [6, 49]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": None}, "value"),
        ({"operator": "above"}, "operator"),
        ({"name": " "}, "name"),
        ({"entity_type": "Waste Container"}, "entity_type"),
        ({"commune": "Audun"}, "commune"),
        ({"entity_pattern": "bin-*"}, "entity_pattern"),
        ({"kind": "rate", "minutes": None}, "minutes"),
        ({"kind": "nodata", "minutes": 0}, "minutes"),
        ({"kind": "geofence", "direction": "leaves"}, "area"),
        ({"kind": "geofence", "direction": "leaves", "area": {"type": "Point"}}, "area"),
        ({"kind": "geofence", "direction": "leaves", "area": POINT}, "area"),
        ({"kind": "geofence", "area_commune": "57038"}, "direction"),
        ({"kind": "sometimes"}, "kind"),
        ({"severity": "panic"}, "severity"),
    ],
)
def test_bad_rules_are_refused_with_the_field_at_fault(agent_audun, fields, field):
    with pytest.raises(ValidationError) as caught:
        _rule(agent_audun, **fields)
    assert field in caught.value.message_dict
    assert not AlertRule.objects.exists()


def test_acknowledge_and_close_by_whom_may(ld, agent_audun, agent_villerupt, agent_epci, citizen):
    _rule(agent_audun)
    _container(ld, level=0.95)
    _fill(ld, 0.99)
    alert = Alert.objects.get()
    for outsider in (agent_villerupt, citizen):
        with pytest.raises(services.NotAllowed):
            services.acknowledge(services.actor_of(outsider), alert.pk)
    acknowledged = services.acknowledge(services.actor_of(agent_epci), alert.pk, "vu")
    assert acknowledged.state == "acknowledged"
    assert acknowledged.acknowledged_by == agent_epci.pseudonym
    with pytest.raises(services.NotAllowed):  # not twice
        services.acknowledge(services.actor_of(agent_audun), alert.pk)
    closed = services.close(services.actor_of(agent_audun), alert.pk, "vidé")
    assert (closed.state, closed.closed_by, closed.comment) == (
        "closed",
        agent_audun.pseudonym,
        "vu\nvidé",
    )
    kinds = list(LedgerRecord.objects.filter(object_ref=f"alert:{alert.pk}")
                 .values_list("kind", flat=True))  # fmt: skip
    assert kinds == ["alert.fired", "alert.acknowledged", "alert.closed"]


# --- API -------------------------------------------------------------------------------


def _client(user=None) -> Client:
    client = Client(HTTP_ACCEPT="application/json")
    if user is not None:
        client.force_login(user)
    return client


RULE = {"name": "Bac plein", "entity_type": "WasteContainer", "attribute": "fillingLevel",
        "kind": "threshold", "operator": "ge", "value": 0.9}  # fmt: skip


def test_the_api_lists_and_changes_alerts_for_agents(ld, agent_audun):
    _rule(agent_audun)
    _container(ld, level=0.95)
    _fill(ld, 0.99)
    alert = Alert.objects.get()
    client = _client(agent_audun)
    listed = client.get("/api/v1/supervision/alerts").json()
    assert [a["id"] for a in listed] == [alert.pk]
    assert client.get("/api/v1/supervision/alerts?state=closed").json() == []
    answer = client.post(f"/api/v1/supervision/alerts/{alert.pk}/acknowledge",
                         {"comment": "en route"}, content_type="application/json")  # fmt: skip
    assert answer.status_code == 200 and answer.json()["state"] == "acknowledged"
    again = client.post(
        f"/api/v1/supervision/alerts/{alert.pk}/acknowledge", {}, content_type="application/json"
    )
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")
    closed = client.post(
        f"/api/v1/supervision/alerts/{alert.pk}/close", {}, content_type="application/json"
    )
    assert closed.json()["state"] == "closed"
    missing = client.post(
        "/api/v1/supervision/alerts/999999/close", {}, content_type="application/json"
    )
    assert missing.status_code == 404
    assert client.get("/api/v1/supervision/alerts?state=gone").status_code == 422


def test_the_api_refuses_those_who_are_not_agents(ld, agent_audun, agent_villerupt, citizen):
    _rule(agent_audun)
    _container(ld, level=0.95)
    _fill(ld, 0.99)
    alert = Alert.objects.get()
    assert _client().get("/api/v1/supervision/alerts").status_code == 401
    refused = _client(citizen).get("/api/v1/supervision/alerts")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/problem+json")
    assert _client(citizen).post("/api/v1/supervision/rules", RULE,
                                 content_type="application/json").status_code == 403  # fmt: skip
    other = _client(agent_villerupt).post(
        f"/api/v1/supervision/alerts/{alert.pk}/close", {}, content_type="application/json"
    )
    assert other.status_code == 403
    assert Alert.objects.get().state == "firing"


def test_the_api_writes_rules_with_clear_errors(agent_audun, agent_villerupt):
    client = _client(agent_audun)
    created = client.post("/api/v1/supervision/rules", RULE, content_type="application/json")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["unit"] == "57038" and rule["enabled"] is True
    bad = client.post("/api/v1/supervision/rules", {**RULE, "value": None, "kind": "rate"},
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 422
    assert bad["Content-Type"].startswith("application/problem+json")
    assert {e["location"][-1] for e in bad.json()["errors"]} == {"value", "minutes"}
    assert client.post("/api/v1/supervision/rules", {**RULE, "kind": "x"},
                       content_type="application/json").status_code == 422  # fmt: skip
    changed = client.put(f"/api/v1/supervision/rules/{rule['id']}", {**RULE, "enabled": False},
                         content_type="application/json")  # fmt: skip
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert [r["id"] for r in client.get("/api/v1/supervision/rules").json()] == [rule["id"]]
    theirs = _client(agent_villerupt).put(f"/api/v1/supervision/rules/{rule['id']}", RULE,
                                          content_type="application/json")  # fmt: skip
    assert theirs.status_code == 403
    assert client.get("/api/v1/supervision/rules/999999").status_code == 404


def test_an_agent_token_reaches_the_api(agent_audun, citizen):
    from alzette.personal.procedures import agent_api

    _, token = agent_api.create_token(agent_audun, "supervision", 30)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = client.post("/api/v1/supervision/rules", RULE, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["created_by"] == agent_audun.pseudonym
    wrong = Client(HTTP_AUTHORIZATION="Bearer alz_not-a-token")
    assert wrong.get("/api/v1/supervision/alerts").status_code == 401


# --- Alerts close themselves when the condition clears -------------------------------------


def _closed_by_system(alert: Alert) -> bool:
    alert.refresh_from_db(using=DB)
    return alert.state == "closed" and alert.closed_by == "system"


def test_a_threshold_alert_closes_itself_when_the_value_is_back(ld, agent_audun):
    _rule(agent_audun)
    _container(ld)
    _fill(ld, 0.95)
    alert = Alert.objects.get()
    services.acknowledge(services.actor_of(agent_audun), alert.pk, "vu")  # acknowledged too
    _fill(ld, 0.1)  # emptied
    assert _closed_by_system(alert)
    assert "0.1" in alert.comment and alert.comment.startswith("vu")
    closing = LedgerRecord.objects.get(kind="alert.closed", object_ref=f"alert:{alert.pk}")
    assert closing.payload["by"] == "rule"
    _fill(ld, 0.96)  # full again: a new alert
    assert Alert.objects.filter(state="firing").count() == 1


def test_an_unreadable_value_does_not_close_a_threshold_alert(agent_audun):
    # Smart Data Models refuse such values for their own types; other types may not.
    rule = _rule(agent_audun)
    assert alerts._threshold_cleared(rule, None, {"value": "capteur en panne"}) is None
    assert alerts._threshold_cleared(rule, None, {"value": 0.99}) is None
    assert "0.2" in alerts._threshold_cleared(rule, None, {"value": 0.2})


def test_a_geofence_alert_closes_when_the_entity_is_back(ld, agent_audun):
    _rule(agent_audun, name="Benne déplacée", kind="geofence", attribute="", area=SQUARE,
          direction="leaves")  # fmt: skip
    _container(ld)
    away = {"type": "Point", "coordinates": [6.5, 49.5]}
    _set(ld, BIN, {"location": {"type": "GeoProperty", "value": away}})
    alert = Alert.objects.get()
    _set(ld, BIN, {"location": {"type": "GeoProperty", "value": LOCATION}})
    assert _closed_by_system(alert) and BIN in alert.comment


def test_a_no_data_alert_closes_when_data_comes_back(ld, agent_audun):
    _rule(agent_audun, name="Capteur muet", kind="nodata", minutes=60)
    now = datetime.now(UTC)
    _container(ld)
    _fill(ld, 0.4, observed=now - timedelta(hours=3))
    [alert] = alerts.check_no_data()
    _fill(ld, 0.5, observed=now)
    assert alerts.check_no_data() == []
    assert _closed_by_system(alert)


def test_a_rate_alert_stays_until_an_agent_closes_it(ld, agent_audun):
    _rule(agent_audun, kind="rate", operator="gt", value=0.5, minutes=120)
    now = datetime.now(UTC).replace(microsecond=0)
    _container(ld, level=0.1)
    _fill(ld, 0.1, observed=now - timedelta(minutes=60))
    _fill(ld, 0.9, observed=now - timedelta(minutes=1))
    _fill(ld, 0.9, observed=now)  # no rise any more
    assert Alert.objects.get().state == "firing"


def test_the_alerts_of_a_deleted_entity_close(ld, agent_audun):
    rule = _rule(agent_audun)
    _container(ld)
    _fill(ld, 0.95)
    alert = Alert.objects.get()
    detector = alerts.detector_rule("test.deleted", name="Test", entity_type="WasteContainer",
                                    attribute="fillingLevel")  # fmt: skip
    detected = alerts.raise_detected(detector, BIN, 1, "detected")
    assert ld.delete(f"/entities/{BIN}").status_code == 204
    for found in (alert, detected):
        assert _closed_by_system(found) and BIN in found.comment
    closing = LedgerRecord.objects.filter(kind="alert.closed").values_list("payload", flat=True)
    assert {p["by"] for p in closing} == {"deletion"}
    assert rule.enabled  # the rule itself stays
