"""From a posted form to answers, and from answers to what the form shows.

Input names: ``f-<key>``; a multiple choice repeats it; an address has
``f-<key>-street`` and ``f-<key>-commune``; a map point ``f-<key>-lat`` and
``f-<key>-lon``; entry ``i`` of a repeated block ``f-<key>-<i>-<sub-key>``,
with ``f-<key>-count`` entries shown.
"""

from __future__ import annotations

from typing import Any, Protocol

from alzette.core.translated import pick
from alzette.personal.procedures.schema import DISPLAY, visible


class PostData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[Any]: ...


def _value(definition: dict[str, Any], data: PostData, name: str) -> Any:
    kind = definition["type"]
    if kind == "multichoice":
        return [value for value in data.getlist(name) if value]
    if kind == "address":
        street, commune = data.get(f"{name}-street", ""), data.get(f"{name}-commune", "")
        return {"street": street, "commune": commune} if (street or commune) else None
    if kind == "point":
        lat, lon = data.get(f"{name}-lat", ""), data.get(f"{name}-lon", "")
        return {"lat": lat, "lon": lon} if (lat or lon) else None
    if kind == "yesno":
        raw = data.get(name, "")
        return {"yes": True, "no": False}.get(raw, raw or None)
    if kind == "block":
        return _block(definition, data, name)
    return data.get(name, "")


def _block(definition: dict[str, Any], data: PostData, name: str) -> list[dict[str, Any]]:
    try:
        count = min(int(data.get(f"{name}-count", "0")), 50)
    except ValueError:
        count = 0
    items = []
    for index in range(count):
        item = {
            sub["key"]: _value(sub, data, f"{name}-{index}-{sub['key']}")
            for sub in definition["fields"]
            if sub["type"] not in DISPLAY
        }
        if any(value not in (None, "", []) for value in item.values()):
            items.append(item)
    return items


def answers_from(
    fields: list[dict[str, Any]], data: PostData, files: dict[str, list[str]]
) -> dict[str, Any]:
    """The answers a form post carries; ``files`` gives the stored-file ids per file field."""
    answers: dict[str, Any] = {}
    for definition in fields:
        kind = definition["type"]
        if kind in DISPLAY:
            continue
        key = definition["key"]
        if kind == "file":
            kept = [item for item in data.getlist(f"f-{key}-keep") if item]
            answers[key] = kept + files.get(key, [])
            continue
        answers[key] = _value(definition, data, f"f-{key}")
    return answers


def rows(
    fields: list[dict[str, Any]], answers: dict[str, Any], file_names: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(label, answer as text) of the shown fields, for summaries, agents and PDFs."""
    file_names = file_names or {}
    result = []
    for definition in visible(fields, answers):
        kind = definition["type"]
        if kind == "section":
            result.append((pick(definition["label"]), ""))
            continue
        if kind in DISPLAY or definition["key"] not in answers:
            continue
        result.append(
            (pick(definition["label"]), text(definition, answers[definition["key"]], file_names))
        )
    return result


def text(definition: dict[str, Any], value: Any, file_names: dict[str, str] | None = None) -> str:
    """One answer as a person reads it."""
    kind = definition["type"]
    labels = {choice["value"]: pick(choice["label"]) for choice in definition.get("choices", [])}
    if kind == "choice":
        return labels.get(value, str(value))
    if kind == "multichoice":
        return ", ".join(labels.get(item, str(item)) for item in value)
    if kind == "yesno":
        from django.utils.translation import gettext

        return gettext("Yes") if value else gettext("No")
    if kind == "address":
        return f"{value.get('street', '')}, {value.get('commune_name', value.get('commune', ''))}"
    if kind == "point":
        return f"{value['lat']:.5f}, {value['lon']:.5f}"
    if kind == "file":
        names = file_names or {}
        return ", ".join(names.get(item, item) for item in value)
    if kind == "block":
        return " ; ".join(
            " · ".join(
                text(sub, item[sub["key"]], file_names)
                for sub in definition["fields"]
                if sub["key"] in item
            )
            for item in value
        )
    return str(value)
