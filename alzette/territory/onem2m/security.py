"""Who is speaking: originators and the credentials that vouch for them.

In production (``ALZETTE_ONEM2M_OPEN`` false) every HTTP request carries an
organisation's key (``Authorization: Bearer m2m_<prefix>_<secret>``); the key
names the originators it may speak for (patterns such as ``Cbins-*``), and the
AEs registered with it. Over MQTT the broker authenticates clients and its ACL
binds each to its originator's topics (docs/onem2m.md), so the binding vouches.
In-process requests of the platform's own applications (the lighting application
``Clighting``, built with ``principal=INTERNAL``) never crossed a network: the
code that built them vouches, and the access control policies still decide.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import secrets
from typing import Any

from django.utils import timezone

from alzette.territory.onem2m import config
from alzette.territory.onem2m.constants import RSC, Operation
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.errors import M2MError, bad_request, no_privilege
from alzette.territory.onem2m.models import Credential, Resource
from alzette.territory.onem2m.primitives import Request

BROKER = "broker"
#: The platform itself, for requests built in-process (never set by a binding).
INTERNAL = "internal"
KEY_PREFIX = "m2m"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(name: str, originators: list[str]) -> tuple[Credential, str]:
    """Create a credential; return it and the key, shown only this once."""
    if not originators or not all(isinstance(p, str) and p for p in originators):
        raise ValueError("a credential names at least one originator pattern")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    credential = Credential.objects.create(
        name=name, prefix=prefix, secret_hash=_hash(secret), originators=originators
    )
    return credential, f"{KEY_PREFIX}_{prefix}_{secret}"


def credential_for(key: str) -> Credential | None:
    """The live credential a presented key belongs to, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    credential = Credential.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if credential is None or not hmac.compare_digest(credential.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        Credential.objects.filter(pk=credential.pk).update(last_used_at=now)
    return credential


def normalise(originator: str) -> str:
    """An originator as this CSE knows it: "Cxyz", not "/id-alzette/Cxyz"."""
    for prefix in (f"//{config.spid()}{config.csi()}/", f"{config.csi()}/"):
        if originator.startswith(prefix):
            return originator[len(prefix) :]
    return originator


def _matches(credential: Credential, originator: str) -> bool:
    return any(fnmatch.fnmatchcase(originator, p) for p in credential.originators)


def registering(request: Request) -> bool:
    return request.op == Operation.CREATE and request.ty == T.AE


def authenticate(request: Request) -> str:
    """Check the originator may speak here; return it normalised."""
    originator = normalise(request.fr)
    if not originator and not registering(request):
        raise bad_request("the originator (X-M2M-Origin, fr) is mandatory")
    if config.open_access() or request.principal in (BROKER, INTERNAL):
        return originator
    credential: Any = request.principal
    if not isinstance(credential, Credential):
        raise M2MError(
            RSC.SECURITY_ASSOCIATION_REQUIRED,
            "present your organisation's key: Authorization: Bearer m2m_...",
        )
    if registering(request) and originator in ("", "C", "S"):
        wanted = originator or "C"
        if any(p == "*" or p.startswith(wanted) for p in credential.originators):
            return originator
        raise no_privilege(f"this key may not register {wanted}-originators")
    if _matches(credential, originator):
        return originator
    registered = Resource.objects.filter(ri=originator, ty=T.AE).values_list("attrs", flat=True)
    if any(attrs.get("_cred") == credential.prefix for attrs in registered):
        return originator
    raise no_privilege(f"this key may not speak for {originator}")
