"""Attribute checks shared by the resource types: each returns the clean value or
raises a 4000 that names the attribute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alzette.territory.onem2m.errors import bad_request
from alzette.territory.onem2m.timestamps import parse_ts

Check = Callable[[str, Any], Any]


def any_value(name: str, value: Any) -> Any:
    return value


def string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name}: expected a non-empty string")
    return value


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{name}: expected true or false")
    return value


def natural(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad_request(f"{name}: expected a non-negative integer")
    return value


def positive(name: str, value: Any) -> int:
    if natural(name, value) == 0:
        raise bad_request(f"{name}: expected a positive integer")
    return value


def strings(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise bad_request(f"{name}: expected a list of non-empty strings")
    return value


def nonempty_strings(name: str, value: Any) -> list[str]:
    if not strings(name, value):
        raise bad_request(f"{name}: must not be empty")
    return value


def obj(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{name}: expected an object")
    return value


def timestamp(name: str, value: Any) -> str:
    parse_ts(value, name)
    return value


def creator(name: str, value: Any) -> None:
    """``cr`` is sent as null to ask the CSE to fill in the originator."""
    if value is not None:
        raise bad_request("cr: send null; the CSE sets the creator")


def one_of(*allowed: int) -> Check:
    def check(name: str, value: Any) -> int:
        if natural(name, value) not in allowed:
            raise bad_request(f"{name}: one of {', '.join(map(str, allowed))}")
        return value

    return check
