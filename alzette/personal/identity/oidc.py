"""OpenID Connect relying party: discovery, code exchange and token checks.

Plain module (no web framework): the views hand it what the browser brought
back and act on what it returns. Every check the FranceConnect v2 and
ProConnect documentation asks of a relying party is made here: issuer on the
callback, in the ID token and in the signed userinfo; audience; expiry; nonce;
signature with the provider's published keys (ES256 or RS256).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from django.utils.translation import gettext_lazy as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALLOWED_ALGORITHMS = ["ES256", "RS256"]
HTTP_TIMEOUT = 10
CLOCK_SKEW = 60  # seconds of tolerance between our clock and the provider's


class OidcError(Exception):
    """The provider's answer cannot be trusted or used; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderSettings:
    """One identity provider as configured for this platform."""

    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    acr_values: str = ""


def random_token() -> str:
    """A single-use state or nonce: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def discover(issuer: str) -> Discovery:
    """Read the provider's OpenID configuration; its issuer must be the configured one."""
    document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if document.get("issuer") != issuer:
        raise OidcError(
            _("The identity provider announces another issuer than the configured one.")
        )
    try:
        return Discovery(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            userinfo_endpoint=document["userinfo_endpoint"],
            jwks_uri=document["jwks_uri"],
            end_session_endpoint=document.get("end_session_endpoint", ""),
            extra=document,
        )
    except KeyError as exc:
        raise OidcError(_("The identity provider's configuration is incomplete.")) from exc


def authorization_url(
    provider: ProviderSettings, discovery: Discovery, redirect_uri: str, state: str, nonce: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri,
        "scope": provider.scopes,
        "state": state,
        "nonce": nonce,
    }
    if provider.acr_values:
        params["acr_values"] = provider.acr_values
    return f"{discovery.authorization_endpoint}?{urlencode(params)}"


@dataclass(frozen=True)
class SignIn:
    """What a successful exchange yields: verified ID token claims and userinfo."""

    id_token: str
    id_claims: dict[str, Any]
    userinfo: dict[str, Any]


def complete(
    provider: ProviderSettings,
    discovery: Discovery,
    *,
    code: str,
    redirect_uri: str,
    nonce: str,
    callback_issuer: str | None,
) -> SignIn:
    """Exchange ``code`` and verify everything that comes back."""
    if callback_issuer is not None and callback_issuer != provider.issuer:
        raise OidcError(_("The authorization response names another issuer (possible mix-up)."))
    tokens = _post_json(
        discovery.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
        },
    )
    id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
    if not id_token or not access_token or tokens.get("token_type", "").lower() != "bearer":
        raise OidcError(_("The token response lacks an ID token or a bearer access token."))
    keys = _keys(discovery.jwks_uri)
    id_claims = verify_jwt(id_token, keys, provider)
    if id_claims.get("nonce") != nonce:
        raise OidcError(_("The ID token's nonce does not match this sign-in (possible replay)."))
    if provider.acr_values and not id_claims.get("acr"):
        raise OidcError(_("The ID token does not state the authentication level (acr)."))
    userinfo = _userinfo(discovery.userinfo_endpoint, access_token, keys, provider)
    if userinfo.get("sub") != id_claims.get("sub"):
        raise OidcError(_("The userinfo and the ID token describe different people."))
    return SignIn(id_token=id_token, id_claims=id_claims, userinfo=userinfo)


def verify_jwt(token: str, keys: KeySet, provider: ProviderSettings) -> dict[str, Any]:
    """Signature, algorithm, issuer, audience and time checks of a JWT from the provider."""
    try:
        decoded = jwt.decode(token, keys, algorithms=ALLOWED_ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise OidcError(_("A token from the identity provider is not validly signed.")) from exc
    claims = decoded.claims
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    now = time.time()
    if claims.get("iss") != provider.issuer:
        raise OidcError(_("A token was issued by another identity provider."))
    if provider.client_id not in audiences:
        raise OidcError(_("A token was issued for another service."))
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < now - CLOCK_SKEW:
        raise OidcError(_("A token from the identity provider has expired."))
    if isinstance(claims.get("iat"), int | float) and claims["iat"] > now + CLOCK_SKEW:
        raise OidcError(_("A token from the identity provider is dated in the future."))
    if not claims.get("sub"):
        raise OidcError(_("A token from the identity provider names nobody."))
    return claims


def end_session_url(discovery: Discovery, id_token: str, state: str, post_logout_uri: str) -> str:
    params = {
        "id_token_hint": id_token,
        "state": state,
        "post_logout_redirect_uri": post_logout_uri,
    }
    return f"{discovery.end_session_endpoint}?{urlencode(params)}"


def _userinfo(endpoint: str, access_token: str, keys: KeySet, provider: ProviderSettings) -> dict:
    response = _request("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"})
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type != "application/jwt":
        raise OidcError(_("The userinfo is not a signed JWT."))
    return verify_jwt(response.text.strip(), keys, provider)


def _keys(jwks_uri: str) -> KeySet:
    try:
        return KeySet.import_key_set(_get_json(jwks_uri))
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcError(_("The identity provider's keys cannot be read.")) from exc


def _request(method: str, url: str, **kwargs: Any) -> requests.Response:
    try:
        response = requests.request(method, url, timeout=HTTP_TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise OidcError(_("The identity provider cannot be reached.")) from exc
    if response.status_code >= 400:
        raise OidcError(
            _("The identity provider refused the request (HTTP %(status)s).")
            % {"status": response.status_code}
        )
    return response


def _get_json(url: str) -> dict[str, Any]:
    return _json(_request("GET", url))


def _post_json(url: str, data: dict[str, str]) -> dict[str, Any]:
    return _json(_request("POST", url, data=data, headers={"Accept": "application/json"}))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError as exc:
        raise OidcError(_("The identity provider answered something that is not JSON.")) from exc
    if not isinstance(document, dict):
        raise OidcError(_("The identity provider answered an unexpected document."))
    return document
