"""Who signs in: linking FranceConnect and ProConnect identities to accounts.

Rules (docs/identity.md):
- FranceConnect: a known ``sub`` signs its account in; otherwise the pivot
  identity links to the account that holds the same one; otherwise a new citizen
  account is created, unless the e-mail address already belongs to an account,
  in which case the person must sign in with their password and link
  FranceConnect from there (an e-mail address alone never links).
- ProConnect: ``sub`` differs per identity provider, so agents are reconciled by
  e-mail address: pre-provisioned agents get in, and so do addresses of an
  allowed domain (creating an agent of the unit that domain maps to); anyone
  else is refused.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import OrganisationalUnit, Role, User
from alzette.personal.identity.models import FederatedIdentity, PivotIdentity, Provider

PIVOT_CLAIMS = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry")


class SignInRefused(Exception):
    """The identity is genuine but may not (or not yet) enter; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    user: User
    created: bool
    linked: bool


def _normalise(value: str) -> str:
    stripped = unicodedata.normalize("NFKD", value)
    letters = "".join(char for char in stripped if not unicodedata.combining(char))
    return " ".join(letters.upper().replace("-", " ").split())


def pivot_fingerprint(claims: dict[str, Any]) -> str:
    """SHA-256 of the normalised pivot identity (accents, case and hyphens ignored)."""
    missing = [name for name in PIVOT_CLAIMS if name not in claims]
    if missing:
        raise SignInRefused(
            _("FranceConnect did not send the pivot identity (missing: %(claims)s).")
            % {"claims": ", ".join(missing)}
        )
    canonical = "|".join(_normalise(str(claims[name])) for name in PIVOT_CLAIMS)
    return hashlib.sha256(canonical.encode()).hexdigest()


def franceconnect_sign_in(claims: dict[str, Any], current: User | None = None) -> Outcome:
    """The account a FranceConnect identity signs in (linking ``current`` if given)."""
    fingerprint = pivot_fingerprint(claims)
    with transaction.atomic(using=PERSONAL):
        known = _known(Provider.FRANCECONNECT, claims["sub"])
        if known is not None:
            if current is not None and known.user_id != current.pk:
                raise SignInRefused(_("This FranceConnect identity is linked to another account."))
            return _touch(known, created=False, linked=False)
        pivot = PivotIdentity.objects.filter(fingerprint=fingerprint).select_related("user").first()
        if pivot is not None:
            if current is not None and pivot.user_id != current.pk:
                raise SignInRefused(_("This civil identity is linked to another account."))
            return _link(pivot.user, claims["sub"], created=False)
        if current is not None:
            if PivotIdentity.objects.filter(user=current).exists():
                raise SignInRefused(_("Your account is already linked to another civil identity."))
            _store_pivot(current, claims, fingerprint)
            return _link(current, claims["sub"], created=False)
        email = (claims.get("email") or "").strip().lower()
        if email and User.objects.filter(email=email).exists():
            raise SignInRefused(
                _(
                    "An account already uses this e-mail address. Sign in with its password, "
                    "then link FranceConnect to it from your account."
                )
            )
        user = _create(
            email,
            Role.CITIZEN,
            claims.get("given_name", ""),
            claims.get("preferred_username") or claims.get("family_name", ""),
        )
        _store_pivot(user, claims, fingerprint)
        return _link(user, claims["sub"], created=True)


def proconnect_sign_in(
    claims: dict[str, Any], allowed_domains: dict[str, str], current: User | None = None
) -> Outcome:
    """The agent account a ProConnect identity signs in (or links to ``current``).

    ``allowed_domains`` maps e-mail domains to the code of the unit new agents join.
    When ``current`` is given the identity must belong to that very account.
    """
    email = (claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise SignInRefused(_("ProConnect did not send a professional e-mail address."))
    with transaction.atomic(using=PERSONAL):
        known = _known(Provider.PROCONNECT, claims["sub"])
        if current is not None and (known.user if known else _by_email(email)) != current:
            raise SignInRefused(_("This ProConnect identity does not belong to your account."))
        if known is not None:
            return _touch(known, created=False, linked=False)
        user = _by_email(email)
        if user is not None:
            if user.role not in (Role.AGENT, Role.ADMINISTRATOR):
                raise SignInRefused(_("This address belongs to an account that is not an agent's."))
            return _link(user, claims["sub"], created=False, provider=Provider.PROCONNECT)
        unit_code = allowed_domains.get(email.rsplit("@", 1)[1])
        if unit_code is None:
            raise SignInRefused(
                _(
                    "Your organisation is not allowed to use this platform. Ask an "
                    "administrator to create your agent account."
                )
            )
        unit = OrganisationalUnit.objects.filter(code=unit_code).first()
        if unit is None:
            raise SignInRefused(_("The unit your organisation maps to does not exist."))
        user = _create(
            email, Role.AGENT, claims.get("given_name", ""), claims.get("usual_name", ""), unit=unit
        )
        return _link(user, claims["sub"], created=True, provider=Provider.PROCONNECT)


def _by_email(email: str) -> User | None:
    return User.objects.filter(email=email).first()


def _known(provider: str, sub: str) -> FederatedIdentity | None:
    return (
        FederatedIdentity.objects.filter(provider=provider, sub=sub).select_related("user").first()
    )


def _touch(identity: FederatedIdentity, *, created: bool, linked: bool) -> Outcome:
    identity.last_login = timezone.now()
    identity.save(update_fields=["last_login", "updated_at"])
    return Outcome(identity.user, created=created, linked=linked)


def _link(
    user: User, sub: str, *, created: bool, provider: str = Provider.FRANCECONNECT
) -> Outcome:
    identity = FederatedIdentity(user=user, provider=provider, sub=sub, last_login=timezone.now())
    identity.save()
    return Outcome(user, created=created, linked=True)


def _create(email: str, role: str, first_name: str, last_name: str, **extra: Any) -> User:
    if not email:
        raise SignInRefused(_("The identity provider did not send an e-mail address."))
    user = User(
        email=email, role=role, first_name=first_name[:150], last_name=last_name[:150], **extra
    )
    user.set_unusable_password()
    user.save()
    # The provider has checked the address; the person can receive platform e-mail now.
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _store_pivot(user: User, claims: dict[str, Any], fingerprint: str) -> None:
    PivotIdentity.objects.create(
        user=user, fingerprint=fingerprint, **{name: str(claims[name]) for name in PIVOT_CLAIMS}
    )
