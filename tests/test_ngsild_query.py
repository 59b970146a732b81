"""The NGSI-LD query language q (CIM 009 §4.9): parsing, matching stored entities, and
the prefilter conditions that narrow rows in SQL."""

from __future__ import annotations

import operator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from alzette.territory.ngsild.query import (
    MAX_LENGTH,
    Condition,
    QueryError,
    compile_q,
    parse_q,
)

WM = "https://smartdatamodels.org/dataModel.WasteManagement/"
SDM = "https://smartdatamodels.org/"
EX = "https://example.org/"
TERMS = {
    "fillingLevel": WM + "fillingLevel",
    "refWasteContainerIsle": WM + "refWasteContainerIsle",
    "accuracy": SDM + "accuracy",
    "name": SDM + "name",
    "location": "https://uri.etsi.org/ngsi-ld/location",
}


def expand(term: str) -> str:
    if ":" in term:
        return term
    return TERMS.get(term, EX + term)


ORG2 = "urn:ngsi-ld:Org:2"
ISLE = "urn:ngsi-ld:WasteContainerIsle:"
CONTAINER = {
    "id": "urn:ngsi-ld:WasteContainer:1",
    "type": [WM + "WasteContainer"],
    "createdAt": "2026-01-01T00:00:00Z",
    "modifiedAt": "2026-01-01T00:00:00Z",
    WM + "fillingLevel": [
        {"type": "Property", "value": 0.87, "observedAt": "2026-01-01T10:00:00Z",
         "unitCode": "P1", SDM + "accuracy": [{"type": "Property", "value": 0.05}]}
    ],
    "https://uri.etsi.org/ngsi-ld/location": [
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [6.0, 49.5]}}
    ],
    WM + "refWasteContainerIsle": [
        {"type": "Relationship", "object": "urn:ngsi-ld:WasteContainerIsle:7"}
    ],
    SDM + "name": [{"type": "LanguageProperty", "languageMap": {"fr": "Bac", "de": "Tonne"}}],
    EX + "address": [
        {"type": "Property",
         "value": {"streetAddress": "1 rue X", "addressLocality": "Audun-le-Tiche",
                   "geo": {"zip": 57390}}}
    ],
    EX + "temperature": [
        {"type": "Property", "value": 20, "datasetId": "urn:ngsi-ld:Dataset:a"},
        {"type": "Property", "value": 25.5, "datasetId": "urn:ngsi-ld:Dataset:b"},
    ],
    EX + "tags": [{"type": "Property", "value": ["glass", "paper"]}],
    EX + "status": [{"type": "Property", "value": "ok"}],
    EX + "active": [{"type": "Property", "value": True}],
    EX + "emptiedOn": [{"type": "Property", "value": {"@type": "Date", "@value": "2026-01-03"}}],
    EX + "lastEmptying": [{"type": "Property", "value": "2025-12-31T23:59:59.5Z"}],
    EX + "opensAt": [{"type": "Property", "value": "08:30:00Z"}],
    EX + "serial": [{"type": "Property", "value": "42"}],
    EX + "readings": [{"type": "ListProperty", "valueList": [1, 2, 3]}],
    EX + "owners": [{"type": "ListRelationship",
                     "objectList": [{"object": "urn:ngsi-ld:Org:1"}, {"object": ORG2}]}],
    EX + "config": [{"type": "JsonProperty", "json": {"mode": "eco"}}],
    EX + "aliases": [{"type": "LanguageProperty", "languageMap": {"en": ["bin", "can"]}}],
}  # fmt: skip


def run(text: str, entity: dict = CONTAINER) -> bool:
    return compile_q(parse_q(text), expand).matches(entity)


# --------------------------------------------------------------------------- matching

MATCHES = [
    # existence
    ("fillingLevel", True),
    ("missing", False),
    ("refWasteContainerIsle", True),
    ("fillingLevel.accuracy", True),
    ("fillingLevel.missing", False),
    ("fillingLevel.observedAt", True),
    ("refWasteContainerIsle.observedAt", False),
    ("address[addressLocality]", True),
    ("address[nowhere]", False),
    ("address[geo.zip]", True),
    ("address[geo.nothing]", False),
    # each operator on numbers
    ("fillingLevel==0.87", True),
    ("fillingLevel==0.8", False),
    ("fillingLevel!=0.8", True),
    ("fillingLevel!=0.87", False),
    ("fillingLevel>0.5", True),
    ("fillingLevel>0.87", False),
    ("fillingLevel>=0.87", True),
    ("fillingLevel<0.87", False),
    ("fillingLevel<=0.87", True),
    ("fillingLevel<1", True),
    ("fillingLevel>-1e3", True),
    ("temperature==20.0", True),
    # strings
    ('status=="ok"', True),
    ('status!="ok"', False),
    ('status!="ko"', True),
    ('status>"aa"', True),
    ('status<"aa"', False),
    # patterns: the whole value must be in the pattern's language
    ('status~="o."', True),
    ('status~="o"', False),
    ("status~=o.*", True),
    ("status~=x.*", False),
    ('status!~="x.*"', True),
    ('status!~="o.*"', False),
    ('status~="[[:alpha:]]+"', True),
    (r'status~="(\w{2}){1,3}"', True),
    (r'serial~="\d+"', True),
    (r"serial~=\d", False),
    ('fillingLevel~=".*"', False),
    ('fillingLevel!~="x"', False),
    # booleans
    ("active==true", True),
    ("active==false", False),
    ("active!=false", True),
    # lists and ranges
    ('status=="ko","ok"', True),
    ('status=="ko","nok"', False),
    ('status!="ko","ok"', False),
    ('status!="ko","nok"', True),
    ("fillingLevel==0.8..0.9", True),
    ("fillingLevel==0.9..1", False),
    ("fillingLevel!=0.9..1", True),
    ("fillingLevel!=0.8..0.9", False),
    ('status=="a".."p"', True),
    ('status=="p".."z"', False),
    # type mismatches: never a match, except != which counts them unequal
    ('fillingLevel=="0.87"', False),
    ('fillingLevel!="0.87"', True),
    ("serial==42", False),
    ('serial=="42"', True),
    ("serial>4", False),
    ("active==1", False),
    ("status==true", False),
    ("fillingLevel>2026-01-01T00:00:00Z", False),
    # multi-attribute: any instance
    ("temperature==20", True),
    ("temperature==25.5", True),
    ("temperature==21", False),
    ("temperature>25", True),
    ("temperature<20", False),
    ("temperature!=20", True),
    ("temperature.datasetId==urn:ngsi-ld:Dataset:b", True),
    ('temperature.datasetId=="urn:ngsi-ld:Dataset:c"', False),
    # arrays: includes / includes none / some element
    ('tags=="glass"', True),
    ('tags=="metal"', False),
    ('tags!="glass"', False),
    ('tags!="metal"', True),
    ('tags=="metal","paper"', True),
    ('tags>"o"', True),
    ("readings==2", True),
    ("readings==4", False),
    ("readings==3..9", True),
    ("readings>3", False),
    # relationships: object, == and != only
    ("refWasteContainerIsle==urn:ngsi-ld:WasteContainerIsle:7", True),
    ('refWasteContainerIsle=="urn:ngsi-ld:WasteContainerIsle:7"', True),
    ("refWasteContainerIsle==urn:ngsi-ld:WasteContainerIsle:8", False),
    ("refWasteContainerIsle!=urn:ngsi-ld:WasteContainerIsle:8", True),
    (f'refWasteContainerIsle=="{ISLE}8","{ISLE}7"', True),
    ('refWasteContainerIsle>"urn"', False),
    ('refWasteContainerIsle~="urn.*"', False),
    ("refWasteContainerIsle[x]", False),
    ("owners==urn:ngsi-ld:Org:2", True),
    ("owners!=urn:ngsi-ld:Org:2", False),
    # language maps: any language, or the one named (tags are case-insensitive)
    ('name=="Bac"', True),
    ('name=="Tonne"', True),
    ('name=="Bin"', False),
    ('name[*]=="Tonne"', True),
    ('name[fr]=="Bac"', True),
    ('name[FR]=="Bac"', True),
    ('name[fr]=="Tonne"', False),
    ('name[en]=="Bac"', False),
    ('name!="Bac"', False),
    ('name!="Bin"', True),
    ('name[de]!="Bac"', True),
    ('name~="T.*"', True),
    ("name[fr]", True),
    ("name[en]", False),
    ('aliases=="can"', True),
    ('aliases[en]=="bin"', True),
    ('aliases!="can"', False),
    # compound values
    ('address[addressLocality]=="Audun-le-Tiche"', True),
    ('address[addressLocality]!="Audun-le-Tiche"', False),
    ('address[addressLocality]~="Audun.*"', True),
    ("address[geo.zip]==57390", True),
    ("address[geo][zip]==57390", True),
    ("address[geo.zip]>60000", False),
    ('address=="1 rue X"', False),
    ('config[mode]=="eco"', True),
    # nested properties and instance members
    ("fillingLevel.accuracy<0.1", True),
    ("fillingLevel.accuracy>0.1", False),
    ('fillingLevel.unitCode=="P1"', True),
    ('fillingLevel.unitCode=="P2"', False),
    # DateTime, Date and Time literals compare in time order
    ("fillingLevel.observedAt>=2026-01-01T09:00:00Z", True),
    ("fillingLevel.observedAt>2026-01-01T10:00:00Z", False),
    ("fillingLevel.observedAt==2026-01-01T10:00:00.000Z", True),
    ("fillingLevel.observedAt==2026-01-01T10:00:00,000Z", True),
    ("fillingLevel.observedAt==2026-01-01T09:00:00Z..2026-01-01T11:00:00Z", True),
    ('fillingLevel.observedAt=="2026-01-01T10:00:00.000Z"', False),
    ("lastEmptying<2026-01-01T00:00:00Z", True),
    ("lastEmptying>2025-12-31T23:59:59Z", True),
    ("lastEmptying>2025-12-31T23:59:59.6Z", False),
    ("emptiedOn==2026-01-03", True),
    ("emptiedOn>2026-01-02", True),
    ("emptiedOn==2026-01-01..2026-01-02", False),
    ("emptiedOn==2026-01-03T00:00:00Z", False),
    ("opensAt<09:00:00Z", True),
    ("opensAt>=08:30:01Z", False),
    ("opensAt==08:30:00.0Z", True),
    # full IRIs stand for attribute names
    (f"{WM}fillingLevel>0.5", True),
    (f"{WM}fillingLevel==0.1", False),
    # AND binds tighter than OR; parentheses group
    ("fillingLevel>0.5;status", True),
    ("fillingLevel>0.9;status", False),
    ("fillingLevel>0.9|status", True),
    ("missing;fillingLevel>0.9|status", True),
    ("missing;(fillingLevel>0.9|status)", False),
    ("status|fillingLevel>0.9;missing", True),
    ("(status|fillingLevel>0.9);missing", False),
    ("((fillingLevel>0.5|missing>3);status==\"ok\")", True),
    ("(fillingLevel>=0.8;fillingLevel<=0.9)|missing<=10", True),
    ("(fillingLevel>=0.9;fillingLevel<=1)|missing<=10", False),
    (" fillingLevel > 0.5 ; status == \"ok\" ", True),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), MATCHES)
def test_matches(text, expected):
    assert run(text) is expected


def test_strings_with_escapes_and_reserved_characters():
    entity = {EX + "note": [{"type": "Property", "value": 'a;b|c "d" é'}]}
    assert run(r'note=="a;b|c \"d\" \u00e9"', entity)
    assert run(r'note~="a;b\|c \"d\" \w"', entity)  # a quoted pattern is taken raw
    assert run(r'note~="a;b\|c \"\w\" .*"', entity)


def test_a_value_in_time_order_is_false_against_a_non_temporal_string():
    entity = {EX + "when": [{"type": "Property", "value": "yesterday"}]}
    assert not run("when<2026-01-01T00:00:00Z", entity)
    assert run("when!=2026-01-01T00:00:00Z", entity)


def test_malformed_stored_entities_never_raise():
    entity = {
        EX + "a": "not a list",
        EX + "b": [1, "x", None],
        EX + "c": [{"type": "LanguageProperty", "languageMap": "fr"}],
        EX + "d": [{"type": "Relationship"}],
        EX + "e": [{"type": "Property", "value": {"k": [1, 2]}, EX + "f": 3}],
        EX + "g": [{"type": "Property", "value": 1, "observedAt": "not a date"}],
    }
    for text in ("a==1", "b==1", "b", 'c=="fr"', "d==urn:x:y", "e[k]==2", "e.f==3",
                 "g.observedAt>2020-01-01T00:00:00Z", "e[k.z]"):  # fmt: skip
        run(text, entity)
    assert run("e[k]==2", entity)
    assert not run("g.observedAt>2020-01-01T00:00:00Z", entity)


# --------------------------------------------------------------------------- parsing


def test_terms_are_the_attribute_names_as_written():
    q = parse_q(
        'a.b[c.d]==1;(x.observedAt>2020-01-01T00:00:00Z|https://e.org/y)|n[fr]=="z";t[k][l]'
    )
    assert q.terms() == {"a", "b", "x", "https://e.org/y", "n", "t"}


def test_compile_lets_the_expansion_error_through():
    def strict(term: str) -> str:
        raise QueryError(f"unknown term {term}")

    with pytest.raises(QueryError, match="unknown term a"):
        compile_q(parse_q("a==1"), strict)


def test_compile_expands_each_name_once():
    seen = []

    def counting(term: str) -> str:
        seen.append(term)
        return EX + term

    compile_q(parse_q("a==1;a==2|a.b;b"), counting)
    assert sorted(seen) == ["a", "b"]


MALFORMED = [
    ("", "empty"),
    ("   ", "empty"),
    ("a==", "ends unexpectedly"),
    ("a=1", "position 2"),
    ("a===1", "position 4"),
    ("a=>1", "position 2"),
    ("a<>1", "position 3"),
    ("a~1", "position 2"),
    ("!a", "non-existence"),
    ("a{b}==1", "linked-entity"),
    ("(a==1", "ends unexpectedly"),
    ("a==1)", "position 5"),
    ("((a==1)", "ends unexpectedly"),
    ("()", "position 2"),
    ("a==1;", "ends unexpectedly"),
    ("a==1||b", "position 6"),
    (";a", "position 1"),
    ("a==1 b==2", "position 6"),
    ("a==1x", "position 5"),
    ("a==x", "quoted"),
    ("a=='x'", "double quotes"),
    ('a=="x', "position 4"),
    ('a=="\\q"', "position 4"),
    ("a==01", "position 5"),
    ("a==+1", "position 4"),
    ("a==1.", "position 5"),
    ("a==.5", "position 4"),
    ("a==1e999", "out of range"),
    ("a==2020-13-01", "not a valid Date"),
    ("a==2020-02-30T00:00:00Z", "not a valid Datetime"),
    ("a==25:00:00Z", "not a valid Time"),
    ("a==2017-12-24T12:00:00", "position 14"),
    ("a>true", "position 3"),
    ("a>urn:x:y", "position 3"),
    ("a>1,2", "position 4"),
    ("a>1..2", "position 4"),
    ("a==5..1", "minimum above its maximum"),
    ('a==1.."x"', "mixes a number and a string"),
    ("a==true..false", "position 8"),
    ("a==1..2..3", "position 8"),
    ("a~=(a|b)", "between double quotes"),
    ('a~="["', "not a valid pattern"),
    ('a~="(a+)+"', "nests unbounded repetitions"),
    ('a~="(x*y*)*z"', "nests unbounded repetitions"),
    ('a~="(?:a|b+)*?"', "nests unbounded repetitions"),
    ("a.observedAt.b==1", "must end the attribute path"),
    ("a.unitCode[x]", "cannot be followed"),
    ("a..b", "position 3"),
    ("a.", "ends unexpectedly"),
    ("1a==1", "position 1"),
    ("_a==1", "position 1"),
    ("a[]==1", "position 3"),
    ("a[b", "ends unexpectedly"),
    ("a[b]c", "position 5"),
    ("(" * 40 + "a" + ")" * 40, "deeper than"),
    ("a==1;" * 1000 + "a==1", f"longer than {MAX_LENGTH}"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_q_is_a_query_error(text, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace("+", r"\+")):
        parse_q(text)


def test_non_strings_are_refused():
    with pytest.raises(QueryError):
        parse_q(None)  # type: ignore[arg-type]


def test_deep_but_allowed_nesting_and_long_conjunctions_work():
    assert run("(" * 32 + "status" + ")" * 32)
    assert run(";".join(["status"] * 500))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab.[]{}()"=!<>~;|,01-:TZ*\\ éx', max_size=40))
def test_arbitrary_text_raises_only_query_error(text):
    try:
        q = parse_q(text)
    except QueryError:
        return
    compile_q(q, expand).matches(CONTAINER)


# --------------------------------------------------------------------------- prefilter


def prefilter(text: str) -> list[Condition]:
    return compile_q(parse_q(text), expand).prefilter()


def test_prefilter_keeps_simple_top_level_conjuncts():
    assert prefilter('fillingLevel>0.5;status=="ok";refWasteContainerIsle==urn:a:b') == [
        Condition(WM + "fillingLevel", ">", 0.5),
        Condition(EX + "status", "==", "ok"),
        Condition(WM + "refWasteContainerIsle", "==", "urn:a:b"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a!=1", [Condition(EX + "a", "exists")]),
        ('a=="x","y"', [Condition(EX + "a", "exists")]),
        ('a>"x"', [Condition(EX + "a", "exists")]),
        ("a>2020-01-01T00:00:00Z", [Condition(EX + "a", "exists")]),
        ('a~="x"', [Condition(EX + "a", "exists")]),
        ("a.b==1", [Condition(EX + "a", "exists")]),
        ("a[k]==1", [Condition(EX + "a", "exists")]),
        ("a.observedAt>2020-01-01T00:00:00Z", [Condition(EX + "a", "exists")]),
        ("a==1..3", [Condition(EX + "a", ">=", 1.0), Condition(EX + "a", "<=", 3.0)]),
        ("a==true", [Condition(EX + "a", "==", True)]),
        ("a>1|b>1", []),
        ("a>1|a<0", [Condition(EX + "a", "exists")]),
        ("(a>1;b)|(b;c)", [Condition(EX + "b", "exists")]),
        ("a==2|a==2;b", [Condition(EX + "a", "==", 2.0)]),
    ],
)
def test_prefilter_cases(text, expected):
    assert prefilter(text) == expected


_OPS = {"==": operator.eq, ">": operator.gt, ">=": operator.ge, "<": operator.lt,
        "<=": operator.le}  # fmt: skip


def _unwrap(value):
    return value["@value"] if isinstance(value, dict) and "@value" in value else value


def _candidates(instance: dict) -> list:
    """The Condition contract, written independently of the module."""
    found = []
    for member in ("value", "object", "valueList", "objectList"):
        if member in instance:
            value = _unwrap(instance[member])
            found.extend(value if isinstance(value, list) else [value])
    language_map = instance.get("languageMap")
    if isinstance(language_map, dict):
        for value in language_map.values():
            found.extend(value if isinstance(value, list) else [value])
    return [_unwrap(item.get("object")) if isinstance(item, dict) and "object" in item
            else _unwrap(item) for item in found]  # fmt: skip


def _comparable(candidate, value):
    if isinstance(value, bool):
        return candidate if isinstance(candidate, bool) else None
    if isinstance(value, float):
        ok = isinstance(candidate, int | float) and not isinstance(candidate, bool)
        return float(candidate) if ok else None
    return candidate if isinstance(candidate, str) else None


def holds(condition: Condition, entity: dict) -> bool:
    instances = [i for i in entity.get(condition.attribute, []) if isinstance(i, dict)]
    if condition.op == "exists":
        return bool(instances)
    for instance in instances:
        for candidate in _candidates(instance):
            value = _comparable(candidate, condition.value)
            if value is not None and _OPS[condition.op](value, condition.value):
                return True
    return False


NAMES = ["a", "b", "c"]
# Few distinct values, shared by entities and queries, so that matches are frequent.
SCALARS = st.sampled_from([1, 2, -1.5, 0.5, "x", "y", "urn:a:1", "2026-01-01T00:00:00Z", True])
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["k", "l"]), SCALARS, max_size=2),
    SCALARS.map(lambda v: {"@value": v}),
)
WORDS = st.sampled_from(["x", "y"])


def _property(value, sub=None) -> dict:
    instance = {"type": "Property", "value": value}
    if sub is not None:
        instance |= {
            EX + "s": [{"type": "Property", "value": sub}],
            "observedAt": "2026-01-01T00:00:00Z",
        }
    return instance


INSTANCES = st.one_of(
    st.builds(_property, VALUES, st.none() | SCALARS),
    st.builds(
        lambda o: {"type": "Relationship", "object": o},
        st.sampled_from(["urn:a:1", "urn:a:2", ["urn:a:1", "urn:a:3"]]),
    ),
    st.builds(
        lambda m: {"type": "LanguageProperty", "languageMap": m},
        st.dictionaries(st.sampled_from(["fr", "en"]), WORDS | st.lists(WORDS, max_size=2)),
    ),
    st.builds(lambda v: {"type": "ListProperty", "valueList": v}, st.lists(SCALARS, max_size=3)),
)
ENTITIES = st.dictionaries(
    st.sampled_from([EX + n for n in NAMES]), st.lists(INSTANCES, min_size=1, max_size=2)
)
LITERALS = st.sampled_from(
    ["1", "-1.5", "0.5", "2", '"x"', '"y"', "true", "false", "urn:a:1", '"urn:a:2"',
     "2026-01-01T00:00:00Z", "1..2", "-3..0.5", '"x".."y"', '1,"x"', "true,2"]
)  # fmt: skip
PATHS = st.sampled_from(NAMES * 3 + ["a.s", "b[k]", "c[fr]", "a.observedAt"])
OPERATORS = st.sampled_from(["==", "==", "==", "!=", ">", ">=", "<", "<="])


@st.composite
def terms(draw) -> str:
    path = draw(PATHS)
    kind = draw(st.sampled_from(["exists", "compare", "compare", "compare", "pattern"]))
    if kind == "exists":
        return path
    if kind == "pattern":
        return path + draw(st.sampled_from(['~="x"', '!~="x.*"', "~=urn:.*"]))
    return path + draw(OPERATORS) + draw(LITERALS)


QUERIES = st.recursive(
    terms(),
    lambda inner: st.one_of(
        st.builds(str.join, st.sampled_from([";", "|"]), st.lists(inner, min_size=2, max_size=3)),
        inner.map(lambda text: f"({text})"),
    ),
    max_leaves=4,
)


def _parsed(text: str):
    try:
        return parse_q(text)
    except QueryError:
        return None  # e.g. a range with an ordering operator: not a query


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUERIES, st.lists(ENTITIES, min_size=1, max_size=10))
def test_prefilter_never_excludes_a_match(text, entities):
    q = _parsed(text)
    assume(q is not None)
    compiled = compile_q(q, expand)
    conditions = compiled.prefilter()
    for entity in entities:
        if compiled.matches(entity):
            assert all(holds(condition, entity) for condition in conditions), (text, entity)
