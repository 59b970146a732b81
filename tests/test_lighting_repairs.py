"""Streetlight faults and repairs: device faults raise alerts and open one repair per
lamp; citizens' broken-light reports cross the bridge anonymised, join the lamp's
repair and see it repaired; agents of the lamp's commune or the EPCI act."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.bridge.procedures import source_ref
from alzette.ledger.models import LedgerEntry as LogEntry
from alzette.personal.procedures import services as procedures_services
from alzette.personal.procedures.services import AnswersInvalid
from alzette.territory.events.models import TerritoryEvent
from alzette.territory.lighting.repairs import services
from alzette.territory.lighting.repairs.models import Repair
from alzette.territory.ngsild import entities
from alzette.territory.ngsild.entities import Op
from alzette.territory.supervision.models import Alert, QuarantinedMessage
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

LAMP = "urn:ngsi-ld:Streetlight:streetlight-57038-001"
CABINET = "urn:ngsi-ld:StreetlightControlCabinet:cabinet-57038-1"
NIGHT = "2026-12-03T23:00:00Z"


def make_lamp(number: str = "57038-001", lon: float = 5.9812, lat: float = 49.4734) -> str:
    payload = {
        "id": f"urn:ngsi-ld:Streetlight:streetlight-{number}",
        "type": "Streetlight",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "status": {"type": "Property", "value": "ok"},
        "powerState": {"type": "Property", "value": "on"},
        "address": {"type": "Property", "value": {"streetAddress": "Rue de la Gare"}},
        "refStreetlightControlCabinet": {"type": "Relationship", "object": CABINET},
    }
    return entities.create(Op(tenant="", ctx=services.context()), payload)


def make_cabinet() -> str:
    payload = {
        "id": CABINET,
        "type": "StreetlightControlCabinet",
        "location": {"type": "GeoProperty",
                     "value": {"type": "Point", "coordinates": [5.98, 49.47]}},
        "workingMode": {"type": "Property", "value": "automatic"},
        "refStreetlightGroup": {"type": "Relationship",
                                "object": ["urn:ngsi-ld:StreetlightGroup:57038-rue-de-la-gare"]},
    }  # fmt: skip
    return entities.create(Op(tenant="", ctx=services.context()), payload)


@pytest.fixture
def lamp_device(m2m, territory):
    make_lamp()
    ae = m2m.register("streetlight-57038-001")
    m2m.container("alzette/streetlight-57038-001", "state", ae["aei"])
    return ae["aei"]


def report_state(m2m, aei, **content):
    state = {"powerState": "on", "illuminanceLevel": 1.0, "powerConsumption": 40.0,
             "status": "ok", "t": NIGHT, **content}  # fmt: skip
    response = m2m.instance("alzette/streetlight-57038-001/state", state, aei)
    assert response.status_code == 201, response.content


def open_alerts(entity=LAMP):
    return Alert.objects.filter(entity_id=entity, state__in=Alert.OPEN)


# --- Device faults ---------------------------------------------------------------------------


def test_a_lamp_fault_raises_an_alert_and_opens_one_repair(m2m, lamp_device):
    report_state(m2m, lamp_device, status="defectiveLamp")
    alert = open_alerts().get()
    assert alert.rule.detector == "lighting.lamp-fault" and alert.value == "defectiveLamp"
    repair = Repair.objects.get()
    assert (repair.asset_id, repair.source, repair.fault, repair.status, repair.commune_code) == (
        LAMP,
        "device",
        "defectiveLamp",
        "reported",
        "57038",
    )
    # The next reports of the same fault open nothing new.
    report_state(m2m, lamp_device, status="defectiveLamp")
    report_state(m2m, lamp_device, status="brokenLantern")
    assert Repair.objects.count() == 1 and open_alerts().count() == 1
    assert LogEntry.objects.filter(kind="lighting_repair.changed").count() == 1


def test_the_alert_clears_when_the_lamp_reports_ok(m2m, lamp_device):
    report_state(m2m, lamp_device, status="columnIssue")
    assert open_alerts().exists()
    report_state(m2m, lamp_device)
    assert not open_alerts().exists()
    assert Alert.objects.get().closed_by == "system"
    # The repair stays for the agents to close with its outcome.
    assert Repair.objects.get().status == "reported"


@pytest.mark.parametrize("power_state", ["on", "low"])
def test_a_lamp_on_drawing_nothing_at_night_is_out(m2m, lamp_device, power_state):
    report_state(m2m, lamp_device, powerState=power_state, illuminanceLevel=0.5,
                 powerConsumption=0)  # fmt: skip
    assert open_alerts().get().value == "lampOut"
    assert Repair.objects.get().fault == "lampOut"


def test_a_lamp_off_or_by_day_drawing_nothing_is_not_out(m2m, lamp_device):
    report_state(m2m, lamp_device, powerState="off", illuminanceLevel=0, powerConsumption=0)
    report_state(m2m, lamp_device, illuminanceLevel=1, powerConsumption=0,
                 t="2026-12-03T12:00:00Z")  # fmt: skip
    assert not open_alerts().exists() and not Repair.objects.exists()


def test_a_cabinet_fault_alerts_on_the_cabinet(m2m, territory):
    make_cabinet()
    ae = m2m.register("cabinet-57038-1")
    m2m.container("alzette/cabinet-57038-1", "meter", ae["aei"])
    content = {"energyConsumed": 1234.5, "totalActivePower": 0.0, "fault": "breaker-tripped",
               "t": NIGHT}  # fmt: skip
    assert m2m.instance("alzette/cabinet-57038-1/meter", content, ae["aei"]).status_code == 201
    alert = open_alerts(CABINET).get()
    assert alert.rule.detector == "lighting.cabinet-fault"
    assert alert.rule.entity_type == "StreetlightControlCabinet"
    assert Repair.objects.get().fault == "breaker-tripped"
    # Its lamps go dark with it: no lamp-out for them while the cabinet is down.
    make_lamp()
    lamp = m2m.register("streetlight-57038-001")
    m2m.container("alzette/streetlight-57038-001", "state", lamp["aei"])
    report_state(m2m, lamp["aei"], illuminanceLevel=1.0, powerConsumption=0)
    assert not open_alerts().exists() and Repair.objects.count() == 1
    content.pop("fault")
    m2m.instance("alzette/cabinet-57038-1/meter", content, ae["aei"])
    assert not open_alerts(CABINET).exists()


def test_impossible_lamp_reports_are_quarantined(m2m, lamp_device):
    report_state(m2m, lamp_device, status="exploded")
    response = m2m.instance("alzette/streetlight-57038-001/state", "not json", lamp_device)
    assert response.status_code == 201
    reasons = list(QuarantinedMessage.objects.values_list("reason", flat=True))
    assert any("exploded" in reason for reason in reasons)
    assert any("JSON object" in reason for reason in reasons)
    assert not Repair.objects.exists()


def test_a_device_without_its_streetlight_entity_is_quarantined(m2m, territory):
    ae = m2m.register("streetlight-57038-099")
    m2m.container("alzette/streetlight-57038-099", "state", ae["aei"])
    m2m.instance("alzette/streetlight-57038-099/state", {"status": "defectiveLamp"}, ae["aei"])
    assert QuarantinedMessage.objects.filter(kind="unknown_device").exists()
    assert not Repair.objects.exists()


# --- Citizens' reports -----------------------------------------------------------------------

REPORT = {"lamp": "57038-001", "problem": "off", "details": "Devant chez moi, M. Dupont"}


def file_report(user, procedures, capture, answers=REPORT):
    dossier = procedures_services.start(user, procedures["signalement-eclairage"])
    with capture(execute=True):
        return procedures_services.submit(user, dossier.pk, answers)


def test_a_citizen_report_crosses_anonymised_and_follows_the_repair(
    citizen, procedures, agent_audun, django_capture_on_commit_callbacks
):
    make_lamp()
    dossier = file_report(citizen, procedures, django_capture_on_commit_callbacks)
    event = TerritoryEvent.objects.get()
    assert (event.kind, event.asset_ref, event.commune_code, event.categories) == (
        "streetlight_fault",
        LAMP,
        "57038",
        ["off"],
    )
    assert (event.lon, event.lat) == (5.9812, 49.4734)  # the lamp's place, not the citizen's
    stored = json.dumps([str(v) for v in TerritoryEvent.objects.values().get().values()])
    for secret in (citizen.email, citizen.pseudonym, dossier.reference, "Dupont", str(dossier.pk)):
        assert secret not in stored
    repair = Repair.objects.get()
    assert (repair.source, repair.event_id, repair.fault) == ("citizen", event.pk, "off")

    client = Client()
    client.force_login(citizen)
    page = client.get(f"/procedures/files/{dossier.pk}/")
    assert page.status_code == 200
    assert 'data-follow-status="reported"' in page.content.decode()
    assert 'data-asset="57038-001"' in page.content.decode()

    actor = services.actor_of(agent_audun)
    day = timezone.localdate() + timedelta(days=2)
    services.plan(repair, team="Équipe éclairage", planned_for=day, actor=actor)
    assert (
        'data-follow-status="scheduled"'
        in client.get(f"/procedures/files/{dossier.pk}/").content.decode()
    )
    services.start(repair, actor=actor)
    services.close(repair, outcome="lamp_replaced", actor=actor)
    event.refresh_from_db()
    assert event.status == "closed" and event.closed_on == timezone.localdate()
    html = client.get(f"/procedures/files/{dossier.pk}/").content.decode()
    assert 'data-follow-status="repaired"' in html
    assert services.state_for_event(source_ref(dossier)).status == "repaired"
    changes = LogEntry.objects.filter(kind="lighting_repair.changed").count()
    assert changes == 4  # opened, scheduled, started, repaired


def test_a_second_report_joins_the_open_repair(
    citizen, procedures, m2m, lamp_device, django_capture_on_commit_callbacks
):
    report_state(m2m, lamp_device, status="defectiveLamp")
    file_report(citizen, procedures, django_capture_on_commit_callbacks)
    file_report(None, procedures, django_capture_on_commit_callbacks,
                {"lamp": "57038 - 1", "problem": "flickering"})  # fmt: skip
    repair = Repair.objects.get()
    assert repair.source == "device" and repair.events.count() == 2
    services.close(repair, outcome="lamp_replaced", actor=services.Actor(agent=True))
    assert set(TerritoryEvent.objects.values_list("status", flat=True)) == {"closed"}
    # The alert closes when the lamp reports ok again.
    assert open_alerts().exists()
    report_state(m2m, lamp_device)
    assert not open_alerts().exists()


def test_an_unknown_lamp_number_is_refused_by_the_form(
    citizen, procedures, django_capture_on_commit_callbacks
):
    make_lamp()
    with pytest.raises(AnswersInvalid) as caught:
        file_report(citizen, procedures, django_capture_on_commit_callbacks,
                    {"lamp": "57038-999", "problem": "off"})  # fmt: skip
    assert "lamp" in caught.value.errors
    with pytest.raises(AnswersInvalid) as caught:
        file_report(citizen, procedures, django_capture_on_commit_callbacks,
                    {"lamp": "lampadaire", "problem": "off"})  # fmt: skip
    assert "lamp" in caught.value.errors
    assert not TerritoryEvent.objects.exists() and not Repair.objects.exists()


def test_a_report_of_an_unknown_lamp_is_a_clear_error(territory):
    event = TerritoryEvent.objects.create(
        source_ref="x" * 64, kind="streetlight_fault", lon=5.98, lat=49.47,
        observed_on=timezone.localdate(), asset_ref="urn:ngsi-ld:Streetlight:streetlight-57038-404",
    )  # fmt: skip
    with pytest.raises(services.UnknownLamp, match="57038-404"):
        services.report_by_citizen(event)
    with pytest.raises(services.UnknownLamp):
        services.report_by_agent("99999-1", "lampOut", actor=services.Actor(agent=True))
    assert not Repair.objects.exists()


# --- Agents ----------------------------------------------------------------------------------


def test_abilities_by_role_and_commune(agent_audun, agent_villerupt, agent_epci, citizen):
    audun, villerupt = services.actor_of(agent_audun), services.actor_of(agent_villerupt)
    epci = services.actor_of(agent_epci)
    assert services.abilities(audun, "57038")["close"]
    assert not services.abilities(villerupt, "57038")["close"]
    assert services.abilities(villerupt, "57038")["view"]
    assert services.abilities(epci, "57038")["close"] and epci.commune is None
    assert not any(services.abilities(services.actor_of(citizen)).values())


def test_an_agent_of_another_commune_cannot_close(agent_villerupt, territory):
    make_lamp()
    repair = services.report_by_agent("57038-001", "brokenLantern", actor=services.Actor(True))
    with pytest.raises(PermissionError):
        services.close(repair, outcome="lantern_replaced",
                       actor=services.actor_of(agent_villerupt))  # fmt: skip
    client = Client()
    client.force_login(agent_villerupt)
    response = client.post(f"/hypervision/lighting/repairs/{repair.pk}/close/",
                           {"outcome": "lantern_replaced"})  # fmt: skip
    assert response.status_code == 403
    repair.refresh_from_db()
    assert repair.status == "reported"


def test_transitions_that_make_no_sense_are_refused(territory):
    make_lamp()
    actor = services.Actor(agent=True)
    repair = services.report_by_agent("57038-001", "lampOut", actor=actor)
    with pytest.raises(services.TransitionError):
        services.start(repair, actor=actor)
    with pytest.raises(services.ValidationError):
        services.plan(repair, team=" ", planned_for=timezone.localdate(), actor=actor)
    with pytest.raises(services.ValidationError):
        services.plan(repair, team="A", planned_for=timezone.localdate() - timedelta(days=1),
                      actor=actor)  # fmt: skip
    services.cancel(repair, actor=actor)
    with pytest.raises(services.TransitionError):
        services.close(repair, outcome="no_fault", actor=actor)


def test_the_agents_pages(agent_audun, agent_villerupt, citizen, territory):
    make_lamp()
    client = Client()
    client.force_login(agent_audun)
    assert client.get("/hypervision/lighting/repairs/").status_code == 200
    bad = client.post("/hypervision/lighting/repairs/report/", {"lamp": "57038-777",
                                                                "fault": "lampOut"})  # fmt: skip
    assert bad.status_code == 400 and 'data-error="lamp"' in bad.content.decode()
    made = client.post("/hypervision/lighting/repairs/report/", {"lamp": "57038-001",
                                                                 "fault": "lampOut"})  # fmt: skip
    repair = Repair.objects.get()
    assert made.status_code == 302 and made["Location"].endswith(f"/{repair.pk}/")
    page = client.get(made["Location"])
    assert page.status_code == 200 and 'id="plan-form"' in page.content.decode()
    index = client.get("/hypervision/lighting/repairs/").content.decode()
    assert f'data-repair="{repair.pk}"' in index and "Rue de la Gare" not in index
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    bad_plan = client.post(f"/hypervision/lighting/repairs/{repair.pk}/plan/", {"team": ""})
    assert bad_plan.status_code == 400
    client.post(f"/hypervision/lighting/repairs/{repair.pk}/plan/",
                {"team": "Équipe A", "planned_for": day})  # fmt: skip
    client.post(f"/hypervision/lighting/repairs/{repair.pk}/close/", {"outcome": "lamp_replaced"})
    repair.refresh_from_db()
    assert repair.status == "repaired" and repair.outcome == "lamp_replaced"
    assert client.get("/hypervision/lighting/repairs/nope/").status_code == 404
    client.force_login(agent_villerupt)  # another commune's lamp: said next to the number
    theirs = client.post("/hypervision/lighting/repairs/report/", {"lamp": "57038-001",
                                                                   "fault": "lampOut"})  # fmt: skip
    assert theirs.status_code == 403 and 'data-error="lamp"' in theirs.content.decode()
    client.force_login(citizen)
    assert client.get("/hypervision/lighting/repairs/").status_code == 403
    anonymous = Client().get("/hypervision/lighting/repairs/")
    assert anonymous.status_code == 302
