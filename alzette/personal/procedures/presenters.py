"""What the form templates show: field definitions and answers turned into plain
dictionaries (labels in the reader's language, current values, errors, visibility)."""

from __future__ import annotations

import json
from typing import Any

from alzette.core.translated import pick
from alzette.personal.procedures.schema import visible


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
    if definition["type"] == "block":
        view["items"] = _block_items(definition, value or [], errors, communes, prefix)
        view["count"] = len(view["items"])
    return view


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
