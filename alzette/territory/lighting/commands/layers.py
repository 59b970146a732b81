"""The hypervision map's layer of streetlights with their command state.

Each lamp's feature carries, besides the Streetlight entity's ``powerState`` and
``status``, the state of its last command (``commandState``: commanded,
acknowledged, failed, superseded or ""), the wanted level and, for a failed
command, its error code (``commandError``).
"""

from __future__ import annotations

from datetime import datetime

from alzette.territory.hypervision.layers import Feature, StreetlightsLayer
from alzette.territory.lighting.commands import services


class LampCommandsLayer(StreetlightsLayer):
    """The streetlights layer (same slug: boards and links keep working), decorated."""

    def _decorate(self, features: list[Feature]) -> list[Feature]:
        states = services.lamp_states([f["id"] for f in features])
        for item in features:
            state = states.get(item["id"])
            last = state.last_command if state else None
            item["properties"].update({
                "commandState": services.display_state(state),
                "wantedLevel": state.wanted_level if state else None,
                "commandError": last.error_code if last else "",
            })  # fmt: skip
        return features

    def features(self, commune: str | None = None) -> list[Feature]:
        return self._decorate(super().features(commune))

    def changes(self, since: datetime) -> list[Feature]:
        return self._decorate(super().changes(since))

    def recent(self, limit: int = 10) -> list[Feature]:
        return self._decorate(super().recent(limit))
