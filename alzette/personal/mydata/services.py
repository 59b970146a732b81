"""The "my data" domain: what is held about a person, its export and erasure, who read it.

Plain domain functions (no HTTP: the import contract "Domain modules import no
HTTP framework" covers this module). Other apps call them:

- ``record_receipt`` records a ledger entry on the person's behalf and keeps the
  receipt and the commitment's salt here, in the personal repository;
- ``log_access`` writes the access log the person reads on their page, which
  ``purge_access_log`` (the ``mydata-access-log`` job) keeps to
  ``ALZETTE_MYDATA_ACCESS_LOG_DAYS`` days;
- ``register_data_source`` and ``register_retention_hold`` (from an app's
  ``AppConfig.ready``) extend the two registries below.

See docs/my-data.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from alzette.core.repositories import PERSONAL
from alzette.core.validators import days_problem
from alzette.ledger import services as ledger
from alzette.personal.accounts.models import Role, User
from alzette.personal.mydata import sources
from alzette.personal.mydata.models import AccessorKind, DataAccess, StoredReceipt

ARCHIVE_FORMAT = "alzette-my-data"
ARCHIVE_VERSION = 1
#: The ``category`` of an access that covered every category (an export).
ALL_CATEGORIES = "all"
#: Purposes written by this app; other apps mark theirs with gettext_noop too, so
#: that the page shows them in the reader's language.
PURPOSE_EXPORT = gettext_noop("Export of my data")

#: How long access-log entries are kept, in days, unless ALZETTE_MYDATA_ACCESS_LOG_DAYS
#: says otherwise: one year, the upper end of the six months to a year the CNIL
#: recommends for access logs (see docs/my-data.md#how-long-entries-are-kept).
ACCESS_LOG_DAYS = 365

_CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,47}")


# --- The two registries ----------------------------------------------------


@dataclass(frozen=True)
class DataSource:
    """One category of what the platform holds about a person.

    ``path`` is the dotted path of a callable taking the person (a ``User``) and
    returning rows: dictionaries of plain values (str, int, float, bool, None,
    date, datetime, UUID) whose keys are those of ``columns``. The path is
    imported only when the rows are needed, so registering a source imports
    nothing.
    """

    path: str
    label: Any  # a (lazy) translated string
    columns: Mapping[str, Any]  # row key -> (lazy) translated column heading, in order
    description: Any = ""
    single: bool = False  # one record per person: shown as a two-column table
    value_labels: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)

    def rows(self, user: Any) -> list[dict[str, Any]]:
        function: Callable[[Any], Iterable[Mapping[str, Any]]] = import_string(self.path)
        return [dict(row) for row in function(user)]


#: category -> data source. The order is the order of the page and of the archive.
DATA_SOURCES: dict[str, DataSource] = {
    "account": DataSource(
        "alzette.personal.mydata.sources.account",
        _("Account"),
        {
            "email": _("E-mail address"),
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "role": _("Role"),
            "unit": _("Organisational unit"),
            "unit_code": _("Unit code"),
            "partner_organisation": _("Partner organisation"),
            "date_joined": _("Account created"),
            "last_login": _("Last login"),
            "pseudonym": _("Pseudonym"),
        },
        _(
            "Your account. The pseudonym is the random identifier under which the "
            "territory data and the public ledger refer to you."
        ),
        single=True,
        value_labels={"role": dict(Role.choices)},
    ),
    "email_addresses": DataSource(
        "alzette.personal.mydata.sources.email_addresses",
        _("E-mail addresses"),
        {"email": _("E-mail address"), "verified": _("Verified"), "primary": _("Primary")},
        _("The e-mail addresses of your account and whether you confirmed them."),
    ),
    "second_factors": DataSource(
        "alzette.personal.mydata.sources.second_factors",
        _("Second factors"),
        {"type": _("Type"), "created_at": _("Set up"), "last_used_at": _("Last used")},
        _("Your second sign-in factors. Their secrets are never shown nor exported."),
        value_labels={
            "type": {
                "totp": _("Authenticator app (TOTP)"),
                "recovery_codes": _("Recovery codes"),
                "webauthn": _("Security key"),
            }
        },
    ),
    "sessions": DataSource(
        "alzette.personal.mydata.sources.sessions",
        _("Sessions"),
        {"active_sessions": _("Active sessions")},
        _("How many browsers are signed in to your account right now."),
        single=True,
    ),
    "receipts": DataSource(
        "alzette.personal.mydata.sources.receipts",
        _("Ledger receipts"),
        {
            "id": _("Identifier"),
            "created_at": _("Date"),
            "kind": _("Transaction"),
            "object_ref": _("Object"),
            "leaf_index": _("Ledger entry"),
            "commitment": _("Commitment"),
            "salt": _("Commitment salt"),
        },
        _(
            "Proofs that your transactions are in the public ledger, with the salts "
            "that open their commitments."
        ),
    ),
    "access_log": DataSource(
        "alzette.personal.mydata.sources.access_log",
        _("Access log"),
        {
            "accessed_at": _("Date"),
            "accessor_kind": _("Accessed by"),
            "accessor_label": _("Who"),
            "category": _("Category"),
            "purpose": _("Purpose"),
        },
        _("Who read your data (agents, services, administrators, you), when and why."),
        value_labels={"accessor_kind": dict(AccessorKind.choices)},
    ),
}

#: name -> dotted path of a callable taking the person and returning None, or the
#: reason (a translated string) why their account must not be erased yet.
#: Empty: no procedure under legal retention exists yet.
RETENTION_HOLDS: dict[str, str] = {}


def register_data_source(category: str, source: DataSource) -> None:
    """Add a category (call it from your app's ``AppConfig.ready``)."""
    if not _CATEGORY.fullmatch(category) or category == ALL_CATEGORIES:
        raise ValueError(f"Invalid category name {category!r} (lowercase, digits, '_').")
    if category in DATA_SOURCES and DATA_SOURCES[category] != source:
        raise ValueError(f"The category {category!r} is already registered.")
    DATA_SOURCES[category] = source


def register_retention_hold(name: str, path: str) -> None:
    """Add a retention hold (call it from your app's ``AppConfig.ready``)."""
    if RETENTION_HOLDS.get(name, path) != path:
        raise ValueError(f"The retention hold {name!r} is already registered.")
    RETENTION_HOLDS[name] = path


# --- Reading ---------------------------------------------------------------


def collect(user: Any) -> dict[str, list[dict[str, Any]]]:
    """Everything the platform holds about ``user``, by category."""
    return {category: source.rows(user) for category, source in DATA_SOURCES.items()}


def category_label(category: str) -> str:
    if category == ALL_CATEGORIES:
        return gettext("All categories")
    source = DATA_SOURCES.get(category)
    return str(source.label) if source else category


def retention_reasons(user: Any) -> list[str]:
    """Why ``user``'s account must be kept for now; empty when it may be erased.

    Every hold is asked (so the person learns every reason at once). A hold that
    fails raises: erasure fails closed.
    """
    reasons = []
    for path in RETENTION_HOLDS.values():
        reason = import_string(path)(user)
        if reason:
            reasons.append(str(reason))
    return reasons


# --- Writing ---------------------------------------------------------------


def record_receipt(
    user: Any, kind: str, object_ref: str, payload: dict[str, Any], actor: str | None = None
) -> StoredReceipt:
    """Record a ledger entry with ``user``'s pseudonym as actor; keep receipt and salt.

    ``actor`` names someone else who acted on the person's behalf or about them (an
    agent's pseudonym deciding on their file, ``system:<component>``): the receipt
    is still the person's to keep.

    Call it last in your transaction, after the checks that may refuse it (the
    ledger commits first, see docs/ledger.md).
    """
    with transaction.atomic(using=PERSONAL):
        receipt, commitment = ledger.record(kind, actor or user.pseudonym, object_ref, payload)
        return StoredReceipt.objects.create(
            user=user,
            kind=kind,
            object_ref=object_ref,
            leaf_index=receipt.leaf_index,
            receipt=receipt.as_dict(),
            salt=commitment.salt,
            payload=payload,
        )


def log_access(
    user: Any, accessor_kind: str, accessor_label: str, category: str, purpose: str
) -> DataAccess:
    """Write down that someone read ``category`` of ``user``'s data, and why.

    ``accessor_label`` describes who: an agent's unit, a service's name, "platform
    administration". Never another person's identity (an e-mail address is
    refused). Mark ``purpose`` with gettext_noop so it can be shown translated.
    """
    return DataAccess.objects.create(
        user=user, **_access_fields(accessor_kind, accessor_label, category, purpose)
    )


def log_accesses(
    users: Iterable[Any], accessor_kind: str, accessor_label: str, category: str, purpose: str
) -> int:
    """``log_access`` for many people at once (an export), in one insert."""
    fields = _access_fields(accessor_kind, accessor_label, category, purpose)
    rows = [DataAccess(user=user, **fields) for user in users]
    DataAccess.objects.bulk_create(rows)
    return len(rows)


def _access_fields(
    accessor_kind: str, accessor_label: str, category: str, purpose: str
) -> dict[str, str]:
    if accessor_kind not in AccessorKind.values:
        raise ValueError(f"Unknown accessor kind {accessor_kind!r}.")
    accessor_label = accessor_label.strip()
    if accessor_kind == AccessorKind.SELF:
        accessor_label = ""
    elif not accessor_label:
        raise ValueError("Say who accessed the data (a unit or a service name).")
    if "@" in accessor_label:
        raise ValueError("The accessor label must not identify a person (no e-mail address).")
    if category != ALL_CATEGORIES and category not in DATA_SOURCES:
        raise ValueError(f"Unknown category {category!r}.")
    if not purpose.strip():
        raise ValueError("Say why the data were accessed.")
    return {
        "accessor_kind": accessor_kind,
        "accessor_label": accessor_label,
        "category": category,
        "purpose": purpose.strip(),
    }


#: Why a value cannot be the access log's retention in days; empty when it can.
access_log_days_problem = days_problem


def access_log_days() -> int:
    """How many days access-log entries are kept (the setting, checked at start)."""
    value = getattr(settings, "ALZETTE_MYDATA_ACCESS_LOG_DAYS", ACCESS_LOG_DAYS)
    if problem := access_log_days_problem(value):
        raise ImproperlyConfigured(f"ALZETTE_MYDATA_ACCESS_LOG_DAYS {problem}.")
    return value


def purge_access_log(now: datetime | None = None, days: int | None = None) -> int:
    """Delete the access-log entries older than the retention; how many were deleted.

    The log is personal data too (who read whose data): it is kept as long as it
    is useful to the people it describes, not forever.
    """
    days = access_log_days() if days is None else days
    if problem := access_log_days_problem(days):
        raise ValueError(f"The retention {problem}.")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic(using=PERSONAL):
        deleted, _ = DataAccess.objects.using(PERSONAL).filter(accessed_at__lt=cutoff).delete()
    return deleted


# --- Export ----------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_json_value(value))


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    keys = list(columns) + sorted({key for row in rows for key in row} - set(columns))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow([_csv_value(row.get(key)) for key in keys])
    return buffer.getvalue().encode("utf-8")


def archive_data(user: Any) -> dict[str, Any]:
    """The content of data.json: every category, values as JSON."""
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "generated_at": timezone.now().isoformat(),
        "categories": {
            category: [{key: _json_value(value) for key, value in row.items()} for row in rows]
            for category, rows in collect(user).items()
        },
    }


def export_archive(user: Any) -> bytes:
    """A ZIP of everything held about ``user``: data.json, one CSV per category, and
    receipt.json, the ledger receipt of this export (it commits to data.json's digest).

    The export is written to the access log (as read by the person) before the
    data are collected, so the archive shows it too.
    """
    with transaction.atomic(using=PERSONAL):
        log_access(user, AccessorKind.SELF, "", ALL_CATEGORIES, PURPOSE_EXPORT)
        data = archive_data(user)
        data_json = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        csvs = {
            f"{category}.csv": _csv(list(DATA_SOURCES[category].columns), rows)
            for category, rows in data["categories"].items()
        }
        stored = record_receipt(
            user,
            "personal_data.exported",
            f"personal_data:{user.pseudonym}",
            {
                "format": ARCHIVE_FORMAT,
                "version": ARCHIVE_VERSION,
                "data_json_sha256": hashlib.sha256(data_json).hexdigest(),
                "records": {category: len(rows) for category, rows in data["categories"].items()},
            },
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", data_json)
        for name, content in csvs.items():
            archive.writestr(name, content)
        archive.writestr(
            "receipt.json",
            json.dumps(receipt_document(stored), indent=2).encode("utf-8"),
        )
    return buffer.getvalue()


def receipt_document(stored: StoredReceipt) -> dict[str, Any]:
    """A stored receipt as handed to the person: the ledger receipt (as
    ``Receipt.as_dict()``, which ``alzette ledger verify-receipt`` reads) plus the
    salt and payload that open its commitment."""
    return {**stored.receipt, "opening": {"salt": stored.salt, "payload": stored.payload}}


# --- Erasure ---------------------------------------------------------------


class ErasureRefused(Exception):
    """The account must be kept for now; ``reasons`` says why (translated)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class ErasureReceipt:
    """What remains of an erased account: the ledger receipt of its erasure."""

    kind: str
    object_ref: str
    created_at: datetime
    leaf_index: int
    receipt: dict[str, Any]
    salt: str
    payload: dict[str, Any]

    def document(self) -> dict[str, Any]:
        return {**self.receipt, "opening": {"salt": self.salt, "payload": self.payload}}


def erase_account(user: Any) -> ErasureReceipt:
    """Erase ``user``'s account and everything that depends on it, in one transaction.

    1. The retention holds are asked; if any holds, ``ErasureRefused`` (nothing done).
    2. Records that would block the deletion (protected relations) refuse it too.
    3. The account's sessions, then the account with everything cascading from it
       (e-mail addresses, second factors, receipts and their salts, access log...)
       are deleted from the personal repository (not committed yet).
    4. ``personal_data.erased`` is recorded in the ledger (actor: the pseudonym),
       which commits at once; then the deletions commit.

    The ledger keeps its entries (no personal data in them); the returned receipt
    is the person's only copy of the erasure's proof.
    """
    with transaction.atomic(using=PERSONAL):
        locked = User.objects.select_for_update().get(pk=user.pk)
        reasons = retention_reasons(locked)
        if reasons:
            raise ErasureRefused(reasons)
        collector = Collector(using=PERSONAL, origin=locked)
        try:
            collector.collect([locked])
        except (ProtectedError, RestrictedError) as exc:
            raise ErasureRefused(
                [gettext("Other records still depend on your account; contact the platform.")]
            ) from exc
        pseudonym, object_ref = locked.pseudonym, f"personal_data:{locked.pseudonym}"
        payload = {"records": {category: len(rows) for category, rows in collect(locked).items()}}
        keys = sources.session_keys(locked)
        Session.objects.using(PERSONAL).filter(session_key__in=keys).delete()
        collector.delete()
        # Appended once the deletions ran without error, before they commit: the entry
        # commits first (no erasure without its entry), and a deletion that fails
        # leaves no orphan entry. If the append fails, the deletions roll back.
        receipt, commitment = ledger.record("personal_data.erased", pseudonym, object_ref, payload)
    return ErasureReceipt(
        kind="personal_data.erased",
        object_ref=object_ref,
        created_at=timezone.now(),
        leaf_index=receipt.leaf_index,
        receipt=receipt.as_dict(),
        salt=commitment.salt,
        payload=payload,
    )


def ledger_receipt(leaf_index: int, tree_size: int) -> dict[str, Any]:
    """Rebuild, from the public ledger alone, the receipt of entry ``leaf_index`` under
    the tree head signed at ``tree_size`` (what ``Receipt.as_dict()`` returned then)."""
    head = ledger.tree_head_at(tree_size)
    if head is None:
        raise ledger.LedgerRangeError(f"No tree head was signed at size {tree_size}.")
    entry, leaf_hash = ledger.get_entry(leaf_index)
    _size, path = ledger.inclusion_proof(leaf_index, tree_size)
    return {
        "leaf_index": leaf_index,
        "entry": entry,
        "leaf_hash": leaf_hash,
        "tree_head": {
            "tree_size": head.tree_size,
            "timestamp": head.timestamp,
            "root_hash": head.root_hash,
            "signature": head.signature,
            "key_id": head.key_id,
        },
        "inclusion_proof": path,
    }
