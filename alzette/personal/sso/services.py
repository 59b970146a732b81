"""Single sign-on, the domain: pairwise subjects, claims, consents, service registration.

No HTTP here (the "Domain modules import no HTTP framework" contract covers this
module). django-oauth-toolkit's validator (``validators.py``) and the views call
these functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
    revoke_access_token,
)
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.validators import AllowedURIValidator

from alzette.core.repositories import PERSONAL
from alzette.personal.mydata.models import AccessorKind
from alzette.personal.mydata.services import log_access, record_receipt
from alzette.personal.sso import keys
from alzette.personal.sso.conf import REQUIRED_SCOPE, SCOPE_CLAIMS, SCOPES
from alzette.personal.sso.models import Consent, RedeemedCode, RelyingParty

#: The access log's purpose when a service reads account details at userinfo.
PURPOSE_USERINFO = gettext_noop("Single sign-on: account details sent to the service")
#: How long a redeemed authorization code is remembered to catch a replay.
REDEEMED_CODE_MEMORY_SECONDS = 600


class SectorError(ValueError):
    """The service's redirect URIs do not name one host: its sector must be set."""


# --- Pairwise subject identifiers (OpenID Connect Core 1.0, section 8.1) -----


def sector_from_redirect_uris(redirect_uris: str | Iterable[str]) -> str:
    """The host all the redirect URIs share, lower-cased; SectorError otherwise."""
    uris = redirect_uris.split() if isinstance(redirect_uris, str) else list(redirect_uris)
    hosts = {(urlsplit(uri).hostname or "").lower() for uri in uris}
    hosts.discard("")
    if len(hosts) != 1:
        raise SectorError(
            "The redirect URIs must share one host name, or the service needs an explicit "
            f"sector identifier (hosts found: {', '.join(sorted(hosts)) or 'none'})."
        )
    return hosts.pop()


def relying_party(application: Any) -> RelyingParty:
    """The service's single sign-on profile, created from its redirect URIs if missing
    (a service registered through the admin rather than ``alzette sso register-client``)."""
    found = RelyingParty.objects.filter(application=application).first()
    if found is not None:
        return found
    sector = sector_from_redirect_uris(application.redirect_uris)
    return RelyingParty.objects.get_or_create(application=application, defaults={"sector": sector})[
        0
    ]


def pairwise_secret() -> str:
    """The server secret subjects are derived with (see keys.pairwise_secret)."""
    return _pairwise_secret(
        getattr(settings, "ALZETTE_SSO_PAIRWISE_SECRET", ""),
        getattr(settings, "ALZETTE_SSO_PAIRWISE_SECRET_FILE", ""),
        str(settings.DATA_DIR),
        settings.ALZETTE_MODE == "production",
    )


@lru_cache(maxsize=4)
def _pairwise_secret(value: str, secret_file: str, data_dir: str, production: bool) -> str:
    secret = keys.pairwise_secret(value, secret_file, data_dir, production)
    if not secret:
        raise ImproperlyConfigured(
            "Set ALZETTE_SSO_PAIRWISE_SECRET or ALZETTE_SSO_PAIRWISE_SECRET_FILE in production."
        )
    return secret


def pairwise_subject(sector: str, pseudonym: str, secret: str) -> str:
    """base64url(HMAC-SHA256(secret, sector || pseudonym)), without padding (43 characters).

    The pseudonym always has 32 characters, so the concatenation is unambiguous.
    """
    message = (sector.lower() + pseudonym).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def subject_for(user: Any, application: Any) -> str:
    """The ``sub`` a service sees for a person: the same every time, another for
    services of another sector."""
    return pairwise_subject(relying_party(application).sector, user.pseudonym, pairwise_secret())


# --- Claims ------------------------------------------------------------------


def claims_for(user: Any, application: Any, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims the granted ``scopes`` release, from what the account holds: a claim
    whose value the account does not have is left out, never made up."""
    scopes = set(scopes)
    claims: dict[str, Any] = {"sub": subject_for(user, application)}
    if "profile" in scopes:
        if user.first_name:
            claims["given_name"] = user.first_name
        if user.last_name:
            claims["family_name"] = user.last_name
    if "email" in scopes and user.email:
        claims["email"] = user.email
        claims["email_verified"] = EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists()
    return claims


def userinfo_claims(user: Any, application: Any, scopes: Iterable[str]) -> dict[str, Any]:
    """The userinfo response; account details leaving for a service are written to the
    person's access log ("my data")."""
    claims = claims_for(user, application, scopes)
    if set(claims) - {"sub"}:
        log_access(
            user, AccessorKind.SERVICE, service_label(application), "account", PURPOSE_USERINFO
        )
    return claims


def service_label(application: Any) -> str:
    """How a service is named to people: its name, else its client id."""
    name = (application.name or "").strip()
    return name if name and "@" not in name else application.client_id


def supported_claims() -> list[str]:
    return [claim for scope in SCOPES for claim in SCOPE_CLAIMS.get(scope, ())]


def ordered_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes in the order of SCOPES, without duplicates."""
    wanted = set(scopes)
    return [scope for scope in SCOPES if scope in wanted]


def scope_items(scopes: Iterable[str]) -> list[tuple[str, Any]]:
    """(scope, what the person is told it shares), in the order of SCOPES."""
    return [(scope, SCOPES[scope]) for scope in ordered_scopes(scopes)]


def allowed_scopes(application: Any) -> list[str]:
    """The scopes a service may ask for (all of them for a service without a profile yet)."""
    allowed = (
        RelyingParty.objects.filter(application=application)
        .values_list("allowed_scopes", flat=True)
        .first()
    )
    return ordered_scopes(allowed.split()) if allowed is not None else list(SCOPES)


# --- Consent -----------------------------------------------------------------


def consent_covers(user: Any, application: Any, scopes: Iterable[str]) -> bool:
    """Whether the person already agreed to share ``scopes`` with the service."""
    consent = Consent.objects.filter(user=user, application=application).first()
    return consent is not None and set(scopes) <= set(consent.scopes)


def _ledger_ref(application: Any) -> str:
    return f"sso-client:{application.client_id}"


def give_consent(user: Any, application: Any, scopes: Iterable[str]) -> Consent:
    """Remember that the person agreed to share ``scopes`` (added to what they agreed
    before) and record ``consent.given`` in the ledger, the receipt kept for them."""
    requested = ordered_scopes(scopes)
    with transaction.atomic(using=PERSONAL):
        consent = (
            Consent.objects.select_for_update().filter(user=user, application=application).first()
        )
        if consent is None:
            consent = Consent(user=user, application=application)
            granted = requested
        else:
            granted = ordered_scopes([*consent.scopes, *requested])
        consent.scope = " ".join(granted)
        consent.save()
        record_receipt(
            user,
            "consent.given",
            _ledger_ref(application),
            {"service": service_label(application), "scopes": requested},
        )
    return consent


def revoke_tokens(user: Any, application: Any) -> None:
    """Revoke every code and token the service holds for the person."""
    for access_token in get_access_token_model().objects.filter(user=user, application=application):
        revoke_access_token(access_token)
    for refresh_token in get_refresh_token_model().objects.filter(
        user=user, application=application, revoked__isnull=True
    ):
        refresh_token.revoke()
    get_id_token_model().objects.filter(user=user, application=application).delete()
    get_grant_model().objects.filter(user=user, application=application).delete()


def withdraw_consent(user: Any, consent_id: Any) -> Consent:
    """Forget the consent, revoke the service's tokens and record ``consent.withdrawn``.

    Raises ``Consent.DoesNotExist`` for a consent that is not the person's.
    """
    with transaction.atomic(using=PERSONAL):
        consent = Consent.objects.select_for_update().get(pk=consent_id, user=user)
        application = consent.application
        revoke_tokens(user, application)
        consent.delete()
        record_receipt(
            user,
            "consent.withdrawn",
            _ledger_ref(application),
            {"service": service_label(application), "scopes": consent.scopes},
        )
    return consent


# --- Authorization codes: replay detection --------------------------------------


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def remember_redeemed_code(application: Any, code: str, access_token: str | None) -> None:
    """Note that ``code`` was exchanged, and for which tokens (their digests only)."""
    cutoff = timezone.now() - timedelta(seconds=REDEEMED_CODE_MEMORY_SECONDS)
    RedeemedCode.objects.filter(created_at__lt=cutoff).delete()
    family = None
    checksum = ""
    if access_token:
        checksum = hashlib.sha256(access_token.encode()).hexdigest()
        family = (
            get_refresh_token_model()
            .objects.filter(access_token__token_checksum=checksum)
            .values_list("token_family", flat=True)
            .first()
        )
    RedeemedCode.objects.update_or_create(
        digest=code_digest(code),
        defaults={
            "application": application,
            "token_family": family,
            "access_token_checksum": checksum,
        },
    )


def revoke_replayed_code(application: Any, code: str) -> bool:
    """If ``code`` was already exchanged by this service, revoke what it was exchanged
    for (the access token and the whole refresh-token family); True if it was."""
    redeemed = RedeemedCode.objects.filter(
        digest=code_digest(code), application=application
    ).first()
    if redeemed is None:
        return False
    if redeemed.token_family:
        get_refresh_token_model().revoke_family(redeemed.token_family)
    if redeemed.access_token_checksum:
        for token in get_access_token_model().objects.filter(
            token_checksum=redeemed.access_token_checksum
        ):
            revoke_access_token(token)
    return True


# --- Registration ------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    application: Any
    relying_party: RelyingParty
    client_secret: str | None  # None for a public client: it has no usable secret


def register_client(
    name: str,
    redirect_uris: Iterable[str],
    post_logout_redirect_uris: Iterable[str] = (),
    *,
    public: bool = False,
    sector: str = "",
    scopes: Iterable[str] | None = None,
) -> Registration:
    """Register a service (authorization code, RS256 ID tokens); ValidationError when the
    input is wrong. The client secret is returned once, then only its hash is kept."""
    application_model = get_application_model()
    redirect_uris = list(redirect_uris)
    logout_uris = list(post_logout_redirect_uris)
    if not name.strip():
        raise ValidationError({"name": "A service needs a name, shown on the consent screen."})
    if not redirect_uris:
        raise ValidationError({"redirect_uris": "At least one redirect URI is needed."})
    secret = generate_client_secret()
    application = application_model(
        name=name.strip(),
        client_type=(
            application_model.CLIENT_PUBLIC if public else application_model.CLIENT_CONFIDENTIAL
        ),
        authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(logout_uris),
        algorithm=application_model.RS256_ALGORITHM,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=False,
    )
    application.full_clean()
    logout_validator = AllowedURIValidator(
        oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES,
        name="post logout redirect uri",
        allow_path=True,
        allow_query=True,
    )
    for uri in logout_uris:
        logout_validator(uri)
    try:
        sector = sector.strip().lower() or sector_from_redirect_uris(redirect_uris)
    except SectorError as exc:
        raise ValidationError({"sector": str(exc)}) from exc
    allowed = " ".join(ordered_scopes(scopes)) if scopes is not None else " ".join(SCOPES)
    if scopes is not None and set(scopes) - set(SCOPES):
        raise ValidationError({"scopes": f"Unknown scope(s): {sorted(set(scopes) - set(SCOPES))}."})
    if REQUIRED_SCOPE not in allowed.split():
        raise ValidationError({"scopes": "The openid scope is required."})
    with transaction.atomic(using=PERSONAL):
        application.save()
        profile = RelyingParty.objects.create(
            application=application, sector=sector, allowed_scopes=allowed
        )
    return Registration(application, profile, None if public else secret)
