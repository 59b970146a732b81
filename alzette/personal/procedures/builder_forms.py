"""The form builder's forms: a procedure's settings, and one field's properties.

A field form turns what an agent types (labels in each language, options one per
line, up to three display conditions) into a field definition, and back.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from alzette.core.translated import language_codes
from alzette.personal.accounts.authz import unit_scope
from alzette.personal.accounts.models import OrganisationalUnit
from alzette.personal.procedures.builder import key_from
from alzette.personal.procedures.models import Procedure
from alzette.personal.procedures.schema import ANSWERED, PREFILLS

TYPE_LABELS = {
    "text": _("Short text"),
    "textarea": _("Long text"),
    "email": _("E-mail address"),
    "phone": _("Phone number"),
    "number": _("Number"),
    "date": _("Date"),
    "choice": _("Single choice"),
    "multichoice": _("Multiple choice"),
    "yesno": _("Yes / no"),
    "address": _("Address with commune"),
    "point": _("Point on a map"),
    "file": _("File upload"),
    "block": _("Repeated block"),
    "section": _("Section"),
    "title": _("Title"),
    "help": _("Help text"),
}
OPERATOR_LABELS = {
    "equals": _("is"),
    "not_equals": _("is not"),
    "in": _("is one of (comma-separated)"),
    "not_in": _("is none of (comma-separated)"),
    "is_true": _("is yes"),
    "is_false": _("is no"),
    "filled": _("is answered"),
}
PREFILL_LABELS = {
    "given_name": _("Given names (FranceConnect)"),
    "family_name": _("Birth name (FranceConnect)"),
    "birthdate": _("Date of birth (FranceConnect)"),
    "birthplace": _("Place of birth (FranceConnect)"),
    "gender": _("Gender (FranceConnect)"),
    "email": _("E-mail address of the account"),
}
FILE_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
}
CONDITIONS = 3


def _language_name(code: str) -> str:
    return get_language_info(code)["name_local"].capitalize()


class ProcedureForm(forms.ModelForm):
    title_fr = forms.CharField(label=_("Title in French"), max_length=120)
    summary_fr = forms.CharField(label=_("Summary in French"), max_length=300)

    class Meta:
        model = Procedure
        fields = (
            "slug",
            "unit",
            "reference_prefix",
            "fee_cents",
            "instruction_days",
            "silent_acceptance",
            "retention_days",
            "allow_anonymous",
        )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrganisationalUnit.objects.filter(
            code__in=unit_scope(actor)
        ).order_by("name")
        if not self.instance._state.adding:  # UUID keys exist before the first save
            self.fields["title_fr"].initial = self.instance.title.get("fr", "")
            self.fields["summary_fr"].initial = self.instance.summary.get("fr", "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.instance.title = {**(self.instance.title or {}), "fr": cleaned.get("title_fr", "")}
        self.instance.summary = {
            **(self.instance.summary or {}),
            "fr": cleaned.get("summary_fr", ""),
        }
        return cleaned


class NewFieldForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=list(TYPE_LABELS.items()))
    label_fr = forms.CharField(label=_("Question or text, in French"), max_length=300)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class FieldForm(forms.Form):
    """One field's properties; which apply depends on its type."""

    required = forms.BooleanField(label=_("Answer required"), required=False)
    prefill = forms.ChoiceField(
        label=_("Pre-fill with"),
        required=False,
        choices=[("", _("Nothing")), *PREFILL_LABELS.items()],
    )
    routing = forms.BooleanField(
        label=_("Route the file to the instructors of this commune"),
        required=False,
        help_text=_("For an address, or a choice whose values are commune codes."),
    )
    min_value = forms.CharField(label=_("Minimum"), required=False, max_length=20)
    max_value = forms.CharField(label=_("Maximum"), required=False, max_length=20)
    integer = forms.BooleanField(label=_("Whole numbers only"), required=False)
    max_length = forms.IntegerField(label=_("Maximum length"), required=False, min_value=1)
    min_items = forms.IntegerField(
        label=_("At least (entries or options)"), required=False, min_value=0
    )
    max_items = forms.IntegerField(
        label=_("At most (entries, options or files)"), required=False, min_value=1
    )
    accept = forms.MultipleChoiceField(
        label=_("Accepted file types"),
        required=False,
        choices=list(FILE_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    max_size_mb = forms.IntegerField(
        label=_("Maximum size (MB)"), required=False, min_value=1, max_value=50
    )
    condition_mode = forms.ChoiceField(
        label=_("Show this field"),
        choices=[
            ("all", _("when all these conditions hold")),
            ("any", _("when one of them holds")),
        ],
        required=False,
    )

    def __init__(
        self, *args: Any, definition: dict[str, Any], earlier: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.kind = definition["type"]
        for code in language_codes():
            name = _language_name(code)
            self.fields[f"label_{code}"] = forms.CharField(
                label=name, required=code == settings.LANGUAGE_CODE, max_length=300
            )
            self.fields[f"help_{code}"] = forms.CharField(
                label=name, required=False, max_length=1000
            )
            if self.kind in ("choice", "multichoice"):
                self.fields[f"options_{code}"] = forms.CharField(
                    label=name,
                    required=code == settings.LANGUAGE_CODE,
                    widget=forms.Textarea(attrs={"rows": 4}),
                )
        tested = [
            (f["key"], f["label"].get("fr", f["key"])) for f in earlier if f["type"] in ANSWERED
        ]
        for index in range(CONDITIONS):
            self.fields[f"cond_field_{index}"] = forms.ChoiceField(
                label=_("Field"), required=False, choices=[("", "—"), *tested]
            )
            self.fields[f"cond_op_{index}"] = forms.ChoiceField(
                label=_("Test"), required=False, choices=[("", "—"), *OPERATOR_LABELS.items()]
            )
            self.fields[f"cond_value_{index}"] = forms.CharField(
                label=_("Value"), required=False, max_length=200
            )
        if not self.is_bound:
            self.initial.update(initial_from(definition))

    def language_rows(self, prefix: str) -> list[forms.BoundField]:
        return [
            self[f"{prefix}_{code}"]
            for code in language_codes()
            if f"{prefix}_{code}" in self.fields
        ]

    def condition_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"cond_field_{i}"], self[f"cond_op_{i}"], self[f"cond_value_{i}"])
            for i in range(CONDITIONS)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.kind in ("choice", "multichoice"):
            counts = {
                len(_lines(cleaned.get(f"options_{code}") or "")) for code in language_codes()
            }
            counts.discard(0)
            if len(counts) > 1:
                raise forms.ValidationError(
                    _("Give the same number of options in each language, in the same order.")
                )
        if self.kind == "file" and not cleaned.get("accept"):
            self.add_error("accept", _("Tick at least one file type."))
        for index in range(CONDITIONS):
            field, op = cleaned.get(f"cond_field_{index}"), cleaned.get(f"cond_op_{index}")
            if bool(field) != bool(op):
                self.add_error(f"cond_op_{index}", _("A condition needs a field and a test."))
        return cleaned

    def definition_from(self) -> dict[str, Any]:
        """The field definition the form describes (key and type come from the field)."""
        data = self.cleaned_data
        result: dict[str, Any] = {"label": _texts(data, "label")}
        if help_text := _texts(data, "help"):
            result["help"] = help_text
        if self.kind in ANSWERED and data.get("required"):
            result["required"] = True
        if data.get("prefill") and data["prefill"] in PREFILLS:
            result["prefill"] = data["prefill"]
        if data.get("routing"):
            result["routing"] = True
        if self.kind in ("choice", "multichoice"):
            result["choices"] = _choices(data, self.definition.get("choices", []))
        if self.kind == "file":
            result["accept"] = data["accept"]
            result["max_size"] = (data.get("max_size_mb") or 5) * 1024 * 1024
        if rules := _rules(self.kind, data):
            result["validation"] = rules
        if condition := _condition(data):
            result["condition"] = condition
        return result


def _texts(data: dict[str, Any], prefix: str) -> dict[str, str]:
    return {
        code: text
        for code in language_codes()
        if (text := (data.get(f"{prefix}_{code}") or "").strip())
    }


def _choices(data: dict[str, Any], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Options from the per-language lines; values stay those of the options already
    there (answers refer to them), new ones come from the French label."""
    per_language = {code: _lines(data.get(f"options_{code}") or "") for code in language_codes()}
    taken: set[str] = set()
    choices = []
    for index, french in enumerate(per_language[settings.LANGUAGE_CODE]):
        value = previous[index]["value"] if index < len(previous) else key_from(french, taken)
        taken.add(str(value))
        label = {code: lines[index] for code, lines in per_language.items() if index < len(lines)}
        choices.append({"value": value, "label": label})
    return choices


def _rules(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    if kind in ("text", "textarea") and data.get("max_length"):
        rules["max_length"] = data["max_length"]
    if kind in ("number", "date"):
        for name, key in (("min_value", "min"), ("max_value", "max")):
            value = (data.get(name) or "").strip()
            if value:
                rules[key] = _number_or_text(value) if kind == "number" else value
        if kind == "number" and data.get("integer"):
            rules["integer"] = True
    if kind in ("multichoice", "block", "file"):
        if data.get("min_items") is not None:
            rules["min_items"] = data["min_items"]
        if data.get("max_items"):
            rules["max_items"] = data["max_items"]
    return rules


def _number_or_text(value: str) -> Any:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def _condition(data: dict[str, Any]) -> dict[str, Any] | None:
    tests = []
    for index in range(CONDITIONS):
        field, op = data.get(f"cond_field_{index}"), data.get(f"cond_op_{index}")
        if not (field and op):
            continue
        test: dict[str, Any] = {"field": field, "op": op}
        raw = (data.get(f"cond_value_{index}") or "").strip()
        if op in ("in", "not_in"):
            test["value"] = [part.strip() for part in raw.split(",") if part.strip()]
        elif op in ("equals", "not_equals"):
            test["value"] = raw
        tests.append(test)
    if not tests:
        return None
    return {data.get("condition_mode") or "all": tests}


def initial_from(definition: dict[str, Any]) -> dict[str, Any]:
    """The form's initial values for an existing field definition."""
    rules = definition.get("validation") or {}
    initial: dict[str, Any] = {
        "required": bool(definition.get("required")),
        "prefill": definition.get("prefill", ""),
        "routing": bool(definition.get("routing")),
        "min_value": str(rules.get("min", "")),
        "max_value": str(rules.get("max", "")),
        "integer": bool(rules.get("integer")),
        "max_length": rules.get("max_length"),
        "min_items": rules.get("min_items"),
        "max_items": rules.get("max_items"),
        "accept": definition.get("accept", []),
        "max_size_mb": int(definition.get("max_size", 0)) // (1024 * 1024) or None,
    }
    for code in language_codes():
        initial[f"label_{code}"] = definition.get("label", {}).get(code, "")
        initial[f"help_{code}"] = (definition.get("help") or {}).get(code, "")
        initial[f"options_{code}"] = "\n".join(
            choice["label"].get(code, "") for choice in definition.get("choices", [])
        ).strip()
    condition = definition.get("condition") or {}
    if condition:
        ((mode, tests),) = condition.items()
        initial["condition_mode"] = mode
        for index, test in enumerate(tests[:CONDITIONS]):
            if "field" not in test:
                continue  # nested groups are kept in the JSON, not editable here
            initial[f"cond_field_{index}"] = test["field"]
            initial[f"cond_op_{index}"] = test["op"]
            value = test.get("value", "")
            initial[f"cond_value_{index}"] = ", ".join(value) if isinstance(value, list) else value
    return initial
