"""Map layers of the waste service: household bins, drop-point columns and centre skips,
each its own layer so agents switch them separately (hypervision's ``Layer`` registry).

They read the NGSI-LD index tables like every device layer (``EntityLayer``) and
narrow the WasteContainers by the device name's prefix (docs/waste.md). A container
at least ``FULL`` full has the status ``full`` (unless its device reports another).
To use them, list their dotted paths in ``ALZETTE_HYPERVISION_LAYERS`` (in place of
``hypervision.layers.WasteLayer``, which draws all containers in one layer).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision.layers import EntityLayer, Feature
from alzette.territory.waste.services import ENTITY_PREFIX

#: From this fill level on, a container shows as full.
FULL = 0.8


class _ContainersLayer(EntityLayer):
    theme = "waste"
    entity_types = ("WasteContainer",)
    value_attribute = "fillingLevel"
    #: Device name prefix of the layer's containers ("bin-").
    prefix = ""

    def entities(self) -> QuerySet:
        return super().entities().filter(entity_id__startswith=ENTITY_PREFIX + self.prefix)

    def _features(self, rows: QuerySet, commune: str | None = None) -> list[Feature]:
        found = super()._features(rows, commune)
        for item in found:
            properties = item["properties"]
            value = properties["value"]
            if not properties["status"] and isinstance(value, int | float) and value >= FULL:
                properties["status"] = "full"
        return found


class BinsLayer(_ContainersLayer):
    """Household bins (``bin-<insee>-<nnn>``) with their fill level."""

    slug = "waste-bins"
    title = _("Household bins")
    colour = "#7a4b00"
    prefix = "bin-"


class DropPointsLayer(_ContainersLayer):
    """Drop-point columns (``pav-<insee>-<nn>-<kind>``) with their fill level."""

    slug = "waste-droppoints"
    title = _("Drop points")
    colour = "#1d6b3a"
    prefix = "pav-"


class SkipsLayer(_ContainersLayer):
    """Skips of the recycling centres (``skip-<centre>-<n>``) with their fill level."""

    slug = "waste-skips"
    title = _("Recycling centre skips")
    colour = "#5b3a8c"
    prefix = "skip-"
