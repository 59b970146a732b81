"""Map layers of the water network for the hypervision (``Layer`` registry).

``DistrictMetersLayer`` draws the districts' inflow meters with their instantaneous
flow (L/h), status ``leak`` when their last night minimum was above the district's
threshold; ``WaterSensorsLayer`` the pressure and quality sensors. To use them, list
their dotted paths in ``ALZETTE_HYPERVISION_LAYERS`` (in place of
``hypervision.layers.WaterLayer``). Household meters are never drawn.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision.layers import EntityLayer, Feature
from alzette.territory.water import services


class DistrictMetersLayer(EntityLayer):
    slug = "water-districts"
    title = _("Water district meters")
    theme = "water"
    colour = "#1d4f91"
    entity_types = ("WaterConsumptionObserved",)
    value_attribute = "flow"

    def entities(self) -> QuerySet:
        return super().entities().filter(entity_id__startswith=services.INFLOW_PREFIX)

    def _features(self, rows: QuerySet, commune: str | None = None) -> list[Feature]:
        from alzette.territory.water.models import District

        found = super()._features(rows, commune)
        limits = dict(
            District.objects.using(services.DB).values_list("inflow_entity", "night_flow_threshold")
        )
        for item in found:
            properties = item["properties"]
            body = services.body_of(item["id"]) or {}
            night = services.value(body, "minFlow")
            limit = limits.get(item["id"])
            if not properties["status"] and limit and isinstance(night, int | float):
                properties["status"] = "leak" if night > limit else "ok"
        return found


class WaterSensorsLayer(EntityLayer):
    slug = "water-sensors"
    title = _("Water pressure and quality sensors")
    theme = "water"
    colour = "#3a6fb0"
    entity_types = ("DeviceMeasurement", "WaterQualityObserved")
    value_attribute = "numValue"

    def entities(self) -> QuerySet:
        return (
            super()
            .entities()
            .filter(
                Q(entity_id__startswith=services.PRESSURE_PREFIX)
                | Q(entity_id__startswith=services.QUALITY_PREFIX)
            )
        )
