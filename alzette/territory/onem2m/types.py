"""Resource types: their attributes, checks and representation.

A type is a ``ResourceKind`` subclass registered by dotted path in
``ALZETTE_ONEM2M_RESOURCE_TYPES`` (resource type number -> class). To add one,
copy a sibling class: declare ``attributes`` (what may be given on create and
update, and how it is checked), then override the hooks you need.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from alzette.territory.onem2m import attributes as a
from alzette.territory.onem2m import config
from alzette.territory.onem2m.constants import CHILD_TYPES, RELEASES, RSC, TYPE_NAMES
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.errors import M2MError, bad_request
from alzette.territory.onem2m.models import Resource
from alzette.territory.onem2m.timestamps import format_ts, parse_ts

_NAME = re.compile(r"^[A-Za-z0-9._~:@!$&'()*+,;=-]{1,255}$")
_VIRTUAL_NAMES = {"la", "ol", "fopt"}


def resource_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value in _VIRTUAL_NAMES:
        raise bad_request(
            f"{name}: letters, digits and -._~ only (at most 255), and not la, ol or fopt"
        )
    return value


@dataclass(frozen=True)
class Attr:
    """How an attribute behaves: "M" mandatory, "O" optional, "NP" not permitted."""

    create: str
    update: str
    check: a.Check


COMMON = {
    "rn": Attr("O", "NP", resource_name),
    "et": Attr("O", "O", a.timestamp),
    "lbl": Attr("O", "O", a.strings),
}
WITH_ACPI = {**COMMON, "acpi": Attr("O", "O", a.strings)}


class ResourceKind:
    ty: int
    tpe: str
    #: Prefix of generated resource ids and names.
    prefix: str
    attributes: dict[str, Attr] = COMMON
    #: Other attributes may be given (a flexContainer's custom attributes).
    open_attributes = False
    updatable = True

    # -- create -----------------------------------------------------------------

    def check_attributes(self, values: dict[str, Any], operation: str) -> dict[str, Any]:
        """Refuse unknown, forbidden or missing attributes; return checked values."""
        clean: dict[str, Any] = {}
        for name, value in values.items():
            spec = self.attributes.get(name)
            if spec is None:
                if self.open_attributes and ":" not in name:
                    clean[name] = value
                    continue
                raise bad_request(f"{name}: not an attribute of {self.tpe}")
            if getattr(spec, operation) == "NP":
                raise bad_request(f"{name}: may not be given on {operation}")
            if value is None and operation == "update":
                clean[name] = None  # null deletes an optional attribute
                continue
            clean[name] = spec.check(name, value)
        if operation == "create":
            missing = [n for n, s in self.attributes.items() if s.create == "M" and n not in values]
            if missing:
                raise bad_request(f"missing mandatory attribute(s): {', '.join(missing)}")
        return clean

    def new_ri(self, ctx: Context, values: dict[str, Any]) -> str:
        return f"{self.prefix}{secrets.token_hex(8)}"

    def prepare(self, ctx: Context, parent: Resource, resource: Resource, values: dict) -> None:
        """Fill type-specific fields before the row is written (may raise)."""

    def after_create(self, ctx: Context, parent: Resource, resource: Resource) -> None:
        """Work that needs the row written (counters, verification)."""

    # -- update / delete ----------------------------------------------------------

    def apply_update(self, ctx: Context, resource: Resource, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in ("lbl", "acpi"):
                setattr(resource, name, value or [])
            elif name == "et":
                resource.et = parse_ts(value, "et") if value else default_expiry(ctx)
            elif value is None:
                resource.attrs.pop(name, None)
            else:
                resource.attrs[name] = value

    def before_delete(self, ctx: Context, resource: Resource) -> None:
        """Work before a resource of this type is removed (inside the transaction)."""

    # -- representation -----------------------------------------------------------

    def represent(self, resource: Resource) -> dict[str, Any]:
        body: dict[str, Any] = {
            "rn": resource.rn,
            "ri": resource.ri,
            "pi": resource.pi,
            "ty": resource.ty,
            "ct": format_ts(resource.ct),
            "lt": format_ts(resource.lt),
        }
        if resource.et is not None:
            body["et"] = format_ts(resource.et)
        if resource.lbl:
            body["lbl"] = resource.lbl
        if resource.acpi:
            body["acpi"] = resource.acpi
        # Internal attributes (an AE's credential) start with "_".
        body.update({k: v for k, v in resource.attrs.items() if not k.startswith("_")})
        return body


def default_expiry(ctx: Context) -> Any:
    return ctx.now + timedelta(days=config.max_expiration_days())


def _parse_expiry(ctx: Context, values: dict[str, Any]) -> Any:
    if "et" not in values:
        return default_expiry(ctx)
    et = parse_ts(values["et"], "et")
    if et <= ctx.now:
        raise bad_request("et: the expiration time is in the past")
    return et


class CSEBaseKind(ResourceKind):
    ty = T.CSEBASE
    tpe = TYPE_NAMES[T.CSEBASE]
    prefix = "cb"
    attributes = {"acpi": Attr("NP", "O", a.strings), "lbl": Attr("NP", "O", a.strings)}

    def represent(self, resource: Resource) -> dict[str, Any]:
        body = super().represent(resource)
        body.pop("pi", None)
        body.update(
            {
                "csi": config.csi(),
                "cst": 1,
                "srt": sorted(registry()),
                "srv": list(RELEASES),
                "poa": list(getattr(settings, "ALZETTE_ONEM2M_POA", [])),
            }
        )
        return body


class ACPKind(ResourceKind):
    ty = T.ACP
    tpe = TYPE_NAMES[T.ACP]
    prefix = "acp"
    attributes = {
        **COMMON,
        "pv": Attr("M", "O", lambda n, v: check_privileges(n, v)),
        "pvs": Attr("M", "O", lambda n, v: check_privileges(n, v)),
    }

    def prepare(self, ctx: Context, parent: Resource, resource: Resource, values: dict) -> None:
        ctx.ledger.append(("access_policy.changed", resource.ri, {"pv": values["pv"]}))

    def apply_update(self, ctx: Context, resource: Resource, values: dict[str, Any]) -> None:
        if values.get("pv", "") is None or values.get("pvs", "") is None:
            raise bad_request("pv and pvs are mandatory and cannot be removed")
        super().apply_update(ctx, resource, values)
        ctx.ledger.append(("access_policy.changed", resource.ri, {"pv": resource.attrs["pv"]}))


def check_privileges(name: str, value: Any) -> dict[str, Any]:
    """setOfAcrs: {"acr": [{"acor": [originators], "acop": bits}]}."""
    a.obj(name, value)
    rules = value.get("acr")
    if set(value) - {"acr"} or not isinstance(rules, list):
        raise bad_request(f"{name}: expected {{'acr': [{{'acor': [...], 'acop': n}}]}}")
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) - {"acor", "acop", "acco"}:
            raise bad_request(f"{name}/acr: each rule has acor and acop")
        a.nonempty_strings(f"{name}/acr/acor", rule.get("acor"))
        acop = rule.get("acop")
        if isinstance(acop, bool) or not isinstance(acop, int) or not 1 <= acop <= 63:
            raise bad_request(f"{name}/acr/acop: an integer from 1 to 63")
        if "acco" in rule:
            # Context conditions (time windows, locations, IP ranges) are not
            # evaluated: refusing them is safer than silently granting more.
            raise bad_request(f"{name}/acr/acco: access control contexts are not supported")
    return value


class AEKind(ResourceKind):
    ty = T.AE
    tpe = TYPE_NAMES[T.AE]
    prefix = "C"
    attributes = {
        **WITH_ACPI,
        "api": Attr("M", "NP", a.string),
        "apn": Attr("O", "O", a.string),
        "rr": Attr("M", "O", a.boolean),
        "poa": Attr("O", "O", a.strings),
        "nl": Attr("O", "O", a.string),
        "csz": Attr("O", "O", a.strings),
        "srv": Attr("O", "O", a.strings),
        "or": Attr("O", "O", a.string),
    }

    def new_ri(self, ctx: Context, values: dict[str, Any]) -> str:
        """The AE-ID (TS-0001 10.2.2.2): the originator, or one the CSE assigns."""
        origin = ctx.request.fr
        if origin in ("", "C", "S"):
            return f"{origin or 'C'}{secrets.token_hex(8)}"
        if origin.startswith(("C", "S")) and "/" not in origin:
            if Resource.objects.filter(ri=origin).exists():
                raise M2MError(
                    RSC.ORIGINATOR_HAS_ALREADY_REGISTERED,
                    f"originator {origin} is already registered",
                )
            return origin
        raise M2MError(
            RSC.APP_RULE_VALIDATION_FAILED,
            "an AE registers with an originator that starts with C or S, or is empty",
        )

    def prepare(self, ctx: Context, parent: Resource, resource: Resource, values: dict) -> None:
        api = values["api"]
        if api[0] not in "NR":
            raise M2MError(RSC.BAD_REQUEST, "api: an App-ID starts with R (registered) or N (not)")
        for version in values.get("srv", []):
            if version not in RELEASES:
                raise M2MError(
                    RSC.RELEASE_VERSION_NOT_SUPPORTED, f"srv: release {version} not supported"
                )
        resource.attrs["aei"] = resource.ri
        resource.owner = resource.ri
        ctx.ledger.append(("device.registered", resource.ri, {"api": api}))

    def before_delete(self, ctx: Context, resource: Resource) -> None:
        ctx.ledger.append(("device.deregistered", resource.ri, {}))


class ContainerKind(ResourceKind):
    ty = T.CNT
    tpe = TYPE_NAMES[T.CNT]
    prefix = "cnt"
    attributes = {
        **WITH_ACPI,
        "cr": Attr("O", "NP", a.creator),
        "mni": Attr("O", "O", a.natural),
        "mbs": Attr("O", "O", a.natural),
        "mia": Attr("O", "O", a.natural),
        "li": Attr("O", "O", a.string),
        "or": Attr("O", "O", a.string),
        "disr": Attr("O", "O", a.boolean),
    }

    def apply_update(self, ctx: Context, resource: Resource, values: dict[str, Any]) -> None:
        super().apply_update(ctx, resource, values)
        from alzette.territory.onem2m import instances

        instances.enforce_limits(ctx, resource)

    def represent(self, resource: Resource) -> dict[str, Any]:
        body = super().represent(resource)
        body.update({"st": resource.st, "cni": resource.cni, "cbs": resource.size})
        return body


class ContentInstanceKind(ResourceKind):
    ty = T.CIN
    tpe = TYPE_NAMES[T.CIN]
    prefix = "cin"
    updatable = False
    attributes = {
        **COMMON,
        "cr": Attr("O", "NP", a.creator),
        "cnf": Attr("O", "NP", a.string),
        "con": Attr("M", "NP", a.any_value),
        "or": Attr("O", "NP", a.string),
    }

    def prepare(self, ctx: Context, parent: Resource, resource: Resource, values: dict) -> None:
        from alzette.territory.onem2m import instances

        instances.prepare(ctx, parent, resource)

    def after_create(self, ctx: Context, parent: Resource, resource: Resource) -> None:
        from alzette.territory.onem2m import instances

        instances.added(ctx, parent, resource)

    def before_delete(self, ctx: Context, resource: Resource) -> None:
        from alzette.territory.onem2m import instances

        instances.removed(resource)

    def represent(self, resource: Resource) -> dict[str, Any]:
        body = super().represent(resource)
        body.update({"st": resource.st, "cs": resource.size})
        return body


class SubscriptionKind(ResourceKind):
    ty = T.SUB
    tpe = TYPE_NAMES[T.SUB]
    prefix = "sub"
    attributes = {
        **WITH_ACPI,
        "cr": Attr("O", "NP", a.creator),
        "enc": Attr("O", "O", a.obj),
        "exc": Attr("O", "O", a.positive),
        "nu": Attr("M", "O", a.nonempty_strings),
        "nct": Attr("O", "O", a.one_of(1, 2, 3)),
        "su": Attr("O", "NP", a.string),
        "bn": Attr("O", "O", a.obj),
        "ln": Attr("O", "O", a.boolean),
        "pn": Attr("O", "O", a.one_of(1, 2)),
        "nse": Attr("O", "O", a.boolean),
    }

    def prepare(self, ctx: Context, parent: Resource, resource: Resource, values: dict) -> None:
        from alzette.territory.onem2m import subscriptions

        subscriptions.prepare(ctx, parent, resource)

    def apply_update(self, ctx: Context, resource: Resource, values: dict[str, Any]) -> None:
        from alzette.territory.onem2m import subscriptions

        if values.get("nu", "") is None:
            raise bad_request("nu is mandatory and cannot be removed")
        previous = list(resource.attrs.get("nu", []))
        super().apply_update(ctx, resource, values)
        subscriptions.checked(ctx, resource, values.get("nu"), previous)

    def before_delete(self, ctx: Context, resource: Resource) -> None:
        from alzette.territory.onem2m import subscriptions

        subscriptions.deleted(ctx, resource)


class GroupKind(ResourceKind):
    ty = T.GRP
    tpe = TYPE_NAMES[T.GRP]
    prefix = "grp"
    attributes = {
        **WITH_ACPI,
        "cr": Attr("O", "NP", a.creator),
        "mt": Attr("M", "NP", a.natural),
        "mid": Attr("M", "O", a.strings),
        "mnm": Attr("M", "O", a.positive),
        "csy": Attr("O", "NP", a.one_of(1, 2, 3)),
        "gn": Attr("O", "O", a.string),
    }

    def prepare(self, ctx: Context, parent: Resource, resource: Resource, values: dict) -> None:
        from alzette.territory.onem2m import groups

        groups.validate_members(ctx, resource)

    def apply_update(self, ctx: Context, resource: Resource, values: dict[str, Any]) -> None:
        from alzette.territory.onem2m import groups

        if values.get("mid", "") is None or values.get("mnm", "") is None:
            raise bad_request("mid and mnm are mandatory and cannot be removed")
        super().apply_update(ctx, resource, values)
        groups.validate_members(ctx, resource)


class FlexContainerKind(ResourceKind):
    """A flexContainer: a specialisation (root key "ns:name", ``cnd`` its definition)
    with custom attributes (TS-0001 9.6.35)."""

    ty = T.FCNT
    tpe = "m2m:fcnt"
    prefix = "fcnt"
    open_attributes = True
    attributes = {
        **WITH_ACPI,
        "cr": Attr("O", "NP", a.creator),
        "cnd": Attr("M", "NP", a.string),
        "or": Attr("O", "O", a.string),
    }

    def represent(self, resource: Resource) -> dict[str, Any]:
        body = super().represent(resource)
        body["st"] = resource.st
        return body


@cache
def registry() -> dict[int, ResourceKind]:
    """Resource type number -> its kind, from ALZETTE_ONEM2M_RESOURCE_TYPES."""
    kinds = {}
    for number, path in settings.ALZETTE_ONEM2M_RESOURCE_TYPES.items():
        kind = import_string(path)()
        if not isinstance(kind, ResourceKind) or int(number) != kind.ty:
            raise TypeError(f"{path} is not the ResourceKind of type {number}")
        kinds[kind.ty] = kind
    return kinds


def kind_of(ty: int) -> ResourceKind:
    kinds = registry()
    if ty not in kinds:
        raise M2MError(RSC.NOT_IMPLEMENTED, f"resource type {ty} is not supported")
    return kinds[ty]


def may_contain(parent_ty: int, child_ty: int) -> bool:
    return child_ty in CHILD_TYPES.get(parent_ty, set())
