"""Account actions that do not depend on HTTP: demo accounts for now."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import Role, User


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
        description="Partner developer",
    ),
    DemoAccount(
        Role.ADMINISTRATOR,
        "admin@demo.alzette.eu",
        "demo-admin-2026",
        "CCPHVA",
        "Platform administrator",
    ),
)


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create (or reset) the demo accounts, e-mail already verified; idempotent."""
    with transaction.atomic(using=PERSONAL):
        for account in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(email=account.email)
            user.role = account.role
            user.unit_code = account.unit_code
            user.is_staff = account.role == Role.ADMINISTRATOR
            user.is_superuser = account.role == Role.ADMINISTRATOR
            user.set_password(account.password)
            user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=account.email, defaults={"verified": True, "primary": True}
            )
    return list(DEMO_ACCOUNTS)
