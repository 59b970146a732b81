"""HTTP endpoints of the FranceConnect v2 and ProConnect simulators.

OpenID Connect authorization code flow, as the real services run it:
discovery, JWKS, authorize (an HTML page where the developer picks a demo
identity), token (client_secret_post or client_secret_basic), userinfo (a
signed JWT, ``application/jwt``) and end_session. Every view answers 404 in
production, even if the routes were somehow mounted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from joserfc import jwt
from joserfc.errors import JoseError

from alzette.devidp import keys, store
from alzette.devidp.clients import Client, get_client
from alzette.devidp.providers import MIN_NONCE_LENGTH, MIN_STATE_LENGTH, PROVIDERS, Provider

View = Callable[..., HttpResponse]

# Parameters that must not be repeated (RFC 6749, section 3.1).
SINGLE_VALUED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "acr_values",
    "prompt",
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def simulator(view: View) -> View:
    """Resolve the provider; 404 in production or for an unknown provider."""

    @wraps(view)
    def wrapper(request: HttpRequest, provider: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.ALZETTE_MODE == "production":
            raise Http404
        found = PROVIDERS.get(provider)
        if found is None:
            raise Http404
        return view(request, found, *args, **kwargs)

    return wrapper


# --- URLs --------------------------------------------------------------------


def _url(request: HttpRequest, name: str, provider: Provider) -> str:
    return request.build_absolute_uri(reverse(f"devidp:{name}", args=[provider.slug]))


def issuer(request: HttpRequest, provider: Provider) -> str:
    """The provider's base URL, as the client reached it: its `iss`."""
    return _url(request, "configuration", provider).removesuffix(
        "/.well-known/openid-configuration"
    )


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- Discovery and keys ------------------------------------------------------


@simulator
@require_GET
def configuration(request: HttpRequest, provider: Provider) -> JsonResponse:
    document = {
        "issuer": issuer(request, provider),
        "authorization_endpoint": _url(request, "authorize", provider),
        "token_endpoint": _url(request, "token", provider),
        "userinfo_endpoint": _url(request, "userinfo", provider),
        "jwks_uri": _url(request, "jwks", provider),
        "end_session_endpoint": _url(request, "end_session", provider),
        "scopes_supported": provider.scopes_supported,
        "claims_supported": provider.claims_supported,
        "acr_values_supported": list(provider.acr_values),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": [provider.subject_type],
        "id_token_signing_alg_values_supported": [provider.algorithm],
        "userinfo_signing_alg_values_supported": [provider.algorithm],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": provider.returns_iss,
    }
    return JsonResponse(document)


@simulator
@require_GET
def jwks(request: HttpRequest, provider: Provider) -> JsonResponse:
    return JsonResponse(keys.public_jwks(provider.slug, provider.algorithm))


def _sign(provider: Provider, claims: dict[str, Any]) -> str:
    key = keys.signing_key(provider.slug, provider.algorithm)
    return jwt.encode({"alg": provider.algorithm, "kid": key.kid}, claims, key)


# --- Authorize -----------------------------------------------------------------


class AuthorizationError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _error_page(request: HttpRequest, provider: Provider, reason: str) -> HttpResponse:
    """Refuse without redirecting: the redirect_uri is not one we may send the user to."""
    response = render(
        request, "devidp/error.html", {"provider": provider, "reason": reason}, status=400
    )
    response["Cache-Control"] = "no-store"
    return response


def _redirect(uri: str, params: dict[str, str], status: int = 302) -> HttpResponseRedirect:
    response = HttpResponseRedirect(_with_query(uri, params))
    response.status_code = status
    response["Cache-Control"] = "no-store"
    return response


def _authorization_response(
    request: HttpRequest, provider: Provider, redirect_uri: str, params: dict[str, str]
) -> HttpResponseRedirect:
    if provider.returns_iss:
        params = {**params, "iss": issuer(request, provider)}
    return _redirect(redirect_uri, params)


def _authorization_error(
    request: HttpRequest,
    provider: Provider,
    redirect_uri: str,
    state: str,
    error: str,
    description: str,
) -> HttpResponseRedirect:
    params = {"error": error, "error_description": description}
    if state:
        params["state"] = state
    return _authorization_response(request, provider, redirect_uri, params)


def _validate_authorization_request(
    provider: Provider, client: Client, params: dict[str, str]
) -> dict[str, Any]:
    """The pending request to store, once every parameter is acceptable."""
    if params.get("response_type") != "code":
        raise AuthorizationError("unsupported_response_type", "response_type must be code.")
    scopes = params.get("scope", "").split()
    if "openid" not in scopes:
        raise AuthorizationError("invalid_scope", "The scope must contain openid.")
    unknown = sorted(set(scopes) - set(provider.scopes_supported))
    if unknown:
        raise AuthorizationError("invalid_scope", f"Unknown scope(s): {' '.join(unknown)}.")
    state = params.get("state", "")
    if len(state) < MIN_STATE_LENGTH:
        raise AuthorizationError(
            "invalid_request", f"state is required, at least {MIN_STATE_LENGTH} characters."
        )
    nonce = params.get("nonce", "")
    if len(nonce) < MIN_NONCE_LENGTH:
        raise AuthorizationError(
            "invalid_request", f"nonce is required, at least {MIN_NONCE_LENGTH} characters."
        )
    requested_acr = params.get("acr_values", "").split()
    if not requested_acr and provider.acr_required:
        raise AuthorizationError("invalid_request", "acr_values is required.")
    acceptable = [value for value in requested_acr if value in provider.acr_values]
    if requested_acr and not acceptable:
        raise AuthorizationError(
            "invalid_request",
            f"acr_values must be among {' '.join(provider.acr_values)}.",
        )
    if "none" in params.get("prompt", "").split():
        # The simulator keeps no single sign-on session: it always asks.
        raise AuthorizationError("login_required", "The user must choose an identity.")
    return {
        "client_id": client.client_id,
        "redirect_uri": params["redirect_uri"],
        "scopes": list(dict.fromkeys(scopes)),
        "state": state,
        "nonce": nonce,
        "acr": acceptable[0] if acceptable else provider.default_acr,
    }


@simulator
@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest, provider: Provider) -> HttpResponse:
    if request.method == "POST":
        return _decide(request, provider)
    repeated = [name for name in SINGLE_VALUED if len(request.GET.getlist(name)) > 1]
    client = get_client(provider.slug, request.GET.get("client_id", ""))
    if client is None or "client_id" in repeated:
        return _error_page(request, provider, _("This client is not registered."))
    redirect_uri = request.GET.get("redirect_uri", "")
    if not client.accepts_redirect_uri(redirect_uri) or "redirect_uri" in repeated:
        return _error_page(
            request,
            provider,
            _("The redirect_uri is missing or not registered for this client."),
        )
    params = request.GET.dict()
    state = params.get("state", "") if "state" not in repeated else ""
    try:
        if repeated:
            raise AuthorizationError(
                "invalid_request", f"Repeated parameter(s): {' '.join(repeated)}."
            )
        pending = _validate_authorization_request(provider, client, params)
    except AuthorizationError as error:
        return _authorization_error(
            request, provider, redirect_uri, state, error.error, error.description
        )
    transaction = store.save_transaction(provider.slug, pending)
    return render(
        request,
        "devidp/authorize.html",
        {
            "provider": provider,
            "client": client,
            "scopes": pending["scopes"],
            "identities": provider.identities,
            "transaction": transaction,
        },
    )


def _stale_request_page(request: HttpRequest, provider: Provider) -> HttpResponse:
    reason = _(
        "This sign-in request has expired or was already used. Start again from the service."
    )
    return _error_page(request, provider, reason)


def _decide(request: HttpRequest, provider: Provider) -> HttpResponse:
    """The developer picked an identity (or cancelled): back to the client."""
    transaction = request.POST.get("transaction", "")
    pending = store.get_transaction(provider.slug, transaction)
    if pending is None:
        return _stale_request_page(request, provider)
    cancelled = "cancel" in request.POST
    identity = provider.identity(request.POST.get("identity", ""))
    if identity is None and not cancelled:
        return _error_page(request, provider, _("Unknown demo identity."))
    if not store.take_transaction(provider.slug, transaction):
        return _stale_request_page(request, provider)
    redirect_uri, state = pending["redirect_uri"], pending["state"]
    if cancelled:
        return _authorization_error(
            request, provider, redirect_uri, state, "access_denied", "The user cancelled."
        )
    auth_time = store.now()
    sid = store.open_session(
        provider.slug,
        {"client_id": pending["client_id"], "identity": identity.key, "auth_time": auth_time},
    )
    code = store.issue_code(
        provider.slug, {**pending, "identity": identity.key, "auth_time": auth_time, "sid": sid}
    )
    return _authorization_response(request, provider, redirect_uri, {"code": code, "state": state})


# --- Token -----------------------------------------------------------------------


def _token_error(error: str, description: str, status: int = 400) -> JsonResponse:
    response = JsonResponse(
        {"error": error, "error_description": description}, status=status, headers=NO_STORE
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="devidp"'
    return response


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """client_id and secret from ``Authorization: Basic`` (form-urlencoded, RFC 6749 2.3.1)."""
    scheme, _space, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def _authenticate_client(request: HttpRequest, provider: Provider) -> Client | JsonResponse:
    header = request.headers.get("Authorization", "")
    posted_id = request.POST.get("client_id")
    posted_secret = request.POST.get("client_secret")
    if header:
        credentials = _basic_credentials(header)
        if credentials is None:
            return _token_error("invalid_client", "Unreadable client credentials.", 401)
        if posted_secret is not None:
            return _token_error("invalid_request", "Use one client authentication method, not two.")
        client_id, secret = credentials
        if posted_id is not None and posted_id != client_id:
            return _token_error("invalid_client", "Conflicting client_id.", 401)
    else:
        client_id, secret = posted_id or "", posted_secret or ""
    client = get_client(provider.slug, client_id)
    if client is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        return _token_error("invalid_client", "Client authentication failed.", 401)
    return client


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


@simulator
@csrf_exempt
@require_POST
def token(request: HttpRequest, provider: Provider) -> JsonResponse:
    client = _authenticate_client(request, provider)
    if isinstance(client, JsonResponse):
        return client
    grant_type = request.POST.get("grant_type", "")
    if not grant_type:
        return _token_error("invalid_request", "grant_type is required.")
    if grant_type != "authorization_code":
        return _token_error("unsupported_grant_type", "Only authorization_code is supported.")
    code = request.POST.get("code", "")
    if not code:
        return _token_error("invalid_request", "code is required.")
    try:
        grant = store.redeem_code(
            provider.slug, code, client.client_id, request.POST.get("redirect_uri", "")
        )
    except store.InvalidGrant as error:
        return _token_error("invalid_grant", str(error))
    identity = provider.identity(grant["identity"])
    access_token = store.issue_access_token(
        provider.slug,
        {
            "client_id": client.client_id,
            "identity": identity.key,
            "scopes": grant["scopes"],
            "sid": grant["sid"],
        },
    )
    store.remember_redeemed_code(provider.slug, code, access_token)
    issued_at = store.now()
    id_token = _sign(
        provider,
        {
            "iss": issuer(request, provider),
            "sub": provider.subject(identity, client.client_id),
            "aud": client.client_id,
            "exp": issued_at + store.ID_TOKEN_TTL,
            "iat": issued_at,
            "auth_time": grant["auth_time"],
            "nonce": grant["nonce"],
            "acr": grant["acr"],
            "amr": ["pwd"],
            "sid": grant["sid"],
            "at_hash": _at_hash(access_token),
        },
    )
    return JsonResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": store.ACCESS_TOKEN_TTL,
            "id_token": id_token,
            "scope": " ".join(grant["scopes"]),
        },
        headers=NO_STORE,
    )


# --- Userinfo -------------------------------------------------------------------


def _bearer_token(request: HttpRequest) -> str:
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _invalid_token(provider: Provider, description: str, given: bool) -> JsonResponse:
    response = JsonResponse(
        {"error": "invalid_token", "error_description": description},
        status=401,
        headers=NO_STORE,
    )
    challenge = f'Bearer realm="{provider.slug}"'
    if given:
        challenge += f', error="invalid_token", error_description="{description}"'
    response["WWW-Authenticate"] = challenge
    return response


@simulator
@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest, provider: Provider) -> HttpResponse:
    presented = _bearer_token(request)
    if not presented:
        return _invalid_token(provider, "A Bearer access token is required.", given=False)
    grant = store.access_token(provider.slug, presented)
    if grant is None:
        return _invalid_token(provider, "The access token is unknown or expired.", given=True)
    identity = provider.identity(grant["identity"])
    issued_at = store.now()
    claims = {
        "iss": issuer(request, provider),
        "aud": grant["client_id"],
        "sub": provider.subject(identity, grant["client_id"]),
        "iat": issued_at,
        "exp": issued_at + store.ID_TOKEN_TTL,
        **provider.user_claims(identity, grant["scopes"]),
    }
    return HttpResponse(_sign(provider, claims), content_type="application/jwt", headers=NO_STORE)


# --- End session ------------------------------------------------------------------


def _own_id_token(request: HttpRequest, provider: Provider, value: str) -> dict[str, Any] | None:
    """The claims of an ID token this provider signed (expired ones included), else None."""
    if not value:
        return None
    try:
        claims = jwt.decode(
            value,
            keys.verification_keys(provider.slug, provider.algorithm),
            algorithms=[provider.algorithm],
        ).claims
    except (JoseError, ValueError):
        return None
    if claims.get("iss") != issuer(request, provider) or not isinstance(claims.get("aud"), str):
        return None
    return claims


@simulator
@never_cache
@require_GET
def end_session(request: HttpRequest, provider: Provider) -> HttpResponse:
    claims = _own_id_token(request, provider, request.GET.get("id_token_hint", ""))
    if claims is None:
        return _error_page(
            request,
            provider,
            _("The id_token_hint is missing or was not issued by this provider."),
        )
    client = get_client(provider.slug, claims["aud"])
    post_logout_redirect_uri = request.GET.get("post_logout_redirect_uri", "")
    if client is None or not client.accepts_post_logout_redirect_uri(post_logout_redirect_uri):
        return _error_page(
            request,
            provider,
            _("The post_logout_redirect_uri is missing or not registered for this client."),
        )
    state = request.GET.get("state", "")
    if not state:
        return _error_page(request, provider, _("The state parameter is missing."))
    store.end_session(provider.slug, claims.get("sid", ""))
    return _redirect(post_logout_redirect_uri, {"state": state}, status=303)
