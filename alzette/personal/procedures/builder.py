"""The form builder, the domain: agents change a draft of a procedure's form, field
by field, then publish it as a new version.

Each procedure has at most one draft version (``published_at`` empty); it starts
as a copy of the current form. Fields are addressed by their key, unique in the
whole form (sub-fields of repeated blocks included). Every change is checked
with ``schema.check_schema`` before it is saved, so a draft is always a valid form.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from alzette.core.repositories import PERSONAL
from alzette.personal.procedures import schema
from alzette.personal.procedures.authz import manages
from alzette.personal.procedures.models import Procedure, ProcedureVersion


def draft(actor: Any, procedure: Procedure) -> ProcedureVersion:
    """The procedure's draft form, created from the current one if there is none."""
    if not manages(actor, procedure):
        raise PermissionDenied(_("You do not manage this procedure."))
    found = procedure.versions.filter(published_at__isnull=True).first()
    if found is not None:
        return found
    current = procedure.current_version
    last = procedure.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return ProcedureVersion.objects.create(
        procedure=procedure,
        number=last + 1,
        schema=copy.deepcopy(current.schema) if current else [],
        created_by=actor,
    )


def key_from(label: str, taken: set[str]) -> str:
    """A field key from its French label: "Date de naissance" -> "date_de_naissance"."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:32] or "field"
    if not base[0].isalpha():
        base = f"f_{base}"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def all_keys(fields: list[dict[str, Any]]) -> set[str]:
    keys = set()
    for definition in fields:
        keys.add(definition["key"])
        keys |= all_keys(definition.get("fields", []))
    return keys


def locate(fields: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], int]:
    """(the list holding the field, its index); KeyError when absent."""
    for index, definition in enumerate(fields):
        if definition["key"] == key:
            return fields, index
        if definition.get("fields"):
            try:
                return locate(definition["fields"], key)
            except KeyError:
                pass
    raise KeyError(key)


def _save(version: ProcedureVersion, fields: list[dict[str, Any]]) -> ProcedureVersion:
    schema.check_schema(fields)  # SchemaError names the faulty field; nothing is saved
    with transaction.atomic(using=PERSONAL):
        version.schema = fields
        version.save(update_fields=["schema", "updated_at"])
    return version


def add_field(version: ProcedureVersion, definition: dict[str, Any], parent: str = "") -> str:
    """Append a field (inside the repeated block ``parent`` when given); its key."""
    fields = copy.deepcopy(version.schema)
    definition = dict(definition)
    definition["key"] = definition.get("key") or key_from(
        definition["label"].get("fr", ""), all_keys(fields)
    )
    target = fields
    if parent:
        holder, index = locate(fields, parent)
        target = holder[index].setdefault("fields", [])
    target.append(definition)
    _save(version, fields)
    return definition["key"]


def update_field(version: ProcedureVersion, key: str, changes: dict[str, Any]) -> None:
    """Replace a field's properties (its key and type stay)."""
    fields = copy.deepcopy(version.schema)
    holder, index = locate(fields, key)
    kept = {"key": key, "type": holder[index]["type"]}
    if holder[index].get("fields"):
        kept["fields"] = holder[index]["fields"]
    holder[index] = {**changes, **kept}
    _save(version, fields)


def remove_field(version: ProcedureVersion, key: str) -> None:
    fields = copy.deepcopy(version.schema)
    holder, index = locate(fields, key)
    del holder[index]
    _save(version, fields)  # refused if another field's condition tests it


def move_field(version: ProcedureVersion, key: str, direction: str) -> None:
    fields = copy.deepcopy(version.schema)
    holder, index = locate(fields, key)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(holder):
        return
    holder[index], holder[other] = holder[other], holder[index]
    _save(version, fields)  # refused if a condition would test a field placed after it


def publish(actor: Any, procedure: Procedure) -> ProcedureVersion:
    """The draft becomes the current form; files filed before keep their version."""
    version = draft(actor, procedure)
    schema.check_schema(version.schema)
    if not schema.answered_fields(version.schema):
        raise schema.SchemaError(_("The form needs at least one question."))
    from django.utils import timezone

    with transaction.atomic(using=PERSONAL):
        version.published_at = timezone.now()
        version.save(update_fields=["published_at", "updated_at"])
        procedure.published = True
        procedure.save(update_fields=["published", "updated_at"])
    return version
