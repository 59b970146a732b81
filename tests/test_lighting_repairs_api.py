"""The repairs API (/api/v1/lighting/repairs, /api/v1/lighting/poles): every endpoint with
good input, bad input, an agent of another commune, a citizen and nobody signed in."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.territory.events.models import TerritoryEvent
from alzette.territory.lighting.repairs import services
from alzette.territory.lighting.repairs.models import LedgerRecord, Repair
from tests.conftest import ALL_DATABASES
from tests.test_lighting_repairs import LAMP, make_lamp

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

URL = "/api/v1/lighting/repairs"
POLES = "/api/v1/lighting/poles"
VILLERUPT_LAMP = "urn:ngsi-ld:Streetlight:streetlight-54580-001"
CHANGED = "lighting_repair.changed"


def _client(user=None) -> Client:
    client = Client(HTTP_ACCEPT="application/json")
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, url: str, body: dict | None = None):
    return client.post(url, body or {}, content_type="application/json")


def is_problem(response, status: int) -> bool:
    return response.status_code == status and response["Content-Type"].startswith(
        "application/problem+json"
    )


@pytest.fixture
def lamps(territory):
    make_lamp()
    make_lamp("57038-002", lon=5.9830, lat=49.4740)
    make_lamp("54580-001", lon=5.9290, lat=49.4640)


@pytest.fixture
def repair(lamps) -> Repair:
    return services.report_by_agent("57038-001", "lampOut", actor=services.Actor(agent=True))


def citizen_event(lamp: str = LAMP, problem: str = "flickering") -> TerritoryEvent:
    """A citizen's report as the bridge writes it (anonymised), joined to the repair."""
    event = TerritoryEvent.objects.create(
        source_ref=uuid.uuid4().hex * 2, kind="streetlight_fault", lon=5.9812, lat=49.4734,
        observed_on=timezone.localdate(), commune_code="57038", categories=[problem],
        asset_ref=lamp,
    )  # fmt: skip
    services.report_by_citizen(event)
    return event


def changes() -> int:
    return LedgerEntry.objects.filter(kind=CHANGED).count()


# --- Listing -----------------------------------------------------------------------------------


def test_list_filters_and_pages(lamps, agent_villerupt):
    actor = services.Actor(agent=True)
    first = services.report_by_agent("57038-001", "lampOut", actor=actor)
    services.report_by_agent("57038-002", "columnIssue", actor=actor)
    villerupt = services.report_by_agent("54580-001", "brokenLantern", actor=actor)
    services.close(first, outcome="no_fault", actor=actor)
    client = _client(agent_villerupt)  # every agent reads every commune's
    everything = client.get(URL)
    assert everything.status_code == 200
    assert len(everything.json()) == 3
    row = next(r for r in everything.json() if r["id"] == str(villerupt.pk))
    assert (row["asset_id"], row["number"], row["kind"], row["commune"], row["source"]) == (
        VILLERUPT_LAMP, "54580-001", "lamp", "54580", "agent")  # fmt: skip
    assert "updated_by" not in row
    audun = client.get(URL, {"commune": "57038"}).json()
    assert {r["number"] for r in audun} == {"57038-001", "57038-002"}
    opened = client.get(URL, {"commune": "57038", "open": "true"}).json()
    assert [r["number"] for r in opened] == ["57038-002"]
    repaired = client.get(URL, {"status": "repaired"}).json()
    assert [(r["number"], r["outcome"]) for r in repaired] == [("57038-001", "no_fault")]
    pages = [client.get(URL, {"limit": 2, "offset": offset}).json() for offset in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 1, 0]
    assert {r["id"] for r in pages[0] + pages[1]} == {r["id"] for r in everything.json()}


def test_list_bad_input(lamps, agent_audun):
    client = _client(agent_audun)
    for query in ({"commune": "Audun"}, {"status": "lost"}, {"open": "maybe"}, {"limit": 0},
                  {"limit": 5000}, {"offset": -1}):  # fmt: skip
        answer = client.get(URL, query)
        assert is_problem(answer, 422), query
        assert answer.json()["errors"]


def test_list_wrong_role_and_anonymous(repair, citizen):
    assert is_problem(_client(citizen).get(URL), 403)
    assert is_problem(_client().get(URL), 401)
    assert is_problem(Client(HTTP_AUTHORIZATION="Bearer alz_not-a-token").get(URL), 401)


def test_an_agent_token_reaches_the_repairs(repair, agent_audun):
    from alzette.personal.procedures import agent_api

    _, token = agent_api.create_token(agent_audun, "repairs", 30)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [r["id"] for r in client.get(URL).json()] == [str(repair.pk)]
    today = timezone.localdate().isoformat()
    planned = post(client, f"{URL}/{repair.pk}/plan", {"team": "Équipe A", "planned_for": today})
    assert planned.status_code == 200, planned.content


# --- One repair --------------------------------------------------------------------------------


def test_one_repair_with_its_asset_alert_and_citizens_reports(lamps, agent_villerupt):
    repair = services.device_fault(LAMP, "defectiveLamp")
    event = citizen_event()
    answer = _client(agent_villerupt).get(f"{URL}/{repair.pk}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["source"], body["fault"]) == ("device", "defectiveLamp")
    assert body["citizen_reports"] == 1
    assert body["asset"]["number"] == "57038-001" and body["asset"]["kind"] == "lamp"
    assert (body["asset"]["lon"], body["asset"]["lat"]) == (5.9812, 49.4734)
    assert body["asset"]["address"] == "Rue de la Gare"
    assert body["alert"]["rule"] == "lighting.lamp-fault" and body["alert"]["state"] == "firing"
    # A citizen's report: what is wrong and the day, nothing else.
    assert body["reports"] == [
        {"observed_on": timezone.localdate().isoformat(), "problem": "flickering", "status": "open"}
    ]
    assert event.source_ref not in answer.content.decode()


def test_one_repair_bad_input(repair, agent_audun):
    client = _client(agent_audun)
    assert is_problem(client.get(f"{URL}/not-a-uuid"), 422)
    missing = client.get(f"{URL}/{uuid.uuid4()}")
    assert is_problem(missing, 404) and missing.json()["detail"] == "No such repair."


def test_one_repair_wrong_role_and_anonymous(repair, citizen):
    assert is_problem(_client(citizen).get(f"{URL}/{repair.pk}"), 403)
    assert is_problem(_client().get(f"{URL}/{repair.pk}"), 401)


# --- Reporting a fault -------------------------------------------------------------------------


def test_an_agent_reports_a_fault_by_the_pole_number(lamps, agent_audun):
    client = _client(agent_audun)
    made = post(client, URL, {"lamp": "57038-001", "fault": "brokenLantern"})
    assert made.status_code == 201, made.content
    repair = Repair.objects.get()
    assert made.json()["id"] == str(repair.pk)
    assert (repair.source, repair.fault, repair.updated_by) == (
        "agent", "brokenLantern", agent_audun.pseudonym)  # fmt: skip
    assert changes() == 1
    # The same lamp again, written another way: the open repair, unchanged, and 200.
    again = post(client, URL, {"lamp": " 57038 - 1 ", "fault": "lampOut"})
    assert again.status_code == 200 and again.json()["id"] == str(repair.pk)
    assert Repair.objects.count() == 1 and changes() == 1


def test_reporting_bad_input(lamps, agent_audun):
    client = _client(agent_audun)
    unknown = post(client, URL, {"lamp": "57038-777", "fault": "lampOut"})
    assert is_problem(unknown, 404) and "57038-777" in unknown.json()["detail"]
    for body in ({"lamp": "lampadaire", "fault": "lampOut"},
                 {"lamp": "57038-001", "fault": "exploded"}, {"lamp": "57038-001"},
                 {"fault": "lampOut"}, {"lamp": "57038-001" * 3, "fault": "lampOut"}):  # fmt: skip
        answer = post(client, URL, body)
        assert is_problem(answer, 422), body
        assert answer.json()["errors"]
    bad_json = client.post(URL, "{", content_type="application/json")
    assert is_problem(bad_json, 400)
    assert not Repair.objects.exists() and changes() == 0


def test_reporting_wrong_role_and_anonymous(lamps, agent_villerupt, citizen):
    body = {"lamp": "57038-001", "fault": "lampOut"}
    assert is_problem(post(_client(agent_villerupt), URL, body), 403)
    assert is_problem(post(_client(citizen), URL, body), 403)
    assert is_problem(post(_client(), URL, body), 401)
    assert not Repair.objects.exists()
    # Their own commune's lamp: yes.
    own = post(_client(agent_villerupt), URL, {"lamp": "54580-001", "fault": "lampOut"})
    assert own.status_code == 201


def test_a_session_write_needs_its_csrf_token(lamps, agent_audun):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_audun)
    refused = post(client, URL, {"lamp": "57038-001", "fault": "lampOut"})
    assert refused.status_code == 403 and not Repair.objects.exists()


# --- Plan, start, close, cancel ---------------------------------------------------------------


def tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


def test_plan_start_and_close(repair, agent_audun):
    event = citizen_event()
    client = _client(agent_audun)
    body = {"team": "Équipe A", "planned_for": tomorrow()}
    planned = post(client, f"{URL}/{repair.pk}/plan", body)
    assert planned.status_code == 200, planned.content
    assert (planned.json()["status"], planned.json()["team"], planned.json()["planned_for"]) == (
        "scheduled", "Équipe A", tomorrow())  # fmt: skip
    started = post(client, f"{URL}/{repair.pk}/start")
    assert started.status_code == 200 and started.json()["started_at"]
    closed = post(client, f"{URL}/{repair.pk}/close", {"outcome": "lamp_replaced"})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["outcome"]) == ("repaired", "lamp_replaced")
    assert closed.json()["reports"][0]["status"] == "closed"
    event.refresh_from_db()
    assert event.status == "closed"
    repair.refresh_from_db()
    assert repair.status == "repaired" and repair.updated_by == agent_audun.pseudonym
    # opened, joined (the citizen), scheduled, started, repaired
    assert changes() == 5
    payloads = json.dumps(list(LedgerRecord.objects.values_list("payload", flat=True)))
    records = LedgerRecord.objects.order_by("leaf_index").values_list("payload", flat=True)
    assert [p["change"] for p in records][-3:] == ["scheduled", "started", "repaired"]
    assert agent_audun.email not in payloads and event.source_ref not in payloads


def test_the_epci_cancels(repair, agent_epci):
    event = citizen_event()
    cancelled = post(_client(agent_epci), f"{URL}/{repair.pk}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    event.refresh_from_db()
    assert event.status == "closed"


def test_plan_bad_input(repair, agent_audun):
    client = _client(agent_audun)
    url = f"{URL}/{repair.pk}/plan"
    for day in ("2026-13-45", "tomorrow", ""):
        answer = post(client, url, {"team": "Équipe A", "planned_for": day})
        assert is_problem(answer, 422), day
        assert answer.json()["errors"][0]["location"][-1] == "planned_for"
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    past = post(client, url, {"team": "Équipe A", "planned_for": yesterday})
    assert is_problem(past, 422)
    assert past.json()["errors"][0]["location"] == ["body", "planned_for"]
    blank = post(client, url, {"team": "  ", "planned_for": tomorrow()})
    assert is_problem(blank, 422) and blank.json()["errors"][0]["location"] == ["body", "team"]
    assert is_problem(post(client, url, {"planned_for": tomorrow()}), 422)
    assert is_problem(post(client, f"{URL}/{uuid.uuid4()}/plan",
                           {"team": "A", "planned_for": tomorrow()}), 404)  # fmt: skip
    repair.refresh_from_db()
    assert repair.status == "reported" and changes() == 1


def test_start_close_cancel_bad_input(repair, agent_audun):
    client = _client(agent_audun)
    # Not scheduled yet: it cannot start.
    assert is_problem(post(client, f"{URL}/{repair.pk}/start"), 409)
    for outcome in ("fixed", "", None):
        assert is_problem(post(client, f"{URL}/{repair.pk}/close", {"outcome": outcome}), 422)
    for name in ("start", "close", "cancel"):
        assert is_problem(post(client, f"{URL}/{uuid.uuid4()}/{name}", {"outcome": "no_fault"}),
                          404)  # fmt: skip
        assert is_problem(post(client, f"{URL}/nope/{name}", {"outcome": "no_fault"}), 422)
    assert post(client, f"{URL}/{repair.pk}/cancel").status_code == 200
    # Closed: no transition is left.
    for name, body in (("plan", {"team": "A", "planned_for": tomorrow()}), ("start", None),
                       ("close", {"outcome": "no_fault"}), ("cancel", None)):  # fmt: skip
        answer = post(client, f"{URL}/{repair.pk}/{name}", body)
        assert is_problem(answer, 409), name
    repair.refresh_from_db()
    assert repair.status == "cancelled" and changes() == 2  # opened, cancelled


#: Each transition, its body, and the state it leaves an agent of the commune with.
TRANSITIONS = [
    ("plan", {"team": "Équipe B"}, "scheduled"),
    ("start", None, "scheduled"),
    ("close", {"outcome": "lamp_replaced"}, "repaired"),
    ("cancel", None, "cancelled"),
]


@pytest.mark.parametrize("name,body,after", TRANSITIONS)
def test_transitions_wrong_role_and_anonymous(
    repair, agent_audun, agent_villerupt, citizen, name, body, after
):
    if name == "plan":
        body = {**body, "planned_for": tomorrow()}
    if name == "start":
        services.plan(repair, team="Équipe A", planned_for=timezone.localdate(),
                      actor=services.actor_of(agent_audun))  # fmt: skip
    before, url = changes(), f"{URL}/{repair.pk}/{name}"
    assert is_problem(post(_client(agent_villerupt), url, body), 403)
    assert is_problem(post(_client(citizen), url, body), 403)
    assert is_problem(post(_client(), url, body), 401)
    unchanged = Repair.objects.get()
    assert changes() == before and unchanged.updated_by != agent_villerupt.pseudonym
    assert unchanged.started_at is None
    done = post(_client(agent_audun), url, body)
    assert done.status_code == 200 and done.json()["status"] == after
    assert changes() == before + 1


# --- Poles, public -----------------------------------------------------------------------------


def test_poles_near_a_point_nearest_first(lamps):
    answer = _client().get(POLES, {"near": "5.9813,49.4735"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["type"] == "FeatureCollection"
    assert [f["id"] for f in body["features"]] == ["57038-001", "57038-002"]  # within 500 m
    assert (body["numberMatched"], body["numberReturned"]) == (2, 2)
    first = body["features"][0]
    assert first == {"type": "Feature", "id": "57038-001",
                     "geometry": {"type": "Point", "coordinates": [5.9812, 49.4734]},
                     "properties": {"number": "57038-001"}}  # fmt: skip
    # A number and a place, nothing else of the lamp.
    assert "Gare" not in answer.content.decode() and "status" not in answer.content.decode()
    closest = _client().get(POLES, {"near": "5.9830,49.4740", "limit": 1}).json()
    assert [f["id"] for f in closest["features"]] == ["57038-002"]
    assert closest["numberMatched"] == 2
    assert _client().get(POLES, {"near": "5.9813,49.4735", "radius": 10}).json()["features"] == []


def test_poles_in_a_box(lamps, citizen):
    box = {"bbox": "5.90,49.40,6.00,49.50", "near": "5.9290,49.4640"}
    answer = _client(citizen).get(POLES, box)  # public: any reader, signed in or not
    assert [f["id"] for f in answer.json()["features"]] == ["54580-001", "57038-001", "57038-002"]
    assert answer.json()["numberMatched"] == 3
    only_audun = _client().get(POLES, {"bbox": "5.975,49.47,5.99,49.48"}).json()
    assert {f["id"] for f in only_audun["features"]} == {"57038-001", "57038-002"}


def test_poles_bad_input(lamps):
    client = _client()
    for query in ({}, {"bbox": "5.9,49.4,6.0"}, {"bbox": "a,b,c,d"}, {"bbox": "6,49.5,5.9,49.4"},
                  {"bbox": "5,49,6,50"}, {"near": "5.98"}, {"near": "200,100"},
                  {"near": "nan,49.4"}, {"near": "5.98,49.47", "radius": 5000},
                  {"near": "5.98,49.47", "limit": 1000}):  # fmt: skip
        assert is_problem(client.get(POLES, query), 422), query
    assert is_problem(post(client, POLES, {"near": "5.98,49.47"}), 405)


def test_the_openapi_documents_the_endpoints():
    spec = json.loads(_client().get("/api/v1/openapi.json").content)
    for path in (URL, f"{URL}/{{repair_id}}", f"{URL}/{{repair_id}}/plan", POLES):
        assert path in spec["paths"], path
    assert "422" in spec["paths"][POLES]["get"]["responses"]
    assert "409" in spec["paths"][f"{URL}/{{repair_id}}/close"]["post"]["responses"]
    assert not spec["paths"][POLES]["get"].get("security")
