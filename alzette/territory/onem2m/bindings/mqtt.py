"""MQTT binding (TS-0010) through an MQTT broker (Mosquitto)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from alzette.territory.onem2m.bindings.base import Binding, DeliveryError


class MqttBinding(Binding):
    name = "mqtt"
    schemes = ("mqtt", "mqtts")

    def enabled(self) -> bool:
        return bool(settings.ALZETTE_ONEM2M_MQTT_URL)

    def send(self, url: str, receiver: str, primitive: dict[str, Any]) -> int:
        raise DeliveryError("not yet")
