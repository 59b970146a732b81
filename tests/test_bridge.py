"""The anonymisation bridge: reports become events without their reporter, files
become aggregates; the territory API serves the events."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from alzette.bridge.procedures import source_ref
from alzette.personal.procedures import services
from alzette.territory.events.models import ProcedureStatistic, TerritoryEvent
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

REPORT = {
    "where": {"lat": 49.473412, "lon": 5.981234},
    "commune": "57038",
    "kind": ["bulky", "rubble"],
    "details": "Derrière le garage de M. Dupont, 3 rue des Lilas",
}


def _report(user, procedures, django_capture_on_commit_callbacks):
    dossier = services.start(user, procedures["signalement-depot-sauvage"])
    with django_capture_on_commit_callbacks(execute=True):
        return services.submit(user, dossier.pk, REPORT)


def test_a_report_becomes_an_anonymous_event(
    citizen, procedures, django_capture_on_commit_callbacks
):
    dossier = _report(citizen, procedures, django_capture_on_commit_callbacks)
    event = TerritoryEvent.objects.get()
    assert (event.kind, event.commune_code, event.categories) == (
        "illegal_dump",
        "57038",
        ["bulky", "rubble"],
    )
    assert (event.lat, event.lon) == (49.4734, 5.9812)
    assert event.source_ref == source_ref(dossier) and str(dossier.pk) not in event.source_ref
    stored = json.dumps([str(value) for value in TerritoryEvent.objects.values().get().values()])
    for secret in (citizen.email, citizen.pseudonym, dossier.reference, "Dupont", str(dossier.pk)):
        assert secret not in stored


def test_deciding_the_report_closes_the_event(
    citizen, procedures, agent_audun, django_capture_on_commit_callbacks
):
    dossier = _report(citizen, procedures, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.take(agent_audun, dossier.pk)
        services.decide(agent_audun, dossier.pk, "accept", "Enlevé le 2 décembre")
    event = TerritoryEvent.objects.get()
    assert event.status == "closed" and event.closed_on is not None


def test_other_procedures_create_no_event(citizen, procedures, django_capture_on_commit_callbacks):
    from tests.test_procedures import CRECHE

    dossier = services.start(citizen, procedures["preinscription-creche"])
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(citizen, dossier.pk, CRECHE)
    assert not TerritoryEvent.objects.exists()


def test_the_territory_api_serves_events_as_geojson(procedures, django_capture_on_commit_callbacks):
    _report(None, procedures, django_capture_on_commit_callbacks)
    client = Client()
    body = client.get("/api/v1/territory/events?kind=illegal_dump&commune=57038").json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 1
    assert body["features"][0]["geometry"] == {"type": "Point", "coordinates": [5.9812, 49.4734]}
    assert client.get("/api/v1/territory/events?commune=54580").json()["features"] == []
    bad = client.get("/api/v1/territory/events?commune=Paris")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")


def test_statistics_cross_as_aggregates(
    citizen, procedures, django_capture_on_commit_callbacks, settings
):
    settings.ALZETTE_BRIDGE_K = 2  # the citizen and the anonymous reporter (k-anonymity)
    _report(citizen, procedures, django_capture_on_commit_callbacks)
    _report(None, procedures, django_capture_on_commit_callbacks)
    call_command("bridge", "statistics")
    row = ProcedureStatistic.objects.get()
    assert (row.procedure, row.commune_code, row.filed, row.decided) == (
        "signalement-depot-sauvage",
        "57038",
        2,
        0,
    )
