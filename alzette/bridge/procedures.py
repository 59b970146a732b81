"""From online procedures to the territory: reports become anonymised events, files
become monthly aggregates.

What crosses, for a report mapped in ``EVENT_PROCEDURES``: the kind of event, the
ticked categories, the commune, the map point rounded to about ten metres and the
day. What never crosses: who reported (even an account), free text, photos, the
file's reference. The event is found again (to close it) through a keyed hash of
the file's id, which cannot be reversed without the platform's secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from alzette.personal.procedures import services as procedures
from alzette.personal.procedures.models import Dossier, Status
from alzette.territory.events import services as events


@dataclass(frozen=True)
class EventMapping:
    kind: str
    point_field: str
    category_field: str = ""
    commune_field: str = ""


#: Procedures whose files are events on the territory, by procedure short name.
EVENT_PROCEDURES: dict[str, EventMapping] = {
    "signalement-depot-sauvage": EventMapping("illegal_dump", "where", "kind", "commune"),
}


def source_ref(dossier: Dossier) -> str:
    """HMAC-SHA256 of the file's id under a key derived from SECRET_KEY."""
    key = hashlib.sha256(f"alzette.bridge:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, str(dossier.pk).encode(), hashlib.sha256).hexdigest()


def publish_event(dossier: Dossier) -> Any:
    """The anonymised event of a filed report (None when the procedure maps to none)."""
    mapping = EVENT_PROCEDURES.get(dossier.procedure.slug)
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


def on_dossier_changed(sender: object, dossier: Dossier, kind: str, **kwargs: object) -> None:
    """Publish a report when it is filed; close its event when the file is decided."""
    if dossier.procedure.slug not in EVENT_PROCEDURES:
        return
    if kind == "procedure.submitted":
        publish_event(dossier)
    elif dossier.status in Status.final():
        events.close_event(source_ref(dossier), timezone.localdate())


def publish_statistics() -> int:
    """Replace the territory's procedure statistics with fresh aggregates."""
    rows = [{**row, "commune_code": row["commune"]} for row in procedures.statistics()]
    return events.replace_statistics(rows)
