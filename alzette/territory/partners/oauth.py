"""The OAuth2 client-credentials grant (RFC 6749 §4.4) for partner applications.

oauthlib does the protocol (parameter checks, error codes, the token response);
this module tells it who the clients are and issues the platform's own opaque
tokens (``alzt_<prefix>_<secret>``, stored hashed, one hour).
"""

from __future__ import annotations

import base64
import hmac
from typing import Any
from urllib.parse import unquote

from oauthlib.common import Request
from oauthlib.oauth2 import BackendApplicationServer, RequestValidator

from alzette.territory.partners import services
from alzette.territory.partners.models import App

DB = services.DB


class _Validator(RequestValidator):
    def authenticate_client(self, request: Request, *args: Any, **kwargs: Any) -> bool:
        client_id, secret = _client_credentials(request)
        app = (
            App.objects.using(DB)
            .select_related("organisation")
            .filter(client_id=client_id, revoked_at__isnull=True)
            .first()
            if client_id
            else None
        )
        if app is None or not secret:
            return False
        if not hmac.compare_digest(app.client_secret_hash, services.hash_secret(secret)):
            return False
        request.client = app
        request.client_id = app.client_id
        return True

    def validate_grant_type(
        self,
        client_id: str,
        grant_type: str,
        client: Any,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return grant_type == "client_credentials"

    def get_default_scopes(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> list[str]:
        return list(request.client.scopes)

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return set(scopes) <= set(client.scopes)

    def save_bearer_token(
        self, token: dict[str, Any], request: Request, *args: Any, **kwargs: Any
    ) -> None:
        pass  # issued and stored (hashed) by _generate, before the response is built


def _client_credentials(request: Request) -> tuple[str, str]:
    """HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or the body's client_id/secret."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return request.client_id or "", getattr(request, "client_secret", None) or ""


def _generate(request: Request) -> str:
    _, token = services.issue_token(request.client, list(request.scopes))
    return token


_server = BackendApplicationServer(
    _Validator(),
    token_generator=_generate,
    token_expires_in=int(services.TOKEN_LIFETIME.total_seconds()),
)


def token_response(
    uri: str, method: str, body: str, headers: dict[str, str]
) -> tuple[dict[str, str], str, int]:
    """Headers, JSON body and status of the token endpoint's answer."""
    return _server.create_token_response(uri, method, body, headers)
