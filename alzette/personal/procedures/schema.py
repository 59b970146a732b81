"""A procedure's form, as data: field definitions, conditions and answer validation.

Agents build forms without code; what they build is a list of field
definitions (JSON, kept in ``ProcedureVersion.schema``). This module checks a
definition (``check_schema``), decides which fields are shown for given answers
(``visible``) and validates answers (``validate_answers``). It imports no HTTP
framework: the pages and the API adapt form posts to plain dictionaries.

A field definition::

    {"key": "child_name", "type": "text", "label": {"fr": "...", "en": "..."},
     "help": {...}, "required": true, "validation": {"max_length": 80},
     "condition": {"all": [{"field": "has_child", "op": "is_true"}]},
     "prefill": "given_name"}

Types with an answer: text, textarea, email, phone, number, date, choice,
multichoice, yesno, address, point, file, block (a repeated group of
sub-fields, in ``fields``). Types without: section, title, help.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from alzette.core.translated import language_codes, pick

ANSWERED = frozenset(
    {
        "text",
        "textarea",
        "email",
        "phone",
        "number",
        "date",
        "choice",
        "multichoice",
        "yesno",
        "address",
        "point",
        "file",
        "block",
    }
)
DISPLAY = frozenset({"section", "title", "help"})
TYPES = ANSWERED | DISPLAY
OPERATORS = frozenset({"equals", "not_equals", "in", "not_in", "is_true", "is_false", "filled"})
#: Identity values FranceConnect certifies, which a field may be pre-filled with.
PREFILLS = frozenset({"given_name", "family_name", "birthdate", "birthplace", "email", "gender"})
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000}
#: The territory's bounding box (lon/lat, CRS84) with a margin: map points outside are refused.
DEFAULT_BBOX = (5.85, 49.33, 6.08, 49.53)


#: Checks of asset references (``"validation": {"asset": "Streetlight"}`` on a text
#: field): the asset kind -> whether a reference names a known asset. Registered by
#: the apps that know the assets (the bridge, for the territory's streetlights).
ASSET_CHECKS: dict[str, Callable[[str], bool]] = {}

#: Where the form's map picker finds the candidates of an asset kind: the kind -> the URL
#: (a string or a lazy one) of a public GeoJSON source answering
#: ``?bbox=min lon,min lat,max lon,max lat&near=lon,lat&limit=n`` with a FeatureCollection
#: of Points, nearest first, each feature's ``id`` being the reference the field takes.
#: Registered like ``ASSET_CHECKS``; a kind without one keeps its plain text field.
ASSET_PICKERS: dict[str, Any] = {}


class SchemaError(ValueError):
    """A form definition that cannot be used; the message names the field."""


# --- Checking a definition ---------------------------------------------------------


def check_schema(fields: list[dict[str, Any]]) -> None:
    """Raise SchemaError on the first problem of a form definition."""
    if not isinstance(fields, list):
        raise SchemaError("A form is a list of fields.")
    seen: set[str] = set()
    _check_fields(fields, seen, prefix="", earlier=[])


def _check_fields(fields: list[Any], seen: set[str], prefix: str, earlier: list[str]) -> None:
    for position, definition in enumerate(fields, start=1):
        where = f"{prefix}field {position}"
        if not isinstance(definition, dict):
            raise SchemaError(f"{where}: a field is an object.")
        kind = definition.get("type")
        if kind not in TYPES:
            raise SchemaError(f"{where}: unknown type {kind!r}.")
        key = definition.get("key", "")
        if not KEY.fullmatch(str(key)):
            raise SchemaError(f"{where}: the key must be lower-case letters, digits and '_'.")
        if key in seen:
            raise SchemaError(f"{where}: the key {key!r} is used twice.")
        seen.add(key)
        _check_label(definition, where)
        _check_options(definition, kind, where)
        if "condition" in definition:
            _check_condition(definition["condition"], earlier, where)
        if kind == "block":
            subfields = definition.get("fields")
            if not isinstance(subfields, list) or not subfields:
                raise SchemaError(f"{where}: a repeated block needs sub-fields.")
            if any(
                sub.get("type") in ("block", "file") for sub in subfields if isinstance(sub, dict)
            ):
                raise SchemaError(f"{where}: a repeated block cannot hold blocks or files.")
            _check_fields(subfields, seen, f"{key}: ", [])
        earlier.append(key)


def _check_label(definition: dict[str, Any], where: str) -> None:
    label = definition.get("label")
    if not isinstance(label, dict) or not str(label.get("fr", "")).strip():
        raise SchemaError(f"{where}: a label in French is required.")
    unknown = set(label) - set(language_codes())
    if unknown:
        raise SchemaError(f"{where}: unknown label language(s) {sorted(unknown)}.")


def _check_options(definition: dict[str, Any], kind: str, where: str) -> None:
    if kind in ("choice", "multichoice"):
        choices = definition.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise SchemaError(f"{where}: a choice needs at least two options.")
        values = [choice.get("value") for choice in choices if isinstance(choice, dict)]
        if len(values) != len(choices) or len(set(values)) != len(values):
            raise SchemaError(f"{where}: options need distinct values.")
        for choice in choices:
            _check_label(choice, f"{where}, option {choice.get('value')!r}")
    prefill = definition.get("prefill")
    if prefill is not None and prefill not in PREFILLS:
        raise SchemaError(f"{where}: unknown pre-fill {prefill!r}.")
    if kind == "file":
        accept = definition.get("accept")
        if not isinstance(accept, list) or not accept:
            raise SchemaError(f"{where}: a file field lists the accepted types.")
        if int(definition.get("max_size", 0)) <= 0:
            raise SchemaError(f"{where}: a file field needs a maximum size.")


def _check_condition(condition: Any, earlier: list[str], where: str) -> None:
    if not isinstance(condition, dict) or len(condition) != 1:
        raise SchemaError(f"{where}: a condition is {{'all': [...]}} or {{'any': [...]}}.")
    ((mode, parts),) = condition.items()
    if mode in ("all", "any"):
        if not isinstance(parts, list) or not parts:
            raise SchemaError(f"{where}: '{mode}' needs a list of conditions.")
        for part in parts:
            if isinstance(part, dict) and ("all" in part or "any" in part):
                _check_condition(part, earlier, where)
            else:
                _check_test(part, earlier, where)
    else:
        raise SchemaError(f"{where}: a condition is {{'all': [...]}} or {{'any': [...]}}.")


def _check_test(test: Any, earlier: list[str], where: str) -> None:
    if not isinstance(test, dict) or test.get("op") not in OPERATORS:
        raise SchemaError(f"{where}: a test needs an operator among {sorted(OPERATORS)}.")
    if test.get("field") not in earlier:
        raise SchemaError(f"{where}: a condition can only test a field placed before it.")


# --- Conditions ---------------------------------------------------------------------


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def _test(test: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    value = answers.get(test["field"])
    expected = test.get("value")
    op = test["op"]
    if op == "filled":
        return _filled(value)
    if op in ("is_true", "is_false"):
        return value is (op == "is_true")
    if isinstance(value, list):  # a multiple choice: does it contain the value(s)?
        hit = bool(set(value) & set(expected if isinstance(expected, list) else [expected]))
    elif op in ("in", "not_in"):
        hit = value in (expected or [])
    else:
        hit = value == expected
    return hit if op in ("equals", "in") else not hit


def holds(condition: Mapping[str, Any] | None, answers: Mapping[str, Any]) -> bool:
    """Whether ``condition`` (AND/OR, nested) holds for ``answers``; no condition holds."""
    if not condition:
        return True
    ((mode, parts),) = condition.items()
    results = (
        holds(part, answers) if ("all" in part or "any" in part) else _test(part, answers)
        for part in parts
    )
    return all(results) if mode == "all" else any(results)


def visible(fields: list[dict[str, Any]], answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fields shown for ``answers``: a field whose condition fails is hidden, and so
    are the fields that depend on a hidden one (its answer does not count)."""
    shown: list[dict[str, Any]] = []
    effective: dict[str, Any] = {}
    for definition in fields:
        if holds(definition.get("condition"), effective):
            shown.append(definition)
            if definition["type"] in ANSWERED:
                effective[definition["key"]] = answers.get(definition["key"])
    return shown


# --- Validating answers ---------------------------------------------------------------


@dataclass
class Context:
    """What validation needs from outside: the communes (INSEE code -> name), the
    territory's box, and a function saying whether a stored file id is acceptable."""

    communes: Mapping[str, str] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] = DEFAULT_BBOX
    file_ok: Callable[[str, dict[str, Any]], bool] = lambda _id, _definition: True
    today: dt.date = field(default_factory=dt.date.today)


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validate_answers(
    fields: list[dict[str, Any]],
    answers: Mapping[str, Any],
    context: Context,
    *,
    partial: bool = False,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(clean answers, errors by field key). Hidden fields are dropped; with
    ``partial`` (a draft), missing required answers are not errors yet."""
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for definition in visible(fields, answers):
        kind = definition["type"]
        if kind in DISPLAY:
            continue
        key = definition["key"]
        raw = answers.get(key)
        if not _filled(raw) and raw is not False:
            if definition.get("required") and not partial:
                errors[key] = [_("This field is required.")]
            continue
        try:
            clean[key] = _clean(definition, raw, context, partial, errors)
        except Invalid as exc:
            errors[key] = [exc.message]
    return clean, errors


def _clean(
    definition: dict[str, Any],
    raw: Any,
    context: Context,
    partial: bool,
    errors: dict[str, list[str]],
) -> Any:
    kind = definition["type"]
    if kind == "block":
        return _clean_block(definition, raw, context, partial, errors)
    return CLEANERS[kind](definition, raw, context)


def _rules(definition: dict[str, Any]) -> dict[str, Any]:
    return definition.get("validation") or {}


def _text(definition: dict[str, Any], raw: Any, _context: Context) -> str:
    if not isinstance(raw, str):
        raise Invalid(_("Enter a text."))
    value = raw.strip()
    rules = _rules(definition)
    limit = int(rules.get("max_length", DEFAULT_MAX_LENGTH.get(definition["type"], 200)))
    if len(value) > limit:
        raise Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    if len(value) < int(rules.get("min_length", 0)):
        raise Invalid(_("At least %(limit)d characters.") % {"limit": int(rules["min_length"])})
    pattern = rules.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        raise Invalid(pick(rules.get("pattern_message")) or _("The format is not valid."))
    asset = rules.get("asset")
    if asset:
        check = ASSET_CHECKS.get(str(asset))
        if check is None or not check(value):
            raise Invalid(pick(rules.get("asset_message")) or _("No such item is known here."))
    return value


def _email(definition: dict[str, Any], raw: Any, context: Context) -> str:
    value = _text(definition, raw, context)
    try:
        validate_email(value)
    except ValidationError as exc:
        raise Invalid(_("Enter a valid e-mail address.")) from exc
    return value.lower()


def _phone(_definition: dict[str, Any], raw: Any, _context: Context) -> str:
    """A French number, or any international one (+352 for Luxembourg), in E.164."""
    try:
        number = phonenumbers.parse(str(raw), "FR")
    except phonenumbers.NumberParseException as exc:
        raise Invalid(_("Enter a valid phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid(_("Enter a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _number(definition: dict[str, Any], raw: Any, _context: Context) -> int | str:
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise Invalid(_("Enter a number.")) from exc
    if not value.is_finite():
        raise Invalid(_("Enter a number."))
    rules = _rules(definition)
    if rules.get("integer") and value != value.to_integral_value():
        raise Invalid(_("Enter a whole number."))
    if "min" in rules and value < Decimal(str(rules["min"])):
        raise Invalid(_("The minimum is %(limit)s.") % {"limit": rules["min"]})
    if "max" in rules and value > Decimal(str(rules["max"])):
        raise Invalid(_("The maximum is %(limit)s.") % {"limit": rules["max"]})
    # Kept as text (JSON has no decimals); integers stay integers.
    return int(value) if value == value.to_integral_value() else str(value.normalize())


def _date_limit(value: Any, today: dt.date) -> dt.date:
    return today if value == "today" else dt.date.fromisoformat(str(value))


def _date(definition: dict[str, Any], raw: Any, context: Context) -> str:
    try:
        value = dt.date.fromisoformat(str(raw).strip())
    except ValueError as exc:
        raise Invalid(_("Enter a date (YYYY-MM-DD).")) from exc
    rules = _rules(definition)
    if "min" in rules and value < _date_limit(rules["min"], context.today):
        raise Invalid(_("The date is too early."))
    if "max" in rules and value > _date_limit(rules["max"], context.today):
        raise Invalid(_("The date is too late."))
    return value.isoformat()


def _values(definition: dict[str, Any]) -> list[Any]:
    return [choice["value"] for choice in definition["choices"]]


def _choice(definition: dict[str, Any], raw: Any, _context: Context) -> Any:
    if raw not in _values(definition):
        raise Invalid(_("Choose one of the options."))
    return raw


def _multichoice(definition: dict[str, Any], raw: Any, _context: Context) -> list[Any]:
    picked = raw if isinstance(raw, list) else [raw]
    if any(value not in _values(definition) for value in picked):
        raise Invalid(_("Choose among the options."))
    rules = _rules(definition)
    if len(picked) < int(rules.get("min_items", 0)):
        raise Invalid(_("Choose at least %(limit)d options.") % {"limit": int(rules["min_items"])})
    if "max_items" in rules and len(picked) > int(rules["max_items"]):
        raise Invalid(_("Choose at most %(limit)d options.") % {"limit": int(rules["max_items"])})
    return [value for value in _values(definition) if value in picked]  # the form's order


def _yesno(_definition: dict[str, Any], raw: Any, _context: Context) -> bool:
    if raw in (True, "true", "yes", "1", "on"):
        return True
    if raw in (False, "false", "no", "0"):
        return False
    raise Invalid(_("Answer yes or no."))


def _address(_definition: dict[str, Any], raw: Any, context: Context) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise Invalid(_("Enter an address."))
    street = str(raw.get("street", "")).strip()
    commune = str(raw.get("commune", "")).strip()
    if not street or len(street) > 200:
        raise Invalid(_("Enter the number and street (200 characters at most)."))
    if commune not in context.communes:
        raise Invalid(_("Choose a commune of the territory."))
    return {"street": street, "commune": commune, "commune_name": context.communes[commune]}


def _point(_definition: dict[str, Any], raw: Any, context: Context) -> dict[str, float]:
    try:
        lat, lon = float(raw["lat"]), float(raw["lon"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Invalid(_("Place a point on the map.")) from exc
    west, south, east, north = context.bbox
    if not (south <= lat <= north and west <= lon <= east):
        raise Invalid(_("The point is outside the territory."))
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def _file(definition: dict[str, Any], raw: Any, context: Context) -> list[str]:
    ids = [str(item) for item in (raw if isinstance(raw, list) else [raw])]
    limit = int(_rules(definition).get("max_items", 1))
    if len(ids) > limit:
        raise Invalid(_("At most %(limit)d files.") % {"limit": limit})
    if not all(context.file_ok(file_id, definition) for file_id in ids):
        raise Invalid(_("A file is not acceptable for this field."))
    return ids


def _clean_block(
    definition: dict[str, Any],
    raw: Any,
    context: Context,
    partial: bool,
    errors: dict[str, list[str]],
) -> list[dict[str, Any]]:
    items = raw if isinstance(raw, list) else []
    rules = _rules(definition)
    limit = int(rules.get("max_items", 20))
    if len(items) > limit:
        raise Invalid(_("At most %(limit)d entries.") % {"limit": limit})
    if not partial and len(items) < int(
        rules.get("min_items", 1 if definition.get("required") else 0)
    ):
        raise Invalid(
            _("Add at least %(limit)d entries.") % {"limit": int(rules.get("min_items", 1))}
        )
    cleaned = []
    for index, item in enumerate(items):
        values, item_errors = validate_answers(
            definition["fields"],
            item if isinstance(item, Mapping) else {},
            context,
            partial=partial,
        )
        for sub_key, messages in item_errors.items():
            errors[f"{definition['key']}.{index}.{sub_key}"] = messages
        cleaned.append(values)
    return cleaned


CLEANERS: dict[str, Callable[[dict[str, Any], Any, Context], Any]] = {
    "text": _text,
    "textarea": _text,
    "email": _email,
    "phone": _phone,
    "number": _number,
    "date": _date,
    "choice": _choice,
    "multichoice": _multichoice,
    "yesno": _yesno,
    "address": _address,
    "point": _point,
    "file": _file,
}


def answered_fields(fields: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields that take an answer (not sections, titles and help texts)."""
    return [definition for definition in fields if definition["type"] in ANSWERED]


def file_ids(fields: list[dict[str, Any]], answers: Mapping[str, Any]) -> set[str]:
    """Every stored-file id the answers refer to."""
    found: set[str] = set()
    for definition in fields:
        if definition["type"] == "file":
            found.update(str(item) for item in answers.get(definition["key"]) or [])
    return found
