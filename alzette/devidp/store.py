"""Short-lived protocol state, kept in the shared Django cache.

Pending authorization requests, authorization codes, access tokens and
provider sessions live in ``django.core.cache.cache`` (the database cache, or
Redis), so that every process serving the platform sees the same state. Keys
hold a SHA-256 digest of the code or token, never the value itself.

Single use is enforced by ``cache.delete``, which reports whether it removed
the key: of two concurrent redemptions of one code, only one deletes it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from django.core.cache import cache

CODE_TTL = 60  # seconds an authorization code stays valid
ACCESS_TOKEN_TTL = 60  # seconds an access token stays valid (ProConnect documents 60 s)
ID_TOKEN_TTL = 60
TRANSACTION_TTL = 15 * 60  # time to pick an identity on the authorize page
SESSION_TTL = 12 * 60 * 60  # ProConnect documents 12-hour sessions
USED_CODE_TTL = 10 * 60  # how long a redeemed code is remembered, to detect replays


class InvalidGrant(Exception):
    """The authorization code cannot be exchanged."""


def now() -> int:
    """Seconds since the epoch (tests move it forward to expire codes)."""
    return int(time.time())


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _key(provider: str, kind: str, value: str) -> str:
    return f"devidp:{provider}:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


# --- Pending authorization requests (between the authorize page and its form) ---


def save_transaction(provider: str, request: dict[str, Any]) -> str:
    transaction = new_secret()
    cache.set(_key(provider, "transaction", transaction), request, TRANSACTION_TTL)
    return transaction


def get_transaction(provider: str, transaction: str) -> dict[str, Any] | None:
    if not transaction:
        return None
    return cache.get(_key(provider, "transaction", transaction))


def take_transaction(provider: str, transaction: str) -> bool:
    """Consume the pending request; False if it was already consumed."""
    return bool(cache.delete(_key(provider, "transaction", transaction)))


# --- Provider sessions (what end_session ends) ---


def open_session(provider: str, record: dict[str, Any]) -> str:
    sid = new_secret()
    cache.set(_key(provider, "session", sid), record, SESSION_TTL)
    return sid


def session_is_open(provider: str, sid: str) -> bool:
    return bool(sid) and cache.get(_key(provider, "session", sid)) is not None


def end_session(provider: str, sid: str) -> None:
    if sid:
        cache.delete(_key(provider, "session", sid))


# --- Authorization codes ---


def issue_code(provider: str, grant: dict[str, Any]) -> str:
    code = new_secret()
    record = {**grant, "expires_at": now() + CODE_TTL}
    cache.set(_key(provider, "code", code), record, CODE_TTL)
    return code


def redeem_code(provider: str, code: str, client_id: str, redirect_uri: str) -> dict[str, Any]:
    """The grant behind ``code``, which is consumed; InvalidGrant otherwise.

    A code is bound to the client and to the redirect_uri of its authorization
    request. A replayed code also revokes the access token issued for it
    (RFC 6749, section 4.1.2).
    """
    key = _key(provider, "code", code)
    record = cache.get(key)
    if record is None:
        used = cache.get(_key(provider, "used-code", code))
        if used is not None:
            cache.delete(used["access_token_key"])
            raise InvalidGrant("The authorization code was already used.")
        raise InvalidGrant("The authorization code is unknown or expired.")
    if record["client_id"] != client_id:
        raise InvalidGrant("The authorization code was issued to another client.")
    if record["redirect_uri"] != redirect_uri:
        raise InvalidGrant("The redirect_uri differs from the one of the authorization request.")
    if record["expires_at"] <= now():
        cache.delete(key)
        raise InvalidGrant("The authorization code is expired.")
    if not cache.delete(key):
        raise InvalidGrant("The authorization code was already used.")
    return record


def remember_redeemed_code(provider: str, code: str, access_token: str) -> None:
    token_key = _key(provider, "access-token", access_token)
    cache.set(_key(provider, "used-code", code), {"access_token_key": token_key}, USED_CODE_TTL)


# --- Access tokens ---


def issue_access_token(provider: str, grant: dict[str, Any]) -> str:
    token = new_secret()
    record = {**grant, "expires_at": now() + ACCESS_TOKEN_TTL}
    cache.set(_key(provider, "access-token", token), record, ACCESS_TOKEN_TTL)
    return token


def access_token(provider: str, token: str) -> dict[str, Any] | None:
    """The grant of a valid access token: known, not expired, its session still open."""
    if not token:
        return None
    record = cache.get(_key(provider, "access-token", token))
    if record is None or record["expires_at"] <= now():
        return None
    if not session_is_open(provider, record["sid"]):
        return None
    return record
