"""The personal part of an archive: procedure definitions, and the partner organisation.

Procedures belong to organisational units (the EPCI, a commune, a service), not to
a catalogue organisation: ``export(..., unit=CODE)`` (``alzette export
--procedures CODE``) takes the procedures of that unit and of the units below it,
with their versions (the forms) and their instructor groups. Only definitions:
no file (dossier), no answer, no applicant, no agent; a group travels without its
members, whom the target's administrators name again.

Units are matched by code on the target; missing ones are created from the
archive (code, kind, name, parent), existing ones are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import OrganisationalUnit, PartnerOrganisation
from alzette.personal.procedures.models import (
    Dossier,
    InstructorGroup,
    Procedure,
    ProcedureVersion,
)
from alzette.personal.procedures.schema import SchemaError, check_schema
from alzette.portability import records
from alzette.portability.archive import ArchiveError, Reader, Writer
from alzette.portability.plan import CREATE, UNCHANGED, UPDATE, Action, Plan

PROCEDURES = "personal/procedures.json"
PARTNER = "personal/partner-organisation.json"
Progress = Callable[[str], None]


class UnknownUnit(LookupError):
    """No organisational unit has that code."""


# --- Export ------------------------------------------------------------------------------


def export(writer: Writer, slug: str, unit: str | None, progress: Progress) -> dict[str, Any]:
    counts: dict[str, Any] = {"partner_organisation": _export_partner(writer, slug)}
    if unit is not None:
        counts["procedures"] = _export_procedures(writer, unit)
        progress(f"procedures: {counts['procedures']} definition(s) of unit {unit}")
    return counts


def _export_partner(writer: Writer, slug: str) -> int:
    partner = PartnerOrganisation.objects.using(PERSONAL).filter(organisation_slug=slug).first()
    if partner is None:
        return 0
    writer.json(PARTNER, records.dump(partner),
                "The same organisation on the personal side (no member).")  # fmt: skip
    return 1


def subtree(code: str) -> list[OrganisationalUnit]:
    """The unit and every unit below it."""
    root = OrganisationalUnit.objects.using(PERSONAL).filter(code=code).first()
    if root is None:
        raise UnknownUnit(f"No organisational unit has the code {code!r}.")
    found, frontier = [root], [root]
    while frontier:
        frontier = list(OrganisationalUnit.objects.using(PERSONAL).filter(parent__in=frontier))
        found.extend(frontier)
    return found


def _export_procedures(writer: Writer, code: str) -> int:
    rows = Procedure.objects.using(PERSONAL).filter(unit__in=subtree(code)).order_by("slug")
    procedures, units = [], {}
    for procedure in rows.select_related("unit"):
        groups = procedure.groups.select_related("unit").order_by("name")
        for unit in [procedure.unit, *(g.unit for g in groups)]:
            _with_ancestors(unit, units)
        procedures.append({
            **records.dump(procedure), "unit": procedure.unit.code,
            "versions": [records.dump(v) for v in procedure.versions.order_by("number")],
            "instructor_groups": [{**records.dump(g), "unit": g.unit.code} for g in groups],
        })  # fmt: skip
    writer.json(PROCEDURES, {"owner_unit": code, "units": list(units.values()),
                             "procedures": procedures},
                "Procedure definitions: forms and instructor groups, no file, no person.",
                count=len(procedures))  # fmt: skip
    return len(procedures)


def _with_ancestors(unit: OrganisationalUnit, units: dict[str, dict[str, Any]]) -> None:
    """Parents first, so that an import creates them in order."""
    if unit.code in units:
        return
    if unit.parent is not None:
        _with_ancestors(unit.parent, units)
    units[unit.code] = {**records.dump(unit), "parent": unit.parent.code if unit.parent else None}


# --- Import: plan ------------------------------------------------------------------------


def plan(reader: Reader, into: Plan) -> None:
    names = reader.names()
    if PARTNER in names:
        slug = reader.json(PARTNER).get("organisation_slug")
        exists = PartnerOrganisation.objects.using(PERSONAL).filter(organisation_slug=slug)
        into.add("partner_organisation", str(slug), exists.exists())
    if PROCEDURES not in names:
        return
    data = _procedures(reader)
    for unit in data["units"]:
        if OrganisationalUnit.objects.using(PERSONAL).filter(code=unit["code"]).exists():
            into.actions.append(Action("unit", unit["code"], UNCHANGED, "exists, kept"))
        else:
            into.add("unit", unit["code"], False)
    for item in data["procedures"]:
        _plan_procedure(item, into)


def _procedures(reader: Reader) -> dict[str, Any]:
    data = reader.json(PROCEDURES)
    if not isinstance(data, dict) or not isinstance(data.get("procedures"), list):
        raise ArchiveError(f"{PROCEDURES} holds no list of procedures.")
    data.setdefault("units", [])
    return data


def _plan_procedure(item: dict[str, Any], into: Plan) -> None:
    slug = str(item.get("slug", ""))
    existing = Procedure.objects.using(PERSONAL).filter(slug=slug).first()
    problem = _check(item, existing)
    if problem:
        into.refuse("procedure", slug, problem)
    else:
        into.add("procedure", slug, existing is not None)


def _check(item: dict[str, Any], existing: Procedure | None) -> str:
    """Why the definition cannot be imported, or ""."""
    try:
        procedure = Procedure(**records.load(Procedure, item, frozenset({"unit"})).values)
        procedure.clean_fields(exclude=["unit"])
        for version in item.get("versions", []):
            check_schema(version.get("schema"))
    except (ValidationError, SchemaError, ValueError, TypeError) as exc:
        return "; ".join(getattr(exc, "messages", [str(exc)]))
    if existing is not None:
        for version in item.get("versions", []):
            if _frozen(existing, version):
                return f"version {version.get('number')} differs and files were filed under it"
    return ""


def _frozen(procedure: Procedure, version: dict[str, Any]) -> bool:
    """A version that files refer to cannot be replaced by a different form."""
    current = procedure.versions.filter(number=version.get("number")).first()
    return (
        current is not None
        and current.schema != version.get("schema")
        and Dossier.objects.using(PERSONAL).filter(version=current).exists()
    )


# --- Import: apply -----------------------------------------------------------------------


def apply(reader: Reader, done: Plan) -> dict[str, int]:
    counts = {"partner_organisation": _apply_partner(reader, done), "procedures": 0}
    if PROCEDURES not in reader.names():
        return counts
    data = _procedures(reader)
    for unit in data["units"]:
        if done.verb("unit", unit["code"]) == CREATE:
            _create_unit(unit)
    for item in data["procedures"]:
        if done.verb("procedure", item["slug"]) in (CREATE, UPDATE):
            _apply_procedure(item)
            counts["procedures"] += 1
    return counts


def _apply_partner(reader: Reader, done: Plan) -> int:
    if PARTNER not in reader.names():
        return 0
    values = records.load(PartnerOrganisation, reader.json(PARTNER)).values
    slug = values.get("organisation_slug")
    if done.verb("partner_organisation", str(slug)) not in (CREATE, UPDATE):
        return 0
    rows = PartnerOrganisation.objects.using(PERSONAL)
    partner = rows.filter(organisation_slug=slug).first() or PartnerOrganisation()
    for name, value in values.items():
        setattr(partner, name, value)
    partner.save(using=PERSONAL)
    return 1


def _create_unit(data: dict[str, Any]) -> None:
    values = records.load(OrganisationalUnit, data, frozenset({"parent"})).values
    parent = data.get("parent")
    unit = OrganisationalUnit(**values)
    if parent:
        unit.parent = OrganisationalUnit.objects.using(PERSONAL).get(code=parent)
    unit.save(using=PERSONAL)


def _unit(code: str) -> OrganisationalUnit:
    found = OrganisationalUnit.objects.using(PERSONAL).filter(code=code).first()
    if found is None:
        raise ArchiveError(f"The archive names the unit {code!r}, which neither exists nor "
                           "is in the archive.")  # fmt: skip
    return found


def _apply_procedure(item: dict[str, Any]) -> None:
    values = records.load(Procedure, item, frozenset({"unit"})).values
    procedure = Procedure.objects.using(PERSONAL).filter(slug=values["slug"]).first()
    procedure = procedure or Procedure()
    for name, value in values.items():
        setattr(procedure, name, value)
    procedure.unit = _unit(item["unit"])
    procedure.save(using=PERSONAL)
    for data in item.get("versions", []):
        _apply_version(procedure, data)
    for data in item.get("instructor_groups", []):
        unit = _unit(data["unit"])
        if not procedure.groups.filter(unit=unit).exists():
            loaded = records.load(InstructorGroup, data, frozenset({"unit"})).values
            InstructorGroup(procedure=procedure, unit=unit, **loaded).save(using=PERSONAL)


def _apply_version(procedure: Procedure, data: dict[str, Any]) -> None:
    values = records.load(ProcedureVersion, data).values
    version = procedure.versions.filter(number=values["number"]).first()
    if version is not None and not records.differs(version, values):
        return
    version = version or ProcedureVersion(procedure=procedure)
    for name, value in values.items():
        setattr(version, name, value)
    version.save(using=PERSONAL)
