"""The form engine of online procedures: definitions, conditions, answer validation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from alzette.personal.procedures import formdata, schema
from alzette.personal.procedures.demo import PROCEDURES


def label(text: str) -> dict[str, str]:
    return {"fr": text}


FORM = [
    {"key": "name", "type": "text", "label": label("Nom"), "required": True},
    {"key": "has_child", "type": "yesno", "label": label("Enfant ?"), "required": True},
    {
        "key": "child",
        "type": "text",
        "label": label("Prénom de l'enfant"),
        "required": True,
        "condition": {"all": [{"field": "has_child", "op": "is_true"}]},
    },
    {
        "key": "kind",
        "type": "choice",
        "label": label("Type"),
        "choices": [{"value": "a", "label": label("A")}, {"value": "b", "label": label("B")}],
    },
    {
        "key": "detail",
        "type": "text",
        "label": label("Détail"),
        "required": True,
        "condition": {
            "any": [
                {"field": "kind", "op": "equals", "value": "b"},
                {
                    "all": [
                        {"field": "has_child", "op": "is_true"},
                        {"field": "child", "op": "filled"},
                    ]
                },
            ]
        },
    },
]
CONTEXT = schema.Context(communes={"54580": "Villerupt"}, today=dt.date(2026, 11, 28))


def test_every_demo_form_is_a_valid_definition():
    communes = [{"value": code, "label": label(code)} for code in ("54580", "57038")]
    for spec in PROCEDURES:
        # The dump report's commune choices are filled from the database at start-up.
        schema.check_schema(
            [{**f, "choices": communes} if f["key"] == "commune" else f for f in spec[-1]]
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"key": "x", "type": "bogus", "label": label("X")}], "unknown type"),
        ([{"key": "Bad Key", "type": "text", "label": label("X")}], "key"),
        ([{"key": "x", "type": "text", "label": {"en": "X"}}], "French"),
        (
            [
                {"key": "x", "type": "text", "label": label("X")},
                {"key": "x", "type": "text", "label": label("Y")},
            ],
            "twice",
        ),
        (
            [
                {
                    "key": "x",
                    "type": "choice",
                    "label": label("X"),
                    "choices": [{"value": 1, "label": label("1")}],
                }
            ],
            "two options",
        ),
        (
            [
                {
                    "key": "x",
                    "type": "text",
                    "label": label("X"),
                    "condition": {"all": [{"field": "y", "op": "filled"}]},
                }
            ],
            "placed before",
        ),
        ([{"key": "x", "type": "file", "label": label("X"), "max_size": 10}], "accepted types"),
        ([{"key": "x", "type": "block", "label": label("X"), "fields": []}], "sub-fields"),
        ([{"key": "x", "type": "text", "label": label("X"), "prefill": "salary"}], "pre-fill"),
    ],
)
def test_bad_definitions_are_refused_with_the_field_named(fields, message):
    with pytest.raises(schema.SchemaError, match=message):
        schema.check_schema(fields)


def test_conditions_hide_fields_and_their_dependants():
    keys = [f["key"] for f in schema.visible(FORM, {"has_child": False, "kind": "a"})]
    assert keys == ["name", "has_child", "kind"]
    keys = [
        f["key"] for f in schema.visible(FORM, {"has_child": True, "child": "Léa", "kind": "a"})
    ]
    assert keys == ["name", "has_child", "child", "kind", "detail"]
    # "child" is hidden, so its stale answer does not make "detail" appear.
    keys = [
        f["key"] for f in schema.visible(FORM, {"has_child": False, "child": "Léa", "kind": "a"})
    ]
    assert "detail" not in keys


def test_hidden_answers_are_dropped_and_required_visible_ones_are_errors():
    clean, errors = schema.validate_answers(
        FORM, {"name": "Ana", "has_child": False, "child": "Léa"}, CONTEXT
    )
    assert clean == {"name": "Ana", "has_child": False} and errors == {}
    with translation.override("en"):
        _clean, errors = schema.validate_answers(FORM, {"has_child": True}, CONTEXT)
    assert errors == {"name": ["This field is required."], "child": ["This field is required."]}
    _clean, errors = schema.validate_answers(FORM, {"has_child": True}, CONTEXT, partial=True)
    assert errors == {}


@pytest.mark.parametrize(
    ("definition", "raw", "expected"),
    [
        ({"type": "email"}, "Ana@Example.ORG", "ana@example.org"),
        ({"type": "phone"}, "06 12 34 56 78", "+33612345678"),
        ({"type": "phone"}, "+352 621 123 456", "+352621123456"),
        ({"type": "number", "validation": {"min": 0, "max": 10}}, "2,5", "2.5"),
        ({"type": "number", "validation": {"integer": True}}, "4", 4),
        ({"type": "date", "validation": {"max": "today"}}, "2026-11-28", "2026-11-28"),
        ({"type": "yesno"}, "no", False),
        (
            {"type": "address"},
            {"street": " 1 rue X ", "commune": "54580"},
            {"street": "1 rue X", "commune": "54580", "commune_name": "Villerupt"},
        ),
        ({"type": "point"}, {"lat": "49.46", "lon": "5.93"}, {"lat": 49.46, "lon": 5.93}),
        (
            {
                "type": "multichoice",
                "choices": [
                    {"value": "a", "label": label("A")},
                    {"value": "b", "label": label("B")},
                ],
            },
            ["b", "a"],
            ["a", "b"],
        ),
    ],
)
def test_good_answers_are_normalised(definition, raw, expected):
    fields = [{"key": "x", "label": label("X"), **definition}]
    clean, errors = schema.validate_answers(fields, {"x": raw}, CONTEXT)
    assert errors == {} and clean == {"x": expected}


@pytest.mark.parametrize(
    ("definition", "raw"),
    [
        ({"type": "email"}, "not-an-email"),
        ({"type": "phone"}, "12"),
        ({"type": "number"}, "NaN"),
        ({"type": "number", "validation": {"max": 10}}, "11"),
        ({"type": "number", "validation": {"integer": True}}, "1.5"),
        ({"type": "date"}, "28/11/2026"),
        ({"type": "date", "validation": {"max": "today"}}, "2026-11-29"),
        ({"type": "text", "validation": {"max_length": 3}}, "four"),
        ({"type": "text", "validation": {"pattern": "[A-Z]{2}-[0-9]{3}-[A-Z]{2}"}}, "ab-123-cd"),
        ({"type": "text"}, {"nested": "object"}),
        (
            {
                "type": "choice",
                "choices": [
                    {"value": "a", "label": label("A")},
                    {"value": "b", "label": label("B")},
                ],
            },
            "c",
        ),
        ({"type": "yesno"}, "maybe"),
        ({"type": "address"}, {"street": "1 rue X", "commune": "75056"}),
        ({"type": "point"}, {"lat": "48.85", "lon": "2.35"}),
        ({"type": "point"}, {"lat": "north", "lon": "5.9"}),
        ({"type": "file", "accept": ["image/png"], "max_size": 10}, ["not-uploaded-here"]),
    ],
)
def test_bad_answers_are_errors_on_their_field(definition, raw):
    fields = [{"key": "x", "label": label("X"), **definition}]
    context = schema.Context(
        communes={"54580": "Villerupt"}, file_ok=lambda *_: False, today=dt.date(2026, 11, 28)
    )
    clean, errors = schema.validate_answers(fields, {"x": raw}, context)
    assert list(errors) == ["x"] and "x" not in clean


def test_repeated_blocks_validate_each_entry():
    block = {
        "key": "kids",
        "type": "block",
        "label": label("Enfants"),
        "required": True,
        "validation": {"min_items": 1, "max_items": 2},
        "fields": [{"key": "kid", "type": "text", "label": label("Prénom"), "required": True}],
    }
    clean, errors = schema.validate_answers(
        [block], {"kids": [{"kid": "Léa"}, {"kid": ""}]}, CONTEXT
    )
    assert errors == {"kids.1.kid": [errors["kids.1.kid"][0]]}
    _clean, errors = schema.validate_answers([block], {"kids": [{"kid": "a"}] * 3}, CONTEXT)
    assert list(errors) == ["kids"]
    clean, errors = schema.validate_answers([block], {"kids": [{"kid": "Léa"}]}, CONTEXT)
    assert clean == {"kids": [{"kid": "Léa"}]} and errors == {}


class Post(dict):
    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


def test_a_form_post_becomes_answers_and_answers_become_text():
    fields = PROCEDURES[1][-1]  # the canteen: a repeated block
    post = Post(
        {
            "f-given_name": "Ana",
            "f-address-street": "2 rue Pasteur",
            "f-address-commune": "54580",
            "f-pupils-count": "2",
            "f-pupils-0-pupil_name": "Léo",
            "f-pupils-0-school": "pasteur",
            "f-pupils-0-diet": "standard",
            "f-rules": "yes",
        }
    )
    answers = formdata.answers_from(fields, post, {})
    assert answers["pupils"] == [{"pupil_name": "Léo", "school": "pasteur", "diet": "standard"}]
    assert answers["rules"] is True and answers["address"]["commune"] == "54580"
    with translation.override("en"):
        rows = dict(
            formdata.rows(
                fields,
                {
                    **answers,
                    "address": {
                        "street": "2 rue Pasteur",
                        "commune": "54580",
                        "commune_name": "Villerupt",
                    },
                },
            )
        )
    assert "Léo · Pasteur school · Standard" in rows.values()
