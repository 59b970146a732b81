"""The base class of protocol bindings."""

from __future__ import annotations

from typing import Any


class DeliveryError(Exception):
    """A request could not be delivered (unreachable, refused, timed out)."""


class Binding:
    #: Short name ("http", "mqtt").
    name: str = ""
    #: URI schemes of notification targets this binding sends to.
    schemes: tuple[str, ...] = ()

    def enabled(self) -> bool:
        return True

    def send(self, url: str, receiver: str, primitive: dict[str, Any]) -> int:
        """Send a request primitive (a notification) to ``url``; return the rsc of
        the answer, or raise ``DeliveryError``. ``receiver`` is the addressee's id
        (an AE-ID), which some bindings put in the message's route."""
        raise DeliveryError(f"{self.name} does not send requests")
