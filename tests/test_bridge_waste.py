"""The bridge's ``bin-lifts`` spec: per commune and month, k households or nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import timezone

from alzette.bridge.aggregates import release
from alzette.bridge.waste import BinLifts
from alzette.personal.households import services
from alzette.personal.households.models import Household, HouseholdLift
from alzette.territory.events.models import Aggregate, AggregateRelease
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

_ids = iter(range(1, 100_000))


def _households(commune: str, count: int, month: int, lifts: int = 2, weight: float = 10.0) -> list:
    """``count`` households of ``commune``, each with ``lifts`` lifts in ``month``."""
    tz = timezone.get_current_timezone()
    made = []
    for n in range(count):
        household = services.create_household(commune, f"H-{commune}-{next(_ids)}")
        for day in range(lifts):
            HouseholdLift.objects.create(
                household=household,
                bin_id=f"urn:ngsi-ld:WasteContainer:bin-{commune}-{n:03d}",
                lifted_at=datetime(2026, month, 1 + day % 28, 7, tzinfo=tz),
                weight_kg=weight,
                lift_id=next(_ids),
            )
        made.append(household)
    return made


def test_cells_of_fewer_than_k_households_are_suppressed(settings):
    settings.ALZETTE_BRIDGE_K = 10
    _households("57038", 12, 3)
    _households("54580", 9, 3, lifts=4)  # 36 lifts, but 9 households
    _households("57038", 5, 4)
    outcome = release(BinLifts())
    assert outcome.released == 1
    cell = Aggregate.objects.using("territory").get(spec="bin-lifts")
    assert (cell.commune_code, cell.period, cell.subjects) == ("57038", "2026-03", 12)
    assert cell.measures == {"lifts": 24, "weight_kg": 240, "mean_weight_kg": 10.0}
    assert AggregateRelease.objects.using("territory").get(spec="bin-lifts").cells_suppressed == 2


def test_a_household_counts_once_however_many_lifts(settings):
    settings.ALZETTE_BRIDGE_K = 10
    _households("57038", 1, 3, lifts=30)
    _households("57038", 8, 3)
    assert release(BinLifts()).released == 0  # 9 households, 46 lifts


def test_nothing_identifying_crosses(settings):
    settings.ALZETTE_BRIDGE_K = 2
    made = _households("57038", 3, 3)
    release(BinLifts())
    published = str(list(Aggregate.objects.using("territory").values()))
    published += str(list(AggregateRelease.objects.using("territory").values()))
    for household in made:
        assert str(household.pk) not in published and household.reference not in published
    assert "bin-57038" not in published


def test_the_demo_releases_cells_of_at_least_k_and_publishes_them(territory, settings):
    from alzette.bridge.waste import DATASET, ensure_demo_dataset
    from alzette.personal.households.demo import ensure_demo_households
    from alzette.territory.catalogue import downloads
    from alzette.territory.catalogue.models import Dataset, Organisation

    settings.ALZETTE_BRIDGE_K = 10
    Organisation.objects.using("territory").create(slug="ccphva", name="CCPHVA")
    ensure_demo_households(today=date(2026, 6, 30))
    outcome = ensure_demo_dataset()
    assert outcome["released"] >= 6  # two communes, six months
    cells = Aggregate.objects.using("territory").filter(spec="bin-lifts")
    assert all(cell.subjects >= 10 for cell in cells)
    assert {cell.commune_code for cell in cells} == {"57038", "54580"}
    assert Household.objects.count() == 41
    dataset = Dataset.objects.using("territory").get(identifier=DATASET)
    text = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig")
    assert text.splitlines()[0] == "commune,period,category,subjects,lifts,weight_kg,mean_weight_kg"
    assert ensure_demo_dataset()["dataset"] == DATASET  # idempotent
