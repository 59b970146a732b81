"""The OpenID Provider's secrets: its RS256 signing key and its pairwise-subject secret.

Outside production both are generated on first use into ``<data dir>/sso/``
(mode 0600), so that every process serving the platform finds the same ones. In
production they come from the environment (see docs/sso.md).

Creation is race-free across processes, as for the ledger's key: the secret is
written whole into a private temporary file, then published under its final
name with ``os.link``, which fails if the name already exists. Whoever loses the
race reads the winner's secret; nobody reads a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

#: File names under ``<data dir>/sso/``.
SIGNING_KEY_FILE = "oidc-rs256.pem"
PAIRWISE_SECRET_FILE = "pairwise-secret"  # noqa: S105 (a file name)
#: RSA modulus size of generated keys, and the smallest accepted.
RSA_BITS = 2048
#: The pairwise secret's minimum length (characters).
PAIRWISE_SECRET_MIN_LENGTH = 32


def new_signing_key_pem() -> str:
    """A fresh RSA private key, PEM (PKCS#8), for RS256."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def new_pairwise_secret() -> str:
    return secrets.token_urlsafe(48)


def checked_signing_key(pem: str, source: str) -> str:
    """``pem`` if it is an unencrypted RSA private key of at least 2048 bits."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source} is not a PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < RSA_BITS:
        raise ImproperlyConfigured(f"{source} must be an RSA key of at least {RSA_BITS} bits.")
    return pem


def checked_pairwise_secret(value: str, source: str) -> str:
    value = value.strip()
    if len(value) < PAIRWISE_SECRET_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{source} must hold at least {PAIRWISE_SECRET_MIN_LENGTH} random characters."
        )
    return value


def load_or_create(path: Path, generate: Callable[[], str]) -> str:
    """The text stored at ``path``, generated first (mode 0600) if there is none."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                handle.write(generate())
                handle.flush()
                os.fsync(handle.fileno())
            # If another process published its secret first, use that one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text(encoding="utf-8")


def _read(file: str, variable: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read {variable}: {exc}") from exc


def signing_key_pem(pem: str, key_file: str, data_dir: Path | str, production: bool) -> str:
    """The RS256 key: ``ALZETTE_SSO_SIGNING_KEY`` (PEM), else the file named by
    ``ALZETTE_SSO_SIGNING_KEY_FILE``; outside production, else a key generated into the
    data directory. Empty in production when neither is set (settings refuse to start)."""
    if pem:
        return checked_signing_key(pem, "ALZETTE_SSO_SIGNING_KEY")
    if key_file:
        return checked_signing_key(
            _read(key_file, "ALZETTE_SSO_SIGNING_KEY_FILE"), "ALZETTE_SSO_SIGNING_KEY_FILE"
        )
    if production:
        return ""
    path = Path(data_dir) / "sso" / SIGNING_KEY_FILE
    return checked_signing_key(load_or_create(path, new_signing_key_pem), str(path))


def pairwise_secret(value: str, secret_file: str, data_dir: Path | str, production: bool) -> str:
    """The secret pairwise subject identifiers are derived with: ``ALZETTE_SSO_PAIRWISE_SECRET``,
    else the file named by ``ALZETTE_SSO_PAIRWISE_SECRET_FILE``; outside production, else a
    secret generated into the data directory. Empty in production when neither is set."""
    if value:
        return checked_pairwise_secret(value, "ALZETTE_SSO_PAIRWISE_SECRET")
    if secret_file:
        return checked_pairwise_secret(
            _read(secret_file, "ALZETTE_SSO_PAIRWISE_SECRET_FILE"),
            "ALZETTE_SSO_PAIRWISE_SECRET_FILE",
        )
    if production:
        return ""
    path = Path(data_dir) / "sso" / PAIRWISE_SECRET_FILE
    return checked_pairwise_secret(load_or_create(path, new_pairwise_secret), str(path))
