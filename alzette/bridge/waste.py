"""From households' bin lifts to k-anonymous monthly figures per commune (``BinLifts``).

What crosses: per commune (the household's) and month, how many households had a
bin lifted (the subjects), how many lifts and how many kilograms. What never
crosses: which household, its bins, its members, a single lift. A household
counts once per cell whatever its number of lifts; a cell of fewer than k
households is suppressed (docs/bridge.md). One household's sums are bounded, so the
spec can also be released under differential privacy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from django.utils import timezone

from alzette.bridge.aggregates import AggregateSpec, Measure, Row, release
from alzette.personal.households.models import HouseholdLift

#: The catalogue identifier of the demo open dataset fed by this spec.
DATASET = "levees-bacs-menages"


class BinLifts(AggregateSpec):
    """Bin lifts per commune and month of lifting; the subjects are the households."""

    name: ClassVar[str] = "bin-lifts"
    label: ClassVar[str] = "Household bins: lifts and weight per commune and month"
    # A household's bin is lifted at most about weekly (5 a month); 10 leaves room for
    # extra collections. 400 kg a month bounds one household's weight.
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("lifts", "sum", bound=10),
        Measure("weight_kg", "sum", bound=400),
        Measure("mean_weight_kg", "mean"),
    )

    def rows(self) -> Iterator[Row]:
        found = HouseholdLift.objects.values_list(
            "household__commune_code", "household_id", "lifted_at", "weight_kg"
        )
        for commune, household, lifted_at, weight in found.iterator(2000):
            month = timezone.localtime(lifted_at).strftime("%Y-%m")
            values = {"lifts": 1, "weight_kg": weight or 0, "mean_weight_kg": weight}
            yield Row(commune, month, household, values)


def publish() -> int:
    """Release the lifts' aggregates now (k-anonymous); the number of cells released."""
    return release(BinLifts()).released


def ensure_demo_dataset() -> dict[str, Any]:
    """Release ``bin-lifts`` and publish it as the open dataset ``levees-bacs-menages``
    (idempotent; needs the demo catalogue's organisation ``ccphva``)."""
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
            title={"fr": "Levées des bacs des ménages par commune et par mois",
                   "en": "Household bin lifts per municipality and month"},
            description={"fr": "Nombre de ménages, de levées et poids collecté, par commune "
                               "et par mois ; cellules de moins de 10 ménages supprimées.",
                         "en": "Households, lifts and weight collected per municipality and "
                               "month; cells of fewer than 10 households suppressed."},
            themes=["ENVI"],
            keywords=["déchets", "redevance incitative", "collecte"],
            frequency="MONTHLY",
            source="bridge-aggregates",
            source_options={"spec": BinLifts.name},
        )  # fmt: skip
    catalogue.refresh(dataset)
    return {"released": released, "dataset": dataset.identifier}
