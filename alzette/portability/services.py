"""Export an organisation to an archive, and import an archive (docs/portability.md).

No HTTP here: the ``export`` and ``import`` management commands call these.

Atomicity. The territory part and the personal part live in two databases. The
import runs in one transaction on each, the territory's nested inside the
personal one: any error before the end rolls both back. The territory commits
first; if the personal commit then failed (the database going away at that very
moment), the territory part would stay: importing the same archive again with
``--on-conflict=skip`` completes it. Ledger entries commit on their own connection
as they are written (docs/ledger.md, "Atomicity with domain writes"): a rolled-back
import can leave entries whose commitments nobody can open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

import alzette
from alzette.core.repositories import PERSONAL, TERRITORY
from alzette.ledger import services as ledger
from alzette.portability import (
    personal_procedures,
    territory_catalogue,
    territory_config,
    territory_ngsild,
)
from alzette.portability.archive import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveError,
    Reader,
    Writer,
    manifest_digest,
)
from alzette.portability.plan import FAIL, POLICIES, Plan
from alzette.territory.ngsild.errors import NgsiLdError

ACTOR = "system:portability"
Progress = Callable[[str], None]


class PortabilityError(Exception):
    """An export or import that cannot go ahead; the message says why, for the operator."""


class Refused(PortabilityError):
    """An import whose plan has invalid objects or, under ``fail``, conflicts."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        blocking = plan.blocking()
        lines = "\n".join(f"  {a.line()}" for a in blocking[:50])
        more = f"\n  ... and {len(blocking) - 50} more" if len(blocking) > 50 else ""
        super().__init__(f"Import refused, nothing was written:\n{lines}{more}")


def _quiet(message: str) -> None:
    return None


# --- Export ------------------------------------------------------------------------------


@dataclass
class Exported:
    manifest: dict[str, Any]
    opening: dict[str, Any]  # the ledger entry's payload and salt


def export(slug: str, destination: Path, *, procedures_unit: str | None = None,
           shared_entities: bool = True, progress: Progress = _quiet) -> Exported:  # fmt: skip
    """Write everything ``slug`` owns to ``destination`` (``*.zip`` or a new directory)."""
    org = territory_catalogue.organisation(slug)
    if org is None:
        raise PortabilityError(f"No organisation has the short name {slug!r}.")
    if procedures_unit is not None:
        personal_procedures.subtree(procedures_unit)  # refuse an unknown unit before writing
    writer = _writer(destination)
    try:
        counts = {
            "catalogue": territory_catalogue.export(writer, org, progress),
            "ngsi_ld": territory_ngsild.export(writer, org, progress, shared=shared_entities),
            "personal": personal_procedures.export(writer, slug, procedures_unit, progress),
        }
        manifest = _manifest(org, counts, procedures_unit, shared_entities, writer)
        opening = _record_export(manifest, writer)
        manifest["ledger"] = {"kind": "organisation.exported", **opening}
        writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return Exported(manifest, opening)


def _writer(destination: Path) -> Writer:
    try:
        return Writer(destination)
    except ArchiveError as exc:
        raise PortabilityError(str(exc)) from None


def _manifest(org: Any, counts: dict[str, Any], unit: str | None, shared: bool,
              writer: Writer) -> dict[str, Any]:  # fmt: skip
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "alzette_version": alzette.__version__,
        "source": settings.ALZETTE_PUBLIC_URL,
        "exported_at": datetime.now(UTC).isoformat(),
        "organisation": {"slug": org.slug, "name": org.name, "id": str(org.pk)},
        "options": {"procedures_unit": unit, "shared_entities": shared},
        "counts": counts,
        "to_reissue": territory_config.to_reissue(org),
        "not_included": territory_config.not_included(org),
    }


def _record_export(manifest: dict[str, Any], writer: Writer) -> dict[str, Any]:
    """The entry commits to the parts' hashes, which the manifest then carries with
    the opening: whoever holds the archive can check it against the ledger."""
    payload = {"organisation": manifest["organisation"]["slug"], "source": manifest["source"],
               "exported_at": manifest["exported_at"],
               "parts": {p.path: p.sha256 for p in writer.parts}}  # fmt: skip
    return _record("organisation.exported", manifest["organisation"]["slug"], payload)


def _record(kind: str, slug: str, payload: dict[str, Any]) -> dict[str, Any]:
    receipt, commitment = ledger.record(kind, ACTOR, f"organisation:{slug}", payload)
    return {"leaf_index": receipt.leaf_index, "payload": payload, "salt": commitment.salt,
            "receipt": receipt.as_dict()}  # fmt: skip


# --- Import ------------------------------------------------------------------------------


@dataclass
class Imported:
    manifest: dict[str, Any]
    plan: Plan
    dry_run: bool
    counts: dict[str, Any] = field(default_factory=dict)
    opening: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def _reader(source: Path) -> Iterator[Reader]:
    try:
        reader = Reader(source)
    except ArchiveError as exc:
        raise PortabilityError(str(exc)) from None
    try:
        yield reader
    finally:
        reader.close()


def import_archive(source: Path, *, on_conflict: str = FAIL, dry_run: bool = False,
                   progress: Progress = _quiet) -> Imported:  # fmt: skip
    """Verify the archive, plan, then (unless ``dry_run``) import it all or nothing."""
    if on_conflict not in POLICIES:
        raise PortabilityError(f"on_conflict is one of {', '.join(POLICIES)}.")
    with _reader(source) as reader:
        try:
            manifest = reader.verify()
            progress("archive verified: format, version and every file's SHA-256")
            found = _plan(reader, manifest, on_conflict)
        except (ArchiveError, NgsiLdError) as exc:
            raise PortabilityError(_text(exc)) from None
        result = Imported(manifest, found, dry_run)
        if dry_run:
            return result
        if found.blocking():
            raise Refused(found)
        try:
            _apply(reader, manifest, found, result, source, progress)
        except (ArchiveError, NgsiLdError, ValidationError) as exc:
            raise PortabilityError(f"Import failed and was rolled back: {_text(exc)}") from None
    return result


def _text(exc: Exception) -> str:
    return exc.detail if isinstance(exc, NgsiLdError) else str(exc)


def _slug(manifest: dict[str, Any]) -> str:
    organisation = manifest.get("organisation")
    if not isinstance(organisation, dict) or not isinstance(organisation.get("slug"), str):
        raise ArchiveError("The manifest names no organisation.")
    return organisation["slug"]


def _plan(reader: Reader, manifest: dict[str, Any], policy: str) -> Plan:
    found = Plan(policy)
    territory_ngsild.plan_contexts(reader, found)
    territory_catalogue.plan(reader, _slug(manifest), found)
    territory_ngsild.plan(reader, manifest, found)
    personal_procedures.plan(reader, found)
    return found


def _apply(reader: Reader, manifest: dict[str, Any], found: Plan, result: Imported,
           source: Path, progress: Progress) -> None:  # fmt: skip
    slug = _slug(manifest)
    written: list[Path] = []  # files put under the catalogue directory, for a rollback
    try:
        # Territory nested in personal: the territory commits first, see the module's doc.
        with transaction.atomic(using=PERSONAL), transaction.atomic(using=TERRITORY):
            contexts = territory_ngsild.apply_contexts(reader, found)
            attached = territory_catalogue.apply(reader, slug, found, ACTOR, written)
            ngsi = territory_ngsild.apply(reader, manifest, found, ACTOR, progress)
            result.counts = {"contexts": contexts, "attached_rows": attached,
                             "entities": ngsi.entities,
                             "history_instances": ngsi.history_instances,
                             "device_mappings": ngsi.device_mappings,
                             **personal_procedures.apply(reader, found)}  # fmt: skip
            _record_import(manifest, found, result, source, slug)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _record_import(manifest: dict[str, Any], found: Plan, result: Imported, source: Path,
                   slug: str) -> None:  # fmt: skip
    payload = {"organisation": slug, "source": manifest.get("source"),
               "manifest_sha256": manifest_digest(source), "policy": found.policy,
               "counts": found.counts()}  # fmt: skip
    result.opening = _record("organisation.imported", slug, payload)  # last: see ledger.md
