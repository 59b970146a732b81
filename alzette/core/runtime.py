"""What a server process does once it has started, before its first request."""

from __future__ import annotations

import gc

from django.urls import get_resolver


def settle() -> None:
    """Import every view through the URL map, then freeze what start-up built.

    ``gc.freeze`` moves the objects alive now (modules, settings, models, URL
    patterns) out of the cyclic collector's generations: they live as long as
    the process, and a full collection no longer walks them, so the pauses that
    large answers trigger stay short.
    """
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    gc.collect()
    gc.freeze()
