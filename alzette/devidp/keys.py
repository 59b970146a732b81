"""Signing keys of the simulators: generated on first use, kept in the data directory.

Every process serving the platform must sign with the same key, or a relying
party would fetch a JWKS from one process that does not hold the key another
process signed with. So the key is a file, ``<data dir>/devidp/<provider>-<alg>.jwk.json``
(a private JWK, mode 0600), created once.

Creation is race-free across processes: the key is written completely into a
temporary file opened with O_EXCL, then published under its final name with
``os.link``, which fails if the name exists. Whoever loses the race reads the
winner's key; no process can read a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc.jwk import ECKey, KeySet, RSAKey

Key = ECKey | RSAKey


def key_directory() -> Path:
    return Path(settings.DATA_DIR) / "devidp"


def key_path(provider: str, algorithm: str) -> Path:
    return key_directory() / f"{provider}-{algorithm.lower()}.jwk.json"


def _generate(algorithm: str) -> Key:
    parameters = {"use": "sig", "alg": algorithm}
    if algorithm == "ES256":
        key = ECKey.generate_key("P-256", parameters=parameters, private=True)
    elif algorithm == "RS256":
        key = RSAKey.generate_key(2048, parameters=parameters, private=True)
    else:
        raise ValueError(f"Unsupported signing algorithm {algorithm}")
    key.ensure_kid()
    return key


def _import(data: dict, algorithm: str) -> Key:
    key_class = ECKey if algorithm == "ES256" else RSAKey
    return key_class.import_key(data)


def load_or_create(path: Path, algorithm: str) -> Key:
    """The private key stored at ``path``, generated first if there is none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = _generate(algorithm)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(key.as_dict(private=True), handle)
                handle.flush()
                os.fsync(handle.fileno())
            # If another process published its key first, use that one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return _import(json.loads(path.read_text(encoding="utf-8")), algorithm)


@lru_cache(maxsize=8)
def _cached(path: str, algorithm: str) -> Key:
    return load_or_create(Path(path), algorithm)


def signing_key(provider: str, algorithm: str) -> Key:
    """The provider's private signing key. Never available in production."""
    if settings.ALZETTE_MODE == "production":
        raise ImproperlyConfigured("The development identity providers never run in production.")
    return _cached(str(key_path(provider, algorithm)), algorithm)


def public_jwks(provider: str, algorithm: str) -> dict:
    """The JWKS document: the public half of the signing key."""
    return {"keys": [signing_key(provider, algorithm).as_dict(private=False)]}


def verification_keys(provider: str, algorithm: str) -> KeySet:
    return KeySet.import_key_set(public_jwks(provider, algorithm))
