"""django-oauth-toolkit's request validator, adapted to the platform.

- ``sub`` is pairwise (services.subject_for), in the ID token and at userinfo alike;
- the ID token carries no personal attribute: the claims of ``profile`` and
  ``email`` are given at the userinfo endpoint only (OpenID Connect Core 1.0,
  section 5.4, for flows that issue an access token), so that no name or address
  travels in an ``id_token_hint``;
- every request must include the ``openid`` scope;
- a replayed authorization code is refused and revokes the tokens issued for it;
- a deactivated account's tokens stop working;
- an ID token is verified with the key its ``kid`` names, active or retired, so that an
  ``id_token_hint`` signed before a key rotation is still accepted at logout.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from jwcrypto import jws
from oauth2_provider import oauth2_validators
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from alzette.personal.sso import services
from alzette.personal.sso.conf import REQUIRED_SCOPE, SCOPE_CLAIMS


class OAuth2Validator(oauth2_validators.OAuth2Validator):
    oidc_claim_scope = {claim: scope for scope, claims in SCOPE_CLAIMS.items() for claim in claims}

    # --- Scopes --------------------------------------------------------------

    def validate_scopes(
        self, client_id: Any, scopes: Any, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if REQUIRED_SCOPE not in scopes:
            return False
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    # --- prompt=none -----------------------------------------------------------
    # The authorization view only runs for a signed-in person (anonymous requests with
    # prompt=none get login_required from DOT), and it checks the remembered consent
    # itself before answering consent_required: nothing is left to check here.

    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return True

    # --- Claims ------------------------------------------------------------------

    def get_discovery_claims(self, request: Any) -> list[str]:
        return services.supported_claims()

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        """The ID token's claims besides the standard ones: the pairwise ``sub`` only."""
        return {"sub": services.subject_for(request.user, request.client)}

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        return services.userinfo_claims(request.user, request.client, request.scopes)

    # --- Tokens --------------------------------------------------------------------

    def validate_bearer_token(self, token: Any, scopes: Any, request: Any) -> bool:
        valid = super().validate_bearer_token(token, scopes, request)
        if valid and not request.user.is_active:
            request.oauth2_error = OrderedDict(
                [("error", "invalid_token"), ("error_description", "The account is deactivated.")]
            )
            return False
        return valid

    def validate_code(
        self, client_id: Any, code: Any, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not valid:
            services.revoke_replayed_code(client, code)
        return valid

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        result = super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            request.sso_access_token = token.get("access_token")
        return result

    def invalidate_authorization_code(
        self, client_id: Any, code: Any, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        services.remember_redeemed_code(
            request.client, code, getattr(request, "sso_access_token", None)
        )

    # --- ID tokens presented back (id_token_hint) ---------------------------------------

    def _get_key_for_token(self, token: Any) -> Any:
        """DOT verifies with the active key only; after a rotation, a token signed with a
        retired key would fail. Pick the published key its header's ``kid`` names."""
        key = super()._get_key_for_token(token)
        if key is None or key.get("kty") != "RSA":
            return key  # no audience, or not an RS256 service (none are registered)
        unverified = jws.JWS()
        unverified.deserialize(token)
        kid = unverified.jose_header.get("kid")
        for pem in oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE:
            candidate = jwk_from_pem(pem)
            if kid and candidate.thumbprint() == kid:
                return candidate
        return key
