"""The data sources "my data" ships with: what the platform itself holds about a person.

Each function takes the person (a ``User``) and returns rows: dictionaries of
plain values (str, int, bool, None, date, datetime, UUID), one per record, with
the keys declared as the category's columns in ``services.DATA_SOURCES``.
Other apps add their own sources with ``services.register_data_source``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.utils import timezone

from alzette.core.repositories import PERSONAL
from alzette.personal.mydata.models import DataAccess, StoredReceipt

Row = dict[str, Any]


def account(user: Any) -> list[Row]:
    """The account itself: never the password hash."""
    return [
        {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.role,
            "unit": user.unit.name if user.unit_id else None,
            "unit_code": user.unit.code if user.unit_id else None,
            "partner_organisation": (
                user.partner_organisation.name if user.partner_organisation_id else None
            ),
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "pseudonym": user.pseudonym,
        }
    ]


def email_addresses(user: Any) -> list[Row]:
    return [
        {"email": email, "verified": verified, "primary": primary}
        for email, verified, primary in EmailAddress.objects.filter(user=user)
        .order_by("-primary", "email")
        .values_list("email", "verified", "primary")
    ]


def second_factors(user: Any) -> list[Row]:
    """Type and dates only: the secrets and recovery codes (``data``) never leave."""
    return [
        {"type": kind, "created_at": created, "last_used_at": used}
        for kind, created, used in Authenticator.objects.filter(user=user)
        .order_by("created_at")
        .values_list("type", "created_at", "last_used_at")
    ]


def session_keys(user: Any) -> list[str]:
    """Keys of the unexpired sessions signed in as ``user``.

    Sessions are not linked to accounts in the database: each one is decoded.
    The cost grows with the number of live sessions of the whole platform.
    """
    wanted = str(user.pk)
    live = Session.objects.using(PERSONAL).filter(expire_date__gt=timezone.now())
    return [
        session.session_key
        for session in live.iterator()
        if str(session.get_decoded().get("_auth_user_id", "")) == wanted
    ]


def sessions(user: Any) -> list[Row]:
    return [{"active_sessions": len(session_keys(user))}]


def receipts(user: Any) -> list[Row]:
    return [
        {
            "id": receipt.pk,
            "created_at": receipt.created_at,
            "kind": receipt.kind,
            "object_ref": receipt.object_ref,
            "leaf_index": receipt.leaf_index,
            "commitment": receipt.receipt.get("entry", {}).get("commitment", ""),
            "salt": receipt.salt,
        }
        for receipt in StoredReceipt.objects.filter(user=user)
    ]


def access_log(user: Any) -> list[Row]:
    return [
        {
            "accessed_at": access.accessed_at,
            "accessor_kind": access.accessor_kind,
            "accessor_label": access.accessor_label,
            "category": access.category,
            "purpose": access.purpose,
        }
        for access in DataAccess.objects.filter(user=user)
    ]
