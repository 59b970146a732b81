"""Model rows to plain JSON values and back, field by field from the model's ``_meta``.

The exporters list no fields by hand: a field added to a model later travels with
the archive without a change here, and a field the target does not know is
reported rather than silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

#: Never carried: the row's identity and bookkeeping belong to each instance.
BOOKKEEPING = frozenset({"id", "created_at", "updated_at"})


def plain_fields(model: type[models.Model], exclude: frozenset[str] = frozenset()) -> list[Any]:
    """The concrete fields that hold a value (no relation, no file, no bookkeeping)."""
    return [
        f for f in model._meta.concrete_fields
        if not f.is_relation and not isinstance(f, models.FileField)
        and f.name not in BOOKKEEPING and f.name not in exclude and not f.primary_key
    ]  # fmt: skip


def file_fields(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def dump(row: models.Model, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The row's plain fields as JSON-ready values (dates stay objects for the encoder)."""
    return {f.name: f.value_from_object(row) for f in plain_fields(type(row), exclude)}


@dataclass
class Loaded:
    """Values ready for the model, and the names the target model does not have."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def load(model: type[models.Model], data: dict[str, Any],
         exclude: frozenset[str] = frozenset()) -> Loaded:  # fmt: skip
    """Archive values converted by each field (``to_python``); unknown names are listed."""
    known = {f.name: f for f in plain_fields(model, exclude)}
    loaded = Loaded()
    for name, value in data.items():
        if name in exclude or name in BOOKKEEPING:
            continue
        found = known.get(name)
        if found is None:
            loaded.unknown.append(name)
            continue
        try:
            loaded.values[name] = found.to_python(value)
        except ValidationError as exc:
            raise ValueError(f"{model.__name__}.{name}: {'; '.join(exc.messages)}") from None
    return loaded


def differs(row: models.Model, values: dict[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in values.items())
