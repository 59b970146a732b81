"""Keyed pseudonyms: the one way the bridge names something of the personal side.

``pseudonym(purpose, value)`` is HMAC-SHA256 under a key derived for ``purpose``
from the bridge's secret, ``ALZETTE_BRIDGE_PSEUDONYM_KEY`` (or, when unset, a key
derived from ``SECRET_KEY`` under a label of its own). The purpose is part of the
key, so the same file or account gets unrelated pseudonyms in two releases of two
purposes and they cannot be joined. The secret lives only in the personal side's
settings: no table of either repository holds it, so the territory side cannot
reverse or recompute a pseudonym (see docs/bridge.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,62}")
# Labels make the derived keys differ from any other use of SECRET_KEY.
_FALLBACK_LABEL = b"alzette.bridge.pseudonym-key\x00"
_PURPOSE_LABEL = b"alzette.bridge.purpose\x00"


def _secret() -> bytes:
    configured = getattr(settings, "ALZETTE_BRIDGE_PSEUDONYM_KEY", "")
    if configured:
        return hashlib.sha256(configured.encode()).digest()
    return hashlib.sha256(_FALLBACK_LABEL + settings.SECRET_KEY.encode()).digest()


def purpose_key(purpose: str) -> bytes:
    """The key of one purpose; ValueError for a purpose that is not a plain label."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"A pseudonym purpose is a lowercase label, not {purpose!r}.")
    return hmac.new(_secret(), _PURPOSE_LABEL + purpose.encode(), hashlib.sha256).digest()


def pseudonym(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` under the key of ``purpose``, 64 hexadecimal digits."""
    return hmac.new(purpose_key(purpose), value.encode(), hashlib.sha256).hexdigest()
