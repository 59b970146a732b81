"""django-oauth-toolkit's settings for the OpenID Provider, built for alzette/conf/settings.py.

Everything DOT needs is here, so that settings.py holds a single call::

    OAUTH2_PROVIDER = oauth2_provider_settings(
        production=PRODUCTION, data_dir=DATA_DIR, signing_key=..., signing_key_file=...,
        inactive_signing_keys=..., inactive_signing_keys_file=..., issuer=...
    )

This module is imported by the settings: it must not import models or anything
that needs the app registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.sso import keys

#: The scopes a service may ask for, with what the person is shown on the consent
#: screen. Only data the account actually holds: no scope for a phone number or a
#: postal address, which accounts do not have.
SCOPES: dict[str, Any] = {
    "openid": _(
        "An identifier of your account that is specific to this service: other services "
        "cannot use it to recognise you"
    ),
    "profile": _("Your given name and family name"),
    "email": _("Your e-mail address, and whether you have confirmed it"),
}
#: openid is mandatory: the provider only does OpenID Connect.
REQUIRED_SCOPE = "openid"
#: The claims each scope releases (at the userinfo endpoint; the ID token carries ``sub``).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": ("given_name", "family_name"),
    "email": ("email", "email_verified"),
}

AUTHORIZATION_CODE_SECONDS = 60
ACCESS_TOKEN_SECONDS = 600
ID_TOKEN_SECONDS = 600
#: A refresh token dies this long after its last access token expired (sliding).
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600

TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def oauth2_provider_settings(
    *,
    production: bool,
    data_dir: Path | str,
    signing_key: str = "",
    signing_key_file: str = "",
    inactive_signing_keys: str = "",
    inactive_signing_keys_file: str = "",
    issuer: str = "",
) -> dict[str, Any]:
    """The ``OAUTH2_PROVIDER`` setting.

    ``signing_key``/``signing_key_file``: the RS256 key (PEM text, or a file holding
    it); outside production, when both are empty, a key generated on first use into
    ``<data_dir>/sso/oidc-rs256.pem``. ``inactive_signing_keys``/``_file``: retired keys
    still published in the JWKS (PEM blocks, or a file holding them); outside production,
    when both are empty, those ``alzette sso rotate-key`` left in ``<data_dir>/sso/retired/``.
    ``issuer``: the issuer URL when the platform is reachable under several host names
    (empty: built from the request, ``<origin>/o``).
    """
    inactive = keys.inactive_signing_keys(
        inactive_signing_keys, inactive_signing_keys_file, data_dir, production
    )
    return {
        # OpenID Connect, RS256 only (no HS256 applications: see services.register_client).
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": keys.signing_key_pem(
            signing_key, signing_key_file, data_dir, production
        ),
        # Retired keys: published in the JWKS (each under its own kid), never used to sign.
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": keys.usable_pems(inactive),
        "OIDC_ISS_ENDPOINT": issuer.rstrip("/"),
        "OIDC_SERVER_CLASS": "alzette.personal.sso.server.Server",
        "OAUTH2_VALIDATOR_CLASS": "alzette.personal.sso.validators.OAuth2Validator",
        "SCOPES_BACKEND_CLASS": "alzette.personal.sso.scopes.ServiceScopes",
        "SCOPES": SCOPES,
        "DEFAULT_SCOPES": [REQUIRED_SCOPE],
        # Authorization code with PKCE (S256 only), refresh tokens; nothing else.
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
        "PKCE_REQUIRED": True,
        "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": TOKEN_ENDPOINT_AUTH_METHODS,
        "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": TOKEN_ENDPOINT_AUTH_METHODS,
        # Lifetimes.
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": AUTHORIZATION_CODE_SECONDS,
        "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_SECONDS,
        "ID_TOKEN_EXPIRE_SECONDS": ID_TOKEN_SECONDS,
        "REFRESH_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_SECONDS,
        # Refresh tokens rotate; a replayed one revokes its whole family.
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        # Redirect URIs: exact match; plain http only outside production.
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if production else ["http", "https"],
        "ALLOWED_SCHEMES": ["https"],
        "ALLOW_URI_WILDCARDS": False,
        "ALLOW_LOCALHOST_LOOPBACK": False,
        # RP-initiated logout: no prompt when the ID token hint names the signed-in person;
        # the asking service's tokens are revoked by views.LogoutView, other services' kept.
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
        "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
        "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
        # RFC 9700 (OAuth 2.0 Security BCP), every gate on.
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        # http redirect URIs exist outside production only; the deploy check runs there.
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": production,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
        "DCR_ENABLED": False,
        "CIMD_ENABLED": False,
    }
