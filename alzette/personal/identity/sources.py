"""What identity federation holds about a person, for "my data" (export and display)."""

from __future__ import annotations

from typing import Any

from alzette.personal.identity.models import FederatedIdentity, PivotIdentity

Row = dict[str, Any]


def federated_identities(user: Any) -> list[Row]:
    return [
        {"provider": provider, "sub": sub, "linked_at": created, "last_login": last}
        for provider, sub, created, last in FederatedIdentity.objects.filter(user=user)
        .order_by("created_at")
        .values_list("provider", "sub", "created_at", "last_login")
    ]


def civil_identity(user: Any) -> list[Row]:
    return [
        {
            "given_name": pivot.given_name,
            "family_name": pivot.family_name,
            "birthdate": pivot.birthdate,
            "gender": pivot.gender,
            "birthplace": pivot.birthplace,
            "birthcountry": pivot.birthcountry,
            "fingerprint": pivot.fingerprint,
        }
        for pivot in PivotIdentity.objects.filter(user=user)
    ]
