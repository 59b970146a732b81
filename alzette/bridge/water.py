"""From households' daily water use to k-anonymous monthly figures per commune and
household-size band (``WaterUse``).

What crosses: per commune (the household's), month and size band (persons: 1, 2,
3-4, 5+, from the household's meter allocation that day), how many households had
readings (the subjects), how many litres they used, and the mean litres per day and
per person per day. A total per commune and month (every band) is released too.
What never crosses: which household, its meter, its members, a day's or an hour's
reading. A cell of fewer than k households is suppressed, and more cells wherever a
suppressed band could be recomputed from the total (docs/bridge.md). One household's
monthly litres are bounded, so the spec can also be released under differential
privacy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any, ClassVar

from alzette.bridge.aggregates import AggregateSpec, Measure, Row, release
from alzette.personal.homewater.models import DailyUse, MeterAllocation
from alzette.personal.homewater.services import band_of

#: The catalogue identifier of the demo open dataset fed by this spec.
DATASET = "consommation-eau-menages"


class WaterUse(AggregateSpec):
    """Household water use per commune, month and size band; the subjects are the
    households."""

    name: ClassVar[str] = "water-use"
    label: ClassVar[str] = "Household water: litres per commune, month and household size"
    categorised: ClassVar[bool] = True
    # 60 m³ a month bounds one household (a family of six at 300 L a day each is 54 m³).
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("litres", "sum", bound=60_000),
        Measure("litres_per_day", "mean", digits=0),
        Measure("litres_per_person_day", "mean", digits=0),
    )

    def rows(self) -> Iterator[Row]:
        allocations: dict[Any, list[MeterAllocation]] = defaultdict(list)
        for allocation in MeterAllocation.objects.all():
            allocations[allocation.household_id].append(allocation)
        found = DailyUse.objects.values_list(
            "household__commune_code", "household_id", "day", "litres"
        ).order_by("household_id", "day")
        for commune, household, day, litres in found.iterator(2000):
            held = [a for a in allocations.get(household, ()) if a.holds_on(day)]
            persons = held[0].persons if held else 1
            values = {
                "litres": litres,
                "litres_per_day": litres,
                "litres_per_person_day": litres / persons,
            }
            yield Row(commune, day.strftime("%Y-%m"), household, values, band_of(persons))


def publish() -> int:
    """Release the water-use aggregates now (k-anonymous); the number of cells released."""
    return release(WaterUse()).released


def ensure_demo_dataset() -> dict[str, Any]:
    """Release ``water-use`` and publish it as the open dataset
    ``consommation-eau-menages`` (idempotent; needs the demo catalogue's organisation
    ``ccphva``)."""
    from alzette.territory.catalogue import services as catalogue
    from alzette.territory.catalogue.models import Dataset, Organisation
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    released = publish()
    dataset = Dataset.objects.using("territory").filter(identifier=DATASET).first()
    if dataset is None:
        organisation = Organisation.objects.using("territory").get(slug="ccphva")
        communes = TerritorialUnit.objects.using("territory").filter(kind=UnitKind.COMMUNE)
        dataset = catalogue.publish(
            organisation,
            DATASET,
            licence="etalab-2.0",
            contact_email="opendata@ccphva.example",
            communes=sorted(communes.values_list("code", flat=True)),
            actor="system:demo",
            title={"fr": "Consommation d'eau des ménages par commune, mois et taille du ménage",
                   "en": "Household water use per municipality, month and household size"},
            description={"fr": "Nombre de ménages, litres consommés, litres par jour et par "
                               "personne et par jour, par commune, mois et taille du ménage "
                               "(1, 2, 3-4, 5 personnes et plus) ; cellules de moins de 10 "
                               "ménages supprimées.",
                         "en": "Households, litres used, litres per day and per person per "
                               "day, per municipality, month and household size (1, 2, 3-4, "
                               "5 persons or more); cells of fewer than 10 households "
                               "suppressed."},
            themes=["ENVI"],
            keywords=["eau", "consommation", "compteurs communicants"],
            frequency="MONTHLY",
            source="bridge-aggregates",
            source_options={"spec": WaterUse.name},
        )  # fmt: skip
    catalogue.refresh(dataset)
    return {"released": released, "dataset": dataset.identifier}
