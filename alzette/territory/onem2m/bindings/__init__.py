"""Protocol bindings: a registry of dotted paths (``ALZETTE_ONEM2M_BINDINGS``).

Each binding subclasses ``base.Binding``. To add one (CoAP, WebSocket), copy the
HTTP binding's folder layout: receive, build a ``primitives.Request``, call
``cse.handle``, serialise the ``Response``; and send notifications for the URI
schemes it declares.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from alzette.territory.onem2m.bindings.base import Binding


@cache
def registry() -> dict[str, Binding]:
    bindings = {}
    for path in settings.ALZETTE_ONEM2M_BINDINGS:
        binding = import_string(path)()
        if not isinstance(binding, Binding):
            raise TypeError(f"{path} is not a oneM2M Binding")
        bindings[binding.name] = binding
    return bindings


def for_scheme(scheme: str) -> Binding | None:
    for binding in registry().values():
        if scheme in binding.schemes:
            return binding
    return None
