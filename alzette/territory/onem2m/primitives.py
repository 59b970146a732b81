"""Request and response primitives (TS-0004 section 7), independent of any binding.

Bindings build a ``Request`` from what they received (HTTP headers and query, an
MQTT message) with ``Request.from_primitive`` or field by field, hand it to
``cse.handle`` and serialise the ``Response`` back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alzette.territory.onem2m.constants import Operation
from alzette.territory.onem2m.errors import bad_request
from alzette.territory.onem2m.timestamps import parse_ts

_INT_FILTERS = ("sts", "stb", "sza", "szb", "lim", "ofst", "lvl", "fu", "fo")
_TIME_FILTERS = ("cra", "crb", "ms", "us", "exa", "exb")


def _as_int(value: object, name: str, minimum: int = 0) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise bad_request(f"{name}: expected an integer, got {value!r}") from None
    if number < minimum or isinstance(value, bool):
        raise bad_request(f"{name}: must be an integer of at least {minimum}")
    return number


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        # HTTP query strings may join several values with "+" (a space once decoded).
        return value.split()
    return [value]


@dataclass
class FilterCriteria:
    cra: datetime | None = None
    crb: datetime | None = None
    ms: datetime | None = None
    us: datetime | None = None
    exa: datetime | None = None
    exb: datetime | None = None
    sts: int | None = None
    stb: int | None = None
    sza: int | None = None
    szb: int | None = None
    ty: list[int] = field(default_factory=list)
    lbl: list[str] = field(default_factory=list)
    cty: list[str] = field(default_factory=list)
    lim: int | None = None
    ofst: int = 0
    lvl: int | None = None
    fu: int = 2
    fo: int = 1

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> FilterCriteria:
        """Build from the ``fc`` of a primitive (short names), refusing unknown ones."""
        if not isinstance(raw, dict):
            raise bad_request("fc: expected an object")
        criteria = cls()
        for name, value in raw.items():
            if name in _TIME_FILTERS:
                setattr(criteria, name, parse_ts(value, name))
            elif name in _INT_FILTERS:
                setattr(criteria, name, _as_int(value, name, 1 if name in ("lvl",) else 0))
            elif name == "ty":
                criteria.ty = [_as_int(item, "ty", 1) for item in _as_list(value)]
            elif name in ("lbl", "cty"):
                items = _as_list(value)
                if not all(isinstance(item, str) for item in items):
                    raise bad_request(f"{name}: expected strings")
                setattr(criteria, name, items)
            else:
                raise bad_request(f"fc: unsupported filter criterion {name!r}")
        if criteria.fu not in (1, 2):
            raise bad_request("fu: 1 (discovery) or 2 (conditional retrieval)")
        if criteria.fo not in (1, 2):
            raise bad_request("fo: 1 (AND) or 2 (OR)")
        return criteria

    @property
    def discovery(self) -> bool:
        return self.fu == 1

    def has_conditions(self) -> bool:
        """Whether anything beyond paging and the usage is set."""
        return any(
            getattr(self, name) not in (None, [])
            for name in (*_TIME_FILTERS, "sts", "stb", "sza", "szb", "ty", "lbl", "cty")
        )


@dataclass
class Request:
    op: Operation
    to: str
    fr: str
    rqi: str
    rvi: str | None = None
    ty: int | None = None
    pc: dict[str, Any] | None = None
    rcn: int | None = None
    drt: int = 1
    fc: FilterCriteria = field(default_factory=FilterCriteria)
    #: Who vouched for the originator: a Credential, "broker" (MQTT), or None.
    principal: Any = None
    binding: str = "internal"

    @classmethod
    def from_primitive(cls, raw: Any, principal: Any = None, binding: str = "mqtt") -> Request:
        """Build a request from a serialised primitive (the MQTT payload, a group member)."""
        if not isinstance(raw, dict):
            raise bad_request("a request primitive must be a JSON object")
        for name in ("op", "to", "rqi"):
            if raw.get(name) in (None, ""):
                raise bad_request(f"{name} is mandatory in a request primitive")
        try:
            op = Operation(_as_int(raw["op"], "op", 1))
        except ValueError:
            raise bad_request(f"op: unknown operation {raw['op']!r}") from None
        pc = raw.get("pc")
        if pc is not None and not isinstance(pc, dict):
            raise bad_request("pc: expected a JSON object")
        return cls(
            op=op,
            to=str(raw["to"]),
            fr=str(raw.get("fr") or ""),
            rqi=str(raw["rqi"]),
            rvi=str(raw["rvi"]) if raw.get("rvi") is not None else None,
            ty=_as_int(raw["ty"], "ty", 1) if raw.get("ty") is not None else None,
            pc=pc,
            rcn=_as_int(raw["rcn"], "rcn") if raw.get("rcn") is not None else None,
            drt=_as_int(raw.get("drt", 1), "drt", 1),
            fc=FilterCriteria.parse(raw.get("fc") or {}),
            principal=principal,
            binding=binding,
        )


@dataclass
class Response:
    rsc: int
    rqi: str = ""
    pc: Any = None
    to: str = ""
    fr: str = ""
    rvi: str | None = None
    #: Address of a created resource (HTTP Content-Location).
    location: str | None = None
    #: Partial content of a discovery (TS-0004 cnst = 2) and where to continue.
    cnst: int | None = None
    cnot: int | None = None

    def primitive(self) -> dict[str, Any]:
        """The serialised response primitive (the MQTT payload, a group member's)."""
        body: dict[str, Any] = {"rsc": int(self.rsc), "rqi": self.rqi}
        if self.pc is not None:
            body["pc"] = self.pc
        for name in ("to", "fr", "rvi", "cnst", "cnot"):
            if getattr(self, name):
                body[name] = getattr(self, name)
        return body
