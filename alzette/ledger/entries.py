"""What a ledger entry is, and what it may contain: never personal data.

An entry's public part is serialised canonically (sorted keys, no spaces,
ASCII) so that any third party recomputes the same leaf bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any

FORMAT_VERSION = 1

#: Transactions that matter to trust. Adding one is adding a line here.
KINDS = frozenset(
    {
        "consent.given",
        "consent.withdrawn",
        "service.activated",
        "service.deactivated",
        "store_service.published",
        "store_service.rejected",
        "store_service.withdrawn",
        "procedure.submitted",
        "procedure.decided",
        "procedure.status_changed",
        "payment.paid",
        "payment.failed",
        "citizen_file.read_by_agent",
        "sharing.granted",
        "sharing.expired",
        "sharing.revoked",
        "community.changed",
        "partner_app.registered",
        "partner_app.changed",
        "partner_app.revoked",
        "dataset.published",
        "device.command_sent",
        "device.registered",
        "device.deregistered",
        "access_policy.changed",
        "dataset.changed",
        "dataset.deleted",
        "dataset.file_uploaded",
        "document.published",
        "document.changed",
        "document.deleted",
        "document.linked",
        "document.unlinked",
        "entity.created",
        "entity.deleted",
        "subscription.created",
        "subscription.deleted",
        "personal_data.exported",
        "personal_data.erased",
        "organisation.exported",
        "organisation.imported",
        "bridge.released",
        "alert_rule.changed",
        "alert.fired",
        "alert.acknowledged",
        "alert.closed",
        "device.quarantined",
        "waste_round.computed",
        "waste_round.changed",
        "dumping.reported",
        "dumping.intervention_changed",
        "household.bin_allocated",
        "household.bill_estimated",
        "centre.access_refused",
        "centre.pickup_requested",
        "device.command_acknowledged",
        "device.command_failed",
        "device.command_refused",
        "lighting_policy.changed",
        "lighting_override.changed",
        "lighting_repair.changed",
        "water_district.changed",
        "household.meter_allocated",
        "household.water_warning",
        "board.changed",
    }
)

# Actors are pseudonyms (32 hex characters, see accounts.new_pseudonym) or named
# platform components ("system:scheduler"). Objects are "type:opaque-id".
_ACTOR = re.compile(r"[0-9a-f]{32}|system:[a-z][a-z0-9_.-]{0,62}")
_OBJECT = re.compile(r"[a-z][a-z0-9_.-]{0,47}:[A-Za-z0-9_.:-]{1,150}")
_COMMITMENT = re.compile(r"[0-9a-f]{64}")


class EntryError(ValueError):
    """An entry that must not enter the ledger; the message says why."""


@dataclass(frozen=True)
class Entry:
    """The public part of a ledger entry."""

    time: int  # milliseconds since the Unix epoch, UTC
    kind: str
    actor: str
    object: str
    commitment: str

    def validate(self) -> None:
        """Refuse anything that could carry personal data or break the format."""
        if self.kind not in KINDS:
            raise EntryError(f"Unknown entry kind {self.kind!r}.")
        if not _ACTOR.fullmatch(self.actor):
            raise EntryError("The actor must be a pseudonym (32 hex) or 'system:<component>'.")
        if not _OBJECT.fullmatch(self.object):
            raise EntryError("The object must be an opaque reference 'type:id' (no spaces, no @).")
        if not _COMMITMENT.fullmatch(self.commitment):
            raise EntryError("The commitment must be a SHA-256 hex digest.")
        if not 0 <= self.time < 2**63:
            raise EntryError("The time must be a positive number of milliseconds.")

    def canonical_bytes(self) -> bytes:
        """The leaf data: canonical JSON of the public part with the format version."""
        return canonical_json({"v": FORMAT_VERSION, **asdict(self)})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no insignificant spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Commitment:
    """A salted hash of a payload. The salt stays with the data, in its own repository."""

    salt: str
    digest: str


def commit(payload: dict[str, Any], salt: bytes | None = None) -> Commitment:
    """Commit to ``payload``: SHA-256(salt || canonical JSON). Without the salt the
    digest reveals nothing, even about guessable payloads."""
    salt = salt if salt is not None else secrets.token_bytes(32)
    digest = hashlib.sha256(salt + canonical_json(payload)).hexdigest()
    return Commitment(salt=salt.hex(), digest=digest)


def opens(commitment: str, payload: dict[str, Any], salt_hex: str) -> bool:
    """Does ``payload`` with ``salt_hex`` open ``commitment``?"""
    return commit(payload, bytes.fromhex(salt_hex)).digest == commitment
