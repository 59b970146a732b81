"""The agents' dumping pages: map and tables, the report form, interventions; good and
bad input, the wrong role, and no photo or citizen's free text ever shown."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.territory.events import services as events
from alzette.territory.waste.dumping import services
from alzette.territory.waste.dumping.models import AgentReport, Intervention
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
AUDUN = (5.9583, 49.4742)
VILLERUPT = (5.9286, 49.4697)
PAGES = ["/hypervision/dumping/", "/hypervision/dumping/reports/new/",
         "/hypervision/dumping/interventions/"]  # fmt: skip


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _event(ref="e", point=AUDUN, commune="57038"):
    return events.record_event(ref, "illegal_dump", point[0], point[1], timezone.localdate(),
                               commune, ["bulky"])  # fmt: skip


def _form(**extra):
    return {
        "lat": AUDUN[1],
        "lon": AUDUN[0],
        "categories": ["bulky", "green"],
        "volume": "medium",
        "observed_on": timezone.localdate().isoformat(),
        **extra,
    }


# --- Who may see -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_agents_see_the_pages(agent_audun, path):
    assert _client(agent_audun).get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_citizens_and_partners_are_refused(citizen, partner, path):
    assert _client(citizen).get(path).status_code == 403
    assert _client(partner).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_visitors_are_sent_to_log_in(path):
    response = Client().get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_citizen_cannot_post_a_report(citizen, territory):
    assert _client(citizen).post("/hypervision/dumping/reports/new/", _form()).status_code == 403
    assert AgentReport.objects.using(DB).count() == 0


# --- The map page --------------------------------------------------------------------------


def test_the_map_page_has_features_grid_hot_spots_and_tables(agent_epci, territory):
    for n in range(3):
        _event(f"e{n}")
    response = _client(agent_epci).get("/hypervision/dumping/")
    context = response.context
    assert context["total"] == 3 and len(context["spots"]) == 1
    kinds = [feature["properties"]["kind"] for feature in context["features"]["features"]]
    assert sorted(kinds) == ["hotspot", "report", "report", "report"]
    assert sum(cell["count"] for cell in context["grid"]) == 3
    page = response.content.decode()
    assert 'id="dumping-features"' in page and 'id="hotspots"' in page
    assert page.count('data-ref="event:') == 3


def test_the_period_is_chosen_and_a_bad_one_falls_back(agent_epci, territory):
    events.record_event("old", "illegal_dump", *AUDUN, timezone.localdate() - timedelta(days=200),
                        "57038", ["bulky"])  # fmt: skip
    client = _client(agent_epci)
    assert client.get("/hypervision/dumping/?days=365").context["total"] == 1
    assert client.get("/hypervision/dumping/?days=30").context["total"] == 0
    response = client.get("/hypervision/dumping/?days=nonsense")
    assert response.status_code == 200 and response.context["days"] == 90


# --- The report form -------------------------------------------------------------------------


def test_an_agent_reports_a_dump_then_plans_its_intervention(agent_audun, territory):
    client = _client(agent_audun)
    response = client.post("/hypervision/dumping/reports/new/", _form())
    found = AgentReport.objects.using(DB).get()
    assert found.commune_code == "57038" and found.reported_by == agent_audun.pseudonym
    assert response.status_code == 302 and f"target=report:{found.pk}" in response["Location"]
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("bad", [
    {"lat": "49.6", "lon": "6.2"},  # Luxembourg, outside the territory
    {"lat": "north"},
    {"lat": "95"},
    {"categories": []},
    {"categories": ["photo"]},
    {"volume": "huge"},
    {"observed_on": "2999-01-01"},
])  # fmt: skip
def test_bad_reports_are_explained_and_nothing_is_stored(agent_audun, territory, bad):
    response = _client(agent_audun).post("/hypervision/dumping/reports/new/", _form(**bad))
    assert response.status_code == 400
    assert response.context["form"].errors
    assert AgentReport.objects.using(DB).count() == 0


# --- Interventions ---------------------------------------------------------------------------


def test_an_intervention_is_planned_started_and_closed_through_the_pages(agent_audun, territory):
    event = _event()
    client = _client(agent_audun)
    today = timezone.localdate().isoformat()
    response = client.post(
        "/hypervision/dumping/interventions/new/",
        {"target": f"event:{event.pk}", "team": "Voirie", "planned_for": today},
    )
    intervention = Intervention.objects.using(DB).get()
    assert response["Location"] == f"/hypervision/dumping/interventions/{intervention.pk}/"
    base = response["Location"]
    assert client.get(base).status_code == 200
    assert client.post(base + "start/").status_code == 302
    assert client.post(base + "close/", {"outcome": "nonsense"}).status_code == 400
    assert client.post(base + "close/", {"outcome": "cleared"}).status_code == 302
    intervention.refresh_from_db()
    event.refresh_from_db()
    assert (intervention.status, intervention.outcome, event.status) == (
        "done",
        "cleared",
        "closed",
    )
    assert client.post(base + "start/").status_code == 409  # already closed
    listed = client.get("/hypervision/dumping/interventions/?status=done")
    assert len(listed.context["interventions"]) == 1
    assert client.get("/hypervision/dumping/interventions/?status=planned").context[
        "interventions"] == []  # fmt: skip


def test_planning_refuses_bad_input(agent_audun, territory):
    event = _event()
    client = _client(agent_audun)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        "/hypervision/dumping/interventions/new/",
        {"target": f"event:{event.pk}", "team": "", "planned_for": yesterday},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"team", "planned_for"}
    assert (
        client.get("/hypervision/dumping/interventions/new/?target=event:nope").status_code == 404
    )
    assert client.get("/hypervision/dumping/interventions/new/").status_code == 404
    assert client.get("/hypervision/dumping/interventions/"
                      "00000000-0000-0000-0000-000000000000/").status_code == 404  # fmt: skip
    assert Intervention.objects.using(DB).count() == 0


def test_a_commune_agent_cannot_act_on_another_commune(agent_villerupt, agent_audun, territory):
    event = _event()
    client = _client(agent_villerupt)
    assert client.get(f"/hypervision/dumping/interventions/new/?target=event:{event.pk}"
                      ).status_code == 403  # fmt: skip
    actor = services.actor_of(agent_audun)
    intervention = services.plan(f"event:{event.pk}", team="A", planned_for=timezone.localdate(),
                                 actor=actor)  # fmt: skip
    base = f"/hypervision/dumping/interventions/{intervention.pk}/"
    assert client.get(base).status_code == 200  # seen, but no follow-up form
    assert 'action="' + base + 'close/"' not in client.get(base).content.decode()
    assert client.post(base + "close/", {"outcome": "cleared"}).status_code == 403
    assert client.post(base + "cancel/").status_code == 403
    intervention.refresh_from_db()
    assert intervention.status == "planned"


def test_citizens_cannot_touch_interventions(citizen, agent_audun, territory):
    event = _event()
    intervention = services.plan(f"event:{event.pk}", team="A", planned_for=timezone.localdate(),
                                 actor=services.actor_of(agent_audun))  # fmt: skip
    client = _client(citizen)
    base = f"/hypervision/dumping/interventions/{intervention.pk}/"
    assert client.get(base).status_code == 403
    assert client.post(base + "cancel/").status_code == 403
    assert client.get(base + "cancel/").status_code in (403, 405)


# --- Nothing private leaks -----------------------------------------------------------------


FREE_TEXT = "Le voisin du 12 rue Jaurès, M. Dupont, a jeté ces gravats"


def test_no_page_layer_or_feature_exposes_a_photo_or_free_text(
    agent_epci, procedures, citizen, django_capture_on_commit_callbacks
):
    """A citizen files a report with details; the bridge publishes its event; nothing of
    the text (nor of a photo) reaches the agents' pages or the map's features."""
    from alzette.personal.procedures import services as procedure_services
    from alzette.territory.events.models import TerritoryEvent

    dossier = procedure_services.start(citizen, procedures["signalement-depot-sauvage"])
    answers = {"where": {"lon": AUDUN[0], "lat": AUDUN[1]}, "kind": ["rubble"],
               "commune": "57038", "details": FREE_TEXT}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        procedure_services.submit(citizen, dossier.pk, answers)
    event = TerritoryEvent.objects.using(DB).get()
    client = _client(agent_epci)
    intervention = services.plan(f"event:{event.pk}", team="A", planned_for=timezone.localdate(),
                                 actor=services.actor_of(agent_epci))  # fmt: skip
    bodies = [client.get(path).content.decode() for path in [
        *PAGES, f"/hypervision/dumping/interventions/{intervention.pk}/",
        f"/hypervision/dumping/interventions/new/?target=event:{event.pk}"]]  # fmt: skip
    bodies.append(json.dumps([view.feature() for view in services.reports()]))
    for body in bodies:
        for secret in (
            FREE_TEXT,
            "Dupont",
            "Jaurès",
            citizen.email,
            citizen.pseudonym,
            dossier.reference,
            "<img",
            "/files/",
        ):
            assert secret not in body
    assert "photo" not in bodies[-1] and "details" not in bodies[-1]
    for model in (AgentReport, Intervention):
        names = {field.name for field in model._meta.get_fields()}
        assert not names & {"photo", "image", "details", "comment", "description", "text", "notes"}
