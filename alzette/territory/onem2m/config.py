"""The CSE's identity and policies, read from settings (ALZETTE_ONEM2M_*)."""

from __future__ import annotations

from django.conf import settings


def csi() -> str:
    """CSE-ID, SP-relative: "/id-alzette"."""
    return settings.ALZETTE_ONEM2M_CSI


def cse_ri() -> str:
    return csi().lstrip("/")


def cse_rn() -> str:
    return settings.ALZETTE_ONEM2M_CSE_RN


def spid() -> str:
    """M2M-SP-ID without its leading slashes: "alzette.ccphva.fr"."""
    return settings.ALZETTE_ONEM2M_SPID.lstrip("/")


def admin() -> str:
    return settings.ALZETTE_ONEM2M_ADMIN


def open_access() -> bool:
    """Whether originators may speak without a credential (never in production)."""
    return settings.ALZETTE_ONEM2M_OPEN


def max_expiration_days() -> int:
    return settings.ALZETTE_ONEM2M_DEFAULT_EXPIRATION_DAYS
