"""Account actions that do not depend on HTTP: organisational units, demo accounts and
the preferred language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.functions import Lower

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import (
    OrganisationalUnit,
    PartnerOrganisation,
    Role,
    UnitKind,
    User,
)

#: Services within units, created for every unit of the given kind. Codes are
#: "<unit code>-<suffix>"; names are proper names, kept in French.
STANDARD_SERVICES = {
    UnitKind.EPCI: [
        ("DECHETS", "Service déchets"),
        ("EAU", "Service de l'eau"),
        ("NUMERIQUE", "Service numérique"),
    ],
    UnitKind.COMMUNE: [("TECH", "Services techniques"), ("ETATCIVIL", "État civil")],
}


def sync_organisational_units() -> int:
    """Mirror the EPCI and its communes (territory reference data) as organisational
    units, with their standard services; idempotent. Returns the number of units.

    Only codes and names cross over: no relation spans the two repositories.
    """
    from alzette.territory.geo.models import TerritorialUnit
    from alzette.territory.geo.models import UnitKind as GeoKind

    territorial = list(TerritorialUnit.objects.order_by("kind").values_list("code", "kind", "name"))
    with transaction.atomic(using=PERSONAL):
        epci = None
        for code, kind, name in sorted(territorial, key=lambda row: row[1] != GeoKind.EPCI):
            unit = _upsert(code, UnitKind(kind), name, None if kind == GeoKind.EPCI else epci)
            epci = unit if kind == GeoKind.EPCI else epci
            for suffix, service in STANDARD_SERVICES.get(UnitKind(kind), []):
                _upsert(f"{code}-{suffix}", UnitKind.SERVICE, service, unit)
    return OrganisationalUnit.objects.count()


def _upsert(
    code: str, kind: str, name: str, parent: OrganisationalUnit | None
) -> OrganisationalUnit:
    unit = OrganisationalUnit.objects.filter(code=code).first() or OrganisationalUnit(code=code)
    unit.kind, unit.name, unit.parent = kind, name, parent
    unit.save()
    return unit


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    unit_code: str = ""
    description: str = ""


#: One account per role and persona, as the tests and the guides name them.
DEMO_ACCOUNTS = (
    DemoAccount(
        Role.CITIZEN,
        "citoyen@demo.alzette.eu",
        "demo-citoyen-2026",
        description="Citizen living in Villerupt",
    ),
    DemoAccount(
        Role.AGENT,
        "agent.audun@demo.alzette.eu",
        "demo-agent-2026",
        "57038",
        "Agent of Audun-le-Tiche",
    ),
    DemoAccount(
        Role.AGENT,
        "agent.villerupt@demo.alzette.eu",
        "demo-agent-2026",
        "54580",
        "Agent of Villerupt",
    ),
    DemoAccount(
        Role.PARTNER,
        "partenaire@demo.alzette.eu",
        "demo-partenaire-2026",
        description="Partner developer (Alzette Labs)",
    ),
    DemoAccount(
        Role.ADMINISTRATOR,
        "admin@demo.alzette.eu",
        "demo-admin-2026",
        description="Platform administrator",
    ),
)
DEMO_PARTNER = "Alzette Labs"


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create (or reset) the demo accounts, e-mail already verified; idempotent.

    Needs the organisational units (sync_organisational_units) for the agents.
    """
    with transaction.atomic(using=PERSONAL):
        partner, _ = PartnerOrganisation.objects.get_or_create(name=DEMO_PARTNER)
        for account in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(email=account.email)
            user.role = account.role
            user.unit = (
                OrganisationalUnit.objects.get(code=account.unit_code)
                if account.unit_code
                else None
            )
            user.partner_organisation = partner if account.role == Role.PARTNER else None
            user.is_staff = user.is_superuser = account.role == Role.ADMINISTRATOR
            user.set_password(account.password)
            user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=account.email, defaults={"verified": True, "primary": True}
            )
    return list(DEMO_ACCOUNTS)


# --- The preferred language ----------------------------------------------------------


class UnknownLanguage(ValueError):
    """A language the platform does not offer."""


def offered_languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def set_preferred_language(actor: Any, user: User, language: str) -> User:
    """Record the language ``user`` reads e-mails in ("": none chosen, the default).

    Raises ``UnknownLanguage`` for a language the platform does not offer, and
    ``PermissionDenied`` when ``actor`` may not update the account.
    """
    if language and language not in offered_languages():
        raise UnknownLanguage(language)
    if not user.get_abilities(actor)["update"]:
        raise PermissionDenied
    if user.preferred_language != language:
        with transaction.atomic(using=PERSONAL):
            User.objects.filter(pk=user.pk).update(preferred_language=language)
        user.preferred_language = language
    return user


def languages_of_addresses(addresses: Sequence[str]) -> Mapping[str, str]:
    """The chosen language of the active accounts holding these addresses (address as
    given -> language code); addresses without an account, or whose holder chose no
    language, are left out. Registered in ``alzette.core.mail`` for the senders
    that know only addresses (the territory side's operators' alerts)."""
    by_lower = {address.lower(): address for address in addresses if address}
    if not by_lower:
        return {}
    rows = (
        User.objects.annotate(address=Lower("email"))
        .filter(address__in=list(by_lower), is_active=True)
        .exclude(preferred_language="")
        .values_list("address", "preferred_language")
    )
    return {by_lower[address]: language for address, language in rows}
