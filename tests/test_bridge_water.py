"""The bridge's ``water-use`` spec: per commune, month and size band, k households or
nothing; nothing identifying crosses."""

from __future__ import annotations

from datetime import date

import pytest

from alzette.bridge.aggregates import release
from alzette.bridge.water import WaterUse
from alzette.personal.homewater import services
from alzette.personal.homewater.models import DailyUse
from alzette.personal.households.services import create_household
from alzette.territory.events.models import Aggregate
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

_ids = iter(range(1, 100_000))


def _households(commune: str, count: int, persons: int, litres: int = 200, days: int = 3):
    made = []
    for _n in range(count):
        n = next(_ids)
        household = create_household(commune, f"H-{commune}-{n}")
        services.allocate_meter(household, f"W26-{n:06d}", "system:test",
                                starts_on=date(2026, 1, 1), persons=persons)  # fmt: skip
        for day in range(days):
            DailyUse.objects.create(household=household, day=date(2026, 3, 1 + day), litres=litres)
        made.append(household)
    return made


def test_bands_of_fewer_than_k_households_are_suppressed_with_their_complement(settings):
    settings.ALZETTE_BRIDGE_K = 5
    _households("57038", 6, 2, litres=300)
    _households("57038", 3, 1)
    _households("54580", 4, 2)
    outcome = release(WaterUse())
    cells = {
        (c.commune_code, c.category): c for c in Aggregate.objects.using("territory").filter(
            spec="water-use")
    }  # fmt: skip
    # 57038: band "2" (6) and the total (9) pass; band "1" (3) is suppressed, and the
    # total minus band "2" would give it away: band "2" is suppressed too.
    assert ("57038", "1") not in cells and ("54580", "") not in cells
    assert set(cells) == {("57038", "")}
    total = cells[("57038", "")]
    assert total.subjects == 9
    assert total.measures["litres"] == 6 * 3 * 300 + 3 * 3 * 200
    assert outcome.suppressed == 4


def test_a_released_band_carries_litres_per_person(settings):
    settings.ALZETTE_BRIDGE_K = 3
    _households("57038", 3, 2, litres=300)
    _households("57038", 3, 4, litres=600)
    release(WaterUse())
    cell = Aggregate.objects.using("territory").get(spec="water-use", category="2")
    assert cell.period == "2026-03" and cell.subjects == 3
    assert cell.measures == {"litres": 2700, "litres_per_day": 300.0,
                             "litres_per_person_day": 150.0}  # fmt: skip
    assert Aggregate.objects.using("territory").get(spec="water-use", category="3-4").subjects == 3


def test_nothing_identifying_crosses(settings):
    settings.ALZETTE_BRIDGE_K = 2
    made = _households("57038", 3, 2)
    release(WaterUse())
    published = str(list(Aggregate.objects.using("territory").values()))
    for household in made:
        assert str(household.pk) not in published and household.reference not in published
    assert "W26-" not in published


def test_the_demo_dataset_is_published(units, settings):
    from alzette.bridge.water import DATASET, ensure_demo_dataset
    from alzette.personal.accounts.services import ensure_demo_accounts
    from alzette.personal.homewater.demo import ensure_demo_homewater
    from alzette.personal.households.demo import ensure_demo_households
    from alzette.territory.catalogue import downloads
    from alzette.territory.catalogue.models import Dataset, Organisation

    settings.ALZETTE_BRIDGE_K = 10
    Organisation.objects.using("territory").get_or_create(
        slug="ccphva", defaults={"name": "CCPHVA"}
    )
    ensure_demo_accounts()
    ensure_demo_households()
    ensure_demo_homewater()
    outcome = ensure_demo_dataset()
    assert outcome["released"] >= 2
    cells = Aggregate.objects.using("territory").filter(spec="water-use")
    assert all(cell.subjects >= 10 for cell in cells)
    dataset = Dataset.objects.using("territory").get(identifier=DATASET)
    text = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "commune,period,category,subjects,litres,litres_per_day,litres_per_person_day"
    )
    assert ensure_demo_dataset()["dataset"] == DATASET
