"""Open data from the anonymisation bridge's aggregate releases (docs/bridge.md).

``bridge-aggregates`` serves the cells the bridge last released for one aggregate
spec (option ``spec``): each describes at least k households or accounts, and may
carry differential-privacy noise. It reads only the territory repository; which
measures a spec has is read from its latest release, never from the bridge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from alzette.territory.catalogue.sources import Field, Record, Source, SourceError

if TYPE_CHECKING:
    from alzette.territory.catalogue.models import Dataset

_SPEC = re.compile(r"[a-z][a-z0-9-]{0,59}")
_CHUNK = 1000


class BridgeAggregates(Source):
    """The cells of one aggregate spec: commune, period, category, subjects, measures."""

    key: ClassVar[str] = "bridge-aggregates"
    label: ClassVar[str] = "Aggregates released by the anonymisation bridge (k-anonymous)"

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        spec = options.get("spec")
        if set(options) != {"spec"} or not isinstance(spec, str) or not _SPEC.fullmatch(spec):
            raise SourceError('The source bridge-aggregates takes {"spec": "<aggregate name>"}.')
        return {"spec": spec}

    def fields(self, dataset: Dataset) -> list[Field]:
        from alzette.territory.events import services

        release = services.latest_release(dataset.source_options["spec"])
        measures = release.measures if release else []
        return [Field("commune", "string", "INSEE code"), Field("period"),
                Field("category", "string", "empty: every category"),
                Field("subjects", "integer", "distinct households or accounts (at least k)"),
                *(Field(m["name"], m["type"]) for m in measures)]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:
        from alzette.territory.events import services

        cells = services.aggregates(dataset.source_options["spec"])
        for cell in cells.iterator(_CHUNK):
            values = {"commune": cell.commune_code, "period": cell.period,
                      "category": cell.category, "subjects": cell.subjects,
                      **cell.measures}  # fmt: skip
            yield Record(f"{cell.commune_code}/{cell.period}/{cell.category}", values)
