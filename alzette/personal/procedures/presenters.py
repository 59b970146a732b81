"""What the form templates show: field definitions and answers turned into plain
dictionaries (labels in the reader's language, current values, errors, visibility)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from alzette.core.translated import pick
from alzette.personal.procedures.schema import ASSET_PICKERS, DEFAULT_BBOX, visible

#: Functions ``(dossier) -> dict | None`` telling a citizen what became of their report
#: elsewhere (the repair of the streetlight they reported): ``{"asset", "address",
#: "status", "planned_for", "done_on"}``. Registered by the bridge.
FOLLOW_UPS: list[Callable[[Any], dict[str, Any] | None]] = []


def register_follow_up(function: Callable[[Any], dict[str, Any] | None]) -> None:
    if function not in FOLLOW_UPS:
        FOLLOW_UPS.append(function)


def follow_ups(dossier: Any) -> list[dict[str, Any]]:
    """What the registered follow-ups say of ``dossier`` (a failing one says nothing)."""
    found = []
    for function in FOLLOW_UPS:
        try:
            result = function(dossier)
        except Exception:  # a follow-up never breaks the citizen's page
            logging.getLogger(__name__).exception("follow-up %s failed", function)
            continue
        if result:
            found.append(result)
    return found


def field_views(
    fields: list[dict[str, Any]],
    answers: dict[str, Any],
    errors: dict[str, list[str]],
    communes: dict[str, str],
    prefix: str = "f-",
    file_names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    shown = {definition["key"] for definition in visible(fields, answers)}
    return [
        _view(
            definition,
            answers,
            errors,
            communes,
            prefix,
            definition["key"] in shown,
            file_names or {},
        )
        for definition in fields
    ]


def _view(
    definition: dict[str, Any],
    answers: dict[str, Any],
    errors: dict[str, list[str]],
    communes: dict[str, str],
    prefix: str,
    shown: bool,
    file_names: dict[str, str],
) -> dict[str, Any]:
    key = definition["key"]
    value = answers.get(key)
    view = {
        "key": key,
        "name": f"{prefix}{key}",
        "id": f"id-{prefix}{key}",
        "type": definition["type"],
        # Several inputs under one question: a fieldset and its legend name them.
        "grouped": definition["type"] in ("multichoice", "yesno", "address", "point", "block"),
        "label": pick(definition["label"]),
        "help": pick(definition.get("help")),
        "required": bool(definition.get("required")),
        "value": value,
        "errors": errors.get(key, [])
        if prefix == "f-"
        else errors.get(_error_key(prefix, key), []),
        "hidden": not shown,
        "condition": json.dumps(definition["condition"]) if definition.get("condition") else "",
        "choices": [
            (choice["value"], pick(choice["label"])) for choice in definition.get("choices", [])
        ],
        "communes": list(communes.items()),
        "accept": ",".join(definition.get("accept", [])),
        "max_size_mb": round(int(definition.get("max_size", 0)) / 1048576, 1),
        "files": [(item, file_names.get(item, item)) for item in (value or [])]
        if definition["type"] == "file"
        else [],
    }
    if definition["type"] == "text":
        view["picker"] = asset_picker(definition)
        view["picker_bbox"] = ",".join(str(c) for c in DEFAULT_BBOX)
    if definition["type"] == "block":
        view["items"] = _block_items(definition, value or [], errors, communes, prefix)
        view["count"] = len(view["items"])
    return view


def asset_picker(definition: dict[str, Any]) -> str:
    """The URL of the candidates of the asset a text field names (``validation.asset``),
    "" when no picker is registered for its kind: the field stays a plain text field."""
    kind = (definition.get("validation") or {}).get("asset")
    url = ASSET_PICKERS.get(str(kind)) if kind else None
    return str(url) if url else ""


def _error_key(prefix: str, key: str) -> str:
    # "f-pupils-0-" + "school" -> "pupils.0.school"
    parts = prefix[2:].rstrip("-").split("-")
    return ".".join([*parts, key])


def _block_items(
    definition: dict[str, Any],
    items: list[dict[str, Any]],
    errors: dict[str, list[str]],
    communes: dict[str, str],
    prefix: str,
) -> list[list[dict[str, Any]]]:
    rendered = [
        field_views(
            definition["fields"], item, errors, communes, f"{prefix}{definition['key']}-{index}-"
        )
        for index, item in enumerate(items)
    ]
    limit = int((definition.get("validation") or {}).get("max_items", 20))
    if len(items) < limit:
        index = len(items)
        rendered.append(
            field_views(
                definition["fields"], {}, {}, communes, f"{prefix}{definition['key']}-{index}-"
            )
        )
    return rendered
