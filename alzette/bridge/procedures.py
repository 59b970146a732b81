"""From online procedures to the territory: reports become anonymised events, files
become monthly k-anonymous aggregates (``ProcedureFiles``).

What crosses, for a report mapped in ``EVENT_PROCEDURES``: the kind of event, the
ticked categories, the commune, the map point rounded to about ten metres and the
day; for a report about an asset (a streetlight), the asset's entity id, and the
asset's own location and commune instead of a point the citizen placed. What never
crosses: who reported (even an account), free text, photos, the file's reference.
The event is found again (to close it) through a keyed pseudonym of the file's id
(``pseudonyms``), which cannot be reversed without the bridge's key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.urls import reverse_lazy
from django.utils import timezone

from alzette.bridge.aggregates import AggregateSpec, Measure, Row, release
from alzette.bridge.pseudonyms import pseudonym
from alzette.personal.procedures import presenters, schema
from alzette.personal.procedures.models import Dossier, Status
from alzette.territory.events import services as events

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventMapping:
    kind: str
    point_field: str
    category_field: str = ""
    commune_field: str = ""
    #: A field naming a territory asset (a streetlight's number): its entity id crosses.
    asset_field: str = ""


#: The broken-light report's kind of event (``lighting.repairs.models.EVENT_KIND``).
STREETLIGHT_FAULT = "streetlight_fault"


#: Procedures whose files are events on the territory, by procedure short name.
EVENT_PROCEDURES: dict[str, EventMapping] = {
    "signalement-depot-sauvage": EventMapping("illegal_dump", "where", "kind", "commune"),
    "signalement-eclairage": EventMapping(STREETLIGHT_FAULT, "", "problem", asset_field="lamp"),
}


def source_ref(dossier: Dossier) -> str:
    """The keyed pseudonym of the file's id, for its event only."""
    return pseudonym("territory-event.source", str(dossier.pk))


def _legacy_source_ref(dossier: Dossier) -> str:
    # Events published before the bridge's pseudonym key: closed by their old reference.
    key = hashlib.sha256(f"alzette.bridge:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, str(dossier.pk).encode(), hashlib.sha256).hexdigest()


def publish_event(dossier: Dossier) -> Any:
    """The anonymised event of a filed report (None when the procedure maps to none)."""
    mapping = EVENT_PROCEDURES.get(dossier.procedure.slug)
    if mapping is not None and mapping.asset_field:
        return publish_asset_event(dossier, mapping)
    point = dossier.answers.get(mapping.point_field) if mapping else None
    if mapping is None or not isinstance(point, dict):
        return None
    categories = dossier.answers.get(mapping.category_field) or [] if mapping.category_field else []
    commune = dossier.answers.get(mapping.commune_field, "") if mapping.commune_field else ""
    return events.record_event(
        source_ref(dossier),
        mapping.kind,
        float(point["lon"]),
        float(point["lat"]),
        timezone.localdate(dossier.submitted_at),
        commune_code=commune if isinstance(commune, str) else "",
        categories=[str(item) for item in categories],
    )


class UnknownAsset(ValueError):
    """A report naming an asset the territory does not know: nothing is published."""


def publish_asset_event(dossier: Dossier, mapping: EventMapping) -> Any:
    """The event of a report about a streetlight: the lamp's entity id, its location
    and commune (the territory's, not the citizen's), the ticked problem and the day.
    The lamp's repair opens or is joined (``lighting.repairs``)."""
    from alzette.territory.lighting.repairs import services as repairs

    found = repairs.asset(str(dossier.answers.get(mapping.asset_field) or ""))
    if found is None or found.kind != "lamp" or found.lon is None or found.lat is None:
        raise UnknownAsset(f"the report names no known streetlight ({dossier.reference})")
    categories = dossier.answers.get(mapping.category_field) if mapping.category_field else []
    categories = categories if isinstance(categories, list) else [categories] if categories else []
    event = events.record_event(
        source_ref(dossier),
        mapping.kind,
        found.lon,
        found.lat,
        timezone.localdate(dossier.submitted_at),
        commune_code=found.commune,
        categories=[str(item) for item in categories],
        asset_ref=found.id,
    )
    repairs.report_by_citizen(event)
    return event


def asset_follow_up(dossier: Dossier) -> dict[str, Any] | None:
    """For the citizen's own file: the asset they reported and its repair's state,
    asked of the territory by the event's keyed pseudonym (``presenters.follow_ups``)."""
    mapping = EVENT_PROCEDURES.get(dossier.procedure.slug)
    if mapping is None or not mapping.asset_field or dossier.submitted_at is None:
        return None
    from alzette.territory.lighting.repairs import services as repairs

    state = repairs.state_for_event(source_ref(dossier))
    if state is None:
        return None
    return {"asset": state.lamp, "address": state.address, "status": state.status,
            "planned_for": state.planned_for, "done_on": state.repaired_on}  # fmt: skip


def _lamp_exists(reference: str) -> bool:
    from alzette.territory.lighting.repairs import services as repairs

    return repairs.lamp_exists(reference)


# The form checks a lamp's number against the territory's streetlights and offers a map
# of them (the public poles endpoint: numbers and places, fetched by the browser); the
# citizen's own file shows the repair of the lamp they reported.
schema.ASSET_CHECKS["Streetlight"] = _lamp_exists
schema.ASSET_PICKERS["Streetlight"] = reverse_lazy("api-v1:lighting_poles")
presenters.register_follow_up(asset_follow_up)


def on_dossier_changed(sender: object, dossier: Dossier, kind: str, **kwargs: object) -> None:
    """Publish a report when it is filed; close its event when the file is decided."""
    if dossier.procedure.slug not in EVENT_PROCEDURES:
        return
    if kind == "procedure.submitted":
        try:
            publish_event(dossier)
        except UnknownAsset:
            # The form checked the asset; it vanished since. Logged, never lost silently:
            # the file stays with the instructors, who see the number the citizen gave.
            logger.error("report %s names an unknown asset; no event published", dossier.pk)
    elif dossier.status in Status.final():
        today = timezone.localdate()
        if not events.close_event(source_ref(dossier), today):
            events.close_event(_legacy_source_ref(dossier), today)


# --- Files per procedure, commune and month -------------------------------------------------

#: The subject of files without an account (anonymous reports, files whose applicant's
#: account is gone): one per cell, whatever their number, since nothing says how many
#: people filed them. Counting them as one can only hide cells, never expose one.
NO_ACCOUNT = "no-account"


class ProcedureFiles(AggregateSpec):
    """Files filed per procedure (category), commune and month of filing; the subjects
    are the distinct accounts that filed. Also feeds ``ProcedureStatistic``."""

    name: ClassVar[str] = "procedure-files"
    label: ClassVar[str] = "Online procedures: files per commune and month"
    categorised: ClassVar[bool] = True
    # Under differential privacy one account adds at most 5 files to a cell's sums.
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("filed", "sum", bound=5),
        Measure("decided", "sum", bound=5),
        Measure("accepted", "sum", bound=5),
        Measure("mean_delay_days", "mean"),
    )

    def rows(self) -> Iterator[Row]:
        found = Dossier.objects.exclude(status=Status.DRAFT).filter(submitted_at__isnull=False)
        columns = ("procedure__slug", "commune__code", "user_id", "status", "submitted_at",
                   "decided_at")  # fmt: skip
        for slug, commune, user_id, status, submitted, decided in found.values_list(
            *columns
        ).iterator(2000):
            delay = (decided - submitted).total_seconds() / 86400 if decided else None
            values = {"filed": 1, "decided": int(decided is not None),
                      "accepted": int(decided is not None and status == Status.ACCEPTED),
                      "mean_delay_days": delay}  # fmt: skip
            month = timezone.localtime(submitted).strftime("%Y-%m")
            yield Row(commune or "", month, user_id or NO_ACCOUNT, values, slug)

    def released(self, cells: list[dict[str, Any]]) -> None:
        """The released categories are also the territory's procedure statistics (the
        ``procedure-statistics`` open-data source reads them)."""
        events.replace_statistics(
            {"procedure": cell["category"], "commune_code": cell["commune_code"],
             "month": cell["period"], **cell["measures"]}
            for cell in cells if cell["category"]
        )  # fmt: skip


def publish_statistics() -> int:
    """Release the files' aggregates now (k-anonymous); the number of cells released."""
    return release(ProcedureFiles()).released
