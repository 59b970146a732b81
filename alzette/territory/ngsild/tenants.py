"""NGSI-LD tenants (CIM 009 §4.14): named by the NGSILD-Tenant header.

The default tenant (no header) always exists; another one is created by its
first write, and reading a tenant that was never written is NonexistentTenant.
"""

from __future__ import annotations

import re

from alzette.territory.ngsild.errors import NgsiLdError, bad_data
from alzette.territory.ngsild.models import DEFAULT_TENANT, Tenant

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check(name: str | None) -> str:
    """A tenant name from a header, checked; "" for the default tenant."""
    if name is None or name == "":
        return DEFAULT_TENANT
    if not _NAME.match(name):
        raise bad_data("NGSILD-Tenant must be 1-64 letters, digits, '.', '_' or '-'")
    return name


def ensure(name: str) -> None:
    """Create the tenant on its first write."""
    if name != DEFAULT_TENANT:
        Tenant.objects.using("territory").get_or_create(name=name)


def require(name: str) -> None:
    """Refuse to read a tenant that does not exist."""
    if name != DEFAULT_TENANT and not Tenant.objects.using("territory").filter(name=name).exists():
        raise NgsiLdError("NonexistentTenant", f"tenant {name} does not exist")
