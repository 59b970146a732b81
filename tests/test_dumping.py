"""Illegal dumping, the domain: agents' reports, hot spots, interventions to closure."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.territory.events import services as events
from alzette.territory.events.models import TerritoryEvent
from alzette.territory.waste.dumping import hotspots, services
from alzette.territory.waste.dumping.models import AgentReport, Intervention, LedgerRecord
from alzette.territory.waste.dumping.services import Actor, ReportView
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

AUDUN = (5.9583, 49.4742)  # the town hall's square, Audun-le-Tiche (57038)
VILLERUPT = (5.9286, 49.4697)  # Villerupt (54580)
AGENT = Actor(agent=True, commune="57038", ref="a" * 32)


def _report(point=AUDUN, **extra) -> AgentReport:
    values = {"categories": ["bulky"], "observed_on": timezone.localdate(), "volume": "small",
              "actor": AGENT, **extra}  # fmt: skip
    return services.report(lon=point[0], lat=point[1], **values)


def _event(point=AUDUN, days_ago=0, ref="x") -> TerritoryEvent:
    return events.record_event(ref, "illegal_dump", point[0], point[1],
                               timezone.localdate() - timedelta(days=days_ago), "57038",
                               ["rubble"])  # fmt: skip


# --- Reports -------------------------------------------------------------------------------


def test_an_agent_report_is_placed_in_its_commune_and_recorded(territory):
    found = _report(VILLERUPT)
    assert found.commune_code == "54580"
    assert found.status == "open" and found.reported_by == AGENT.ref
    record = LedgerRecord.objects.using("territory").get(object_ref=f"dumping-report:{found.pk}")
    assert record.kind == "dumping.reported" and record.payload["commune"] == "54580"
    assert LedgerEntry.objects.using("ledger").filter(kind="dumping.reported").count() == 1


@pytest.mark.parametrize("point", [(6.2, 49.6), (0.0, 0.0), (200.0, 49.0)])
def test_a_report_outside_the_territory_is_refused(territory, point):
    with pytest.raises(services.OutsideTerritory):
        _report(point)
    assert AgentReport.objects.using("territory").count() == 0


def test_a_report_needs_a_known_category_and_no_future_day(territory):
    with pytest.raises(ValidationError):
        _report(categories=["photo"])
    with pytest.raises(ValidationError):
        _report(observed_on=timezone.localdate() + timedelta(days=1))
    assert AgentReport.objects.using("territory").count() == 0


def test_citizens_and_agents_reports_are_read_together(territory):
    _event(days_ago=3)
    _event(days_ago=200, ref="old")
    _report()
    found = services.recent(90)
    assert sorted(view.source for view in found) == ["agent", "citizen"]
    assert services.reports(commune="54580") == []
    assert len(services.reports()) == 3


def test_a_report_view_holds_no_photo_nor_free_text(territory):
    _event()
    for view in services.reports():
        keys = set(view.feature()["properties"])
        assert keys == {"kind", "source", "commune", "categories", "observed_on", "status"}


# --- Abilities ---------------------------------------------------------------------------


def test_abilities_by_role_and_commune():
    nobody, epci = Actor(), Actor(agent=True, commune=None)
    assert not any(services.abilities(nobody).values())
    assert services.abilities(AGENT, "57038")["close"]
    assert not services.abilities(AGENT, "54580")["close"]
    assert services.abilities(AGENT, "54580")["view"]
    assert services.abilities(epci, "54580")["close"]


# --- Hot spots -------------------------------------------------------------------------------


def _cluster(rng, lon, lat, n, spread_m=40, commune="57038", status="open"):
    views = []
    for i in range(n):
        dx = rng.uniform(-spread_m, spread_m) / (111_320 * 0.65)
        dy = rng.uniform(-spread_m, spread_m) / 111_320
        views.append(ReportView(f"report:{commune}-{lon}-{i}", "agent", lon + dx, lat + dy,
                                commune, ("bulky",), date(2026, 3, 1) + timedelta(days=i),
                                status))  # fmt: skip
    return views


def test_dbscan_finds_synthetic_clusters_and_leaves_noise_out():
    rng = random.Random(3)
    big = _cluster(rng, 5.958, 49.474, 8)
    small = _cluster(rng, 5.928, 49.469, 3, commune="54580", status="closed")
    noise = [ReportView(f"report:n{i}", "citizen", 5.90 + i * 0.02, 49.43, "57041", ("green",),
                        date(2026, 3, 2), "open") for i in range(4)]  # fmt: skip
    spots = hotspots.find(big + small + noise, metres=150, samples=3)
    assert [(spot.count, spot.commune) for spot in spots] == [(8, "57038"), (3, "54580")]
    first = spots[0]
    assert first.open_count == 8 and spots[1].open_count == 0
    assert first.first_seen == date(2026, 3, 1) and first.last_seen == date(2026, 3, 8)
    assert abs(first.lon - 5.958) < 0.001 and abs(first.lat - 49.474) < 0.001
    assert first.radius_m < 150


def test_points_farther_than_eps_are_not_a_hot_spot():
    views = [ReportView(f"report:{i}", "agent", 5.95 + i * 0.003, 49.47, "57038", ("bulky",),
                        date(2026, 3, 1), "open") for i in range(5)]  # fmt: skip
    # About 217 m apart: no hot spot at 150 m, one at 250 m.
    assert hotspots.find(views, metres=150, samples=3) == []
    assert len(hotspots.find(views, metres=250, samples=3)) == 1


def test_the_eps_setting_is_read(settings):
    settings.ALZETTE_DUMPING_HOTSPOT_METRES = 400
    settings.ALZETTE_DUMPING_HOTSPOT_MIN_SAMPLES = 5
    assert hotspots.eps_metres() == 400 and hotspots.min_samples() == 5


def test_hot_spots_of_the_store_over_recent_days(territory):
    for n in range(3):
        _event(days_ago=n, ref=f"e{n}")
    _report((AUDUN[0] + 0.0005, AUDUN[1]))
    [spot] = hotspots.hotspots(days=30)
    assert spot.count == 4 and spot.commune == "57038" and spot.open_count == 4
    assert hotspots.hotspots(days=30, commune="54580") == []


def test_the_density_grid_counts_reports_per_cell():
    views = _cluster(random.Random(1), 5.958, 49.474, 6, spread_m=5)
    cells = hotspots.density(views)
    assert sum(cell["count"] for cell in cells) == 6
    assert len(cells) <= 4  # 10 m around one point falls in at most four 100 m cells
    (south, west), (north, east) = cells[0]["bounds"]
    assert 80 < hotspots.distance_m(west, south, west, north) < 120
    assert 80 < hotspots.distance_m(west, south, east, south) < 120
    assert hotspots.density([]) == []


# --- Interventions ---------------------------------------------------------------------------


def test_an_intervention_on_an_agent_report_runs_to_closure(territory):
    found = _report()
    today = timezone.localdate()
    intervention = services.plan(f"report:{found.pk}", team="Équipe nord", planned_for=today,
                                 actor=AGENT)  # fmt: skip
    assert intervention.status == "planned" and intervention.commune_code == "57038"
    services.start(intervention, actor=AGENT)
    assert intervention.status == "in_progress" and intervention.started_at
    services.close(intervention, outcome="cleared", actor=AGENT)
    intervention.refresh_from_db()
    assert intervention.status == "done" and intervention.closed_by == AGENT.ref
    found.refresh_from_db()
    assert found.status == "closed" and found.closed_on == today
    kinds = LedgerRecord.objects.using("territory").filter(kind="dumping.intervention_changed")
    assert [record.payload["status"] for record in kinds] == ["planned", "in_progress", "done"]


def test_closing_an_intervention_closes_the_citizen_event_and_the_bridge_agrees(territory):
    event = _event(ref="source-1")
    today = timezone.localdate()
    intervention = services.plan(f"event:{event.pk}", team="Voirie", planned_for=today,
                                 actor=AGENT)  # fmt: skip
    services.close(intervention, outcome="cleared", actor=AGENT)
    event.refresh_from_db()
    assert event.status == "closed" and event.closed_on == timezone.localdate()
    # The bridge closing the same event later (its file decided) changes nothing.
    assert events.close_event("source-1", timezone.localdate() + timedelta(days=2)) is False
    event.refresh_from_db()
    assert event.closed_on == timezone.localdate()


def test_an_event_the_bridge_closed_cannot_get_a_new_intervention(territory):
    event = _event(ref="source-2")
    events.close_event("source-2", timezone.localdate())
    with pytest.raises(services.TransitionError):
        services.plan(
            f"event:{event.pk}", team="Voirie", planned_for=timezone.localdate(), actor=AGENT
        )


def test_transitions_that_make_no_sense_are_refused(territory):
    found = _report()
    intervention = services.plan(f"report:{found.pk}", team="A", planned_for=timezone.localdate(),
                                 actor=AGENT)  # fmt: skip
    with pytest.raises(ValidationError):
        services.close(intervention, outcome="burnt", actor=AGENT)
    services.cancel(intervention, actor=AGENT)
    with pytest.raises(services.TransitionError):
        services.start(intervention, actor=AGENT)
    with pytest.raises(services.TransitionError):
        services.close(intervention, outcome="cleared", actor=AGENT)
    found.refresh_from_db()
    assert found.status == "open"  # a cancelled intervention leaves its report open


def test_planning_needs_a_known_open_report_and_a_team(territory):
    with pytest.raises(ValidationError):
        services.plan("report:00000000-0000-0000-0000-000000000000", team="A",
                      planned_for=timezone.localdate(), actor=AGENT)  # fmt: skip
    with pytest.raises(ValidationError):
        services.plan("nonsense", team="A", planned_for=timezone.localdate(), actor=AGENT)
    found = _report()
    with pytest.raises(ValidationError):
        services.plan(
            f"report:{found.pk}", team="  ", planned_for=timezone.localdate(), actor=AGENT
        )
    assert Intervention.objects.using("territory").count() == 0


def test_an_intervention_has_exactly_one_target(territory):
    found, event = _report(), _event()
    both = Intervention(event=event, report=found, commune_code="57038", team="A",
                        planned_for=timezone.localdate(), planned_by="p")  # fmt: skip
    with pytest.raises(ValidationError):
        both.save()


# --- The hypervision map layer -------------------------------------------------------------


def test_the_layer_registers_and_gives_open_reports_and_hot_spots(territory, settings):
    from alzette.territory.hypervision import layers as registry
    from alzette.territory.waste.dumping.layers import DumpingLayer

    assert "alzette.territory.waste.dumping.layers.DumpingLayer" in registry.HYPERVISION_LAYERS
    registry.reload()
    try:
        layer = registry.layers()["dumping"]
    finally:
        registry.reload()
    assert isinstance(layer, DumpingLayer)
    for n in range(3):
        _event(ref=f"s{n}")
    closed = _report((VILLERUPT[0], VILLERUPT[1]))
    closed.status = "closed"
    closed.save()
    found = layer.features()
    assert sorted(f["properties"]["name"] for f in found) == ["citizen"] * 3 + ["hotspot"]
    spot = next(f for f in found if f["properties"]["name"] == "hotspot")
    assert spot["properties"]["value"] == 3 and spot["properties"]["commune"] == "57038"
    assert layer.features("54580") == [] and layer.count() == 3
    for item in found:  # the map's compact properties only: no photo, no text
        assert set(item["properties"]) <= {"id", "layer", "name", "theme", "value", "status",
                                           "commune", "observedAt"}  # fmt: skip


def test_the_layer_changes_mark_closed_reports_gone(territory):
    from alzette.territory.waste.dumping.layers import DumpingLayer

    layer = DumpingLayer()
    since = timezone.now()
    assert layer.changes(since) == []
    found = _report()
    intervention = services.plan(f"report:{found.pk}", team="A", planned_for=timezone.localdate(),
                                 actor=AGENT)  # fmt: skip
    services.close(intervention, outcome="cleared", actor=AGENT)
    [change] = layer.changes(since)
    assert change["id"] == f"report:{found.pk}" and change["properties"]["gone"] is True
    assert layer.changes(timezone.now()) == []
