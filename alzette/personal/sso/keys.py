"""The OpenID Provider's secrets: its RS256 signing key and its pairwise-subject secret.

Outside production both are generated on first use into ``<data dir>/sso/``
(mode 0600), so that every process serving the platform finds the same ones. In
production they come from the environment (see docs/sso.md).

Creation is race-free across processes, as for the ledger's key: the secret is
written whole into a private temporary file, then published under its final
name with ``os.link``, which fails if the name already exists. Whoever loses the
race reads the winner's secret; nobody reads a half-written file.

Retired signing keys stay published in the JWKS (DOT's ``OIDC_RSA_PRIVATE_KEYS_INACTIVE``)
so that ID tokens signed before a rotation still verify. In production they come from
``ALZETTE_SSO_SIGNING_KEYS_INACTIVE`` or ``_FILE`` (one or more PEM blocks); outside
production from ``<data dir>/sso/retired/``, one file per key named after the moment it
was retired, which :func:`rotate_signing_key` writes and prunes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
#: Retired keys, under ``<data dir>/sso/``: ``oidc-rs256.<retired at, UTC>.pem``.
RETIRED_KEYS_DIR = "retired"
RETIRED_STAMP = "%Y%m%dT%H%M%S.%fZ"
_RETIRED_NAME = re.compile(r"^oidc-rs256\.(\d{8}T\d{6}\.\d{6}Z)\.pem$")
#: How long a retired key stays published by default (days).
DEFAULT_KEEP_DAYS = 30
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.+?-----END [A-Z0-9 ]+-----", re.DOTALL)


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


def _write_private(path: Path, text: str) -> str:
    """A temporary file (mode 0600) beside ``path`` holding ``text``, flushed to disk."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def _sync_directory(directory: Path) -> None:
    """Make a rename or link in ``directory`` survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_or_create(path: Path, generate: Callable[[], str]) -> str:
    """The text stored at ``path``, generated first (mode 0600) if there is none."""
    if not path.exists():
        temporary = _write_private(path, generate())
        try:
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


# --- Retired (inactive) signing keys ---------------------------------------------------------


@dataclass(frozen=True)
class InactiveKey:
    """A retired signing key as configured: ``source`` names it in errors."""

    source: str
    pem: str
    retired_at: datetime | None = None  # known for the data directory's keys only


def key_problem(pem: str, source: str) -> str:
    """Why ``pem`` cannot be a signing key (empty when it can)."""
    try:
        checked_signing_key(pem, source)
    except ImproperlyConfigured as exc:
        return str(exc)
    return ""


def key_id(pem: str) -> str:
    """The ``kid`` DOT gives the key, in ID token headers and in the JWKS: its JWK
    thumbprint (RFC 7638)."""
    from jwcrypto import jwk  # DOT's JOSE library; imported late, settings import this module

    return jwk.JWK.from_pem(pem.encode()).thumbprint()


def same_key(pem: str, other: str) -> bool:
    """Whether two PEM private keys (PKCS#1 or PKCS#8) are the same key."""
    public = [
        serialization.load_pem_private_key(text.encode(), password=None).public_key()
        for text in (pem, other)
    ]
    return public[0].public_numbers() == public[1].public_numbers()


def split_pem(text: str, source: str) -> list[InactiveKey]:
    """The PEM blocks of ``text``, one key each; anything else left over is kept as a
    key of its own, so that the checks report it rather than it being skipped."""
    blocks = [block + "\n" for block in _PEM_BLOCK.findall(text)]
    leftover = _PEM_BLOCK.sub("", text).strip()
    if leftover:
        blocks.append(leftover)
    return [
        InactiveKey(f"{source}, key {number}", block)
        for number, block in enumerate(blocks, start=1)
    ]


def retired_keys(data_dir: Path | str) -> list[InactiveKey]:
    """The data directory's retired keys, the most recently retired first."""
    directory = Path(data_dir) / "sso" / RETIRED_KEYS_DIR
    found = []
    for path in directory.glob("oidc-rs256.*.pem"):
        match = _RETIRED_NAME.match(path.name)
        if not match:
            continue
        retired_at = datetime.strptime(match[1], RETIRED_STAMP).replace(tzinfo=UTC)
        # A file pruned by a concurrent rotation is simply not published any more.
        with contextlib.suppress(FileNotFoundError):
            found.append(InactiveKey(str(path), path.read_text(encoding="utf-8"), retired_at))
    return sorted(found, key=lambda key: key.retired_at, reverse=True)


def inactive_signing_keys(
    pems: str, keys_file: str, data_dir: Path | str, production: bool
) -> list[InactiveKey]:
    """The retired keys: ``ALZETTE_SSO_SIGNING_KEYS_INACTIVE`` (PEM blocks), else the file
    named by ``ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE``; outside production, else the data
    directory's. Unchecked: :func:`usable_pems` keeps the good ones, the checks report
    the others."""
    if pems:
        return split_pem(pems, "ALZETTE_SSO_SIGNING_KEYS_INACTIVE")
    if keys_file:
        return split_pem(
            _read(keys_file, "ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE"),
            f"ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE ({keys_file})",
        )
    if production:
        return []
    return retired_keys(data_dir)


def usable_pems(inactive: list[InactiveKey]) -> list[str]:
    """The PEM of each retired key that parses. A bad one is left out of the JWKS (which
    would fail whole otherwise) and reported by the system check sso.E003."""
    return [key.pem for key in inactive if not key_problem(key.pem, key.source)]


@dataclass(frozen=True)
class Rotation:
    new_kid: str
    retired_kid: str  # empty when there was no key to retire
    pruned: list[Path]


@contextlib.contextmanager
def _rotation_lock(directory: Path) -> Iterator[None]:
    """One rotation at a time: two at once could each retire the same key and leave one
    of the new ones unpublished."""
    with open(directory / ".rotate.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def rotate_signing_key(
    data_dir: Path | str, keep_days: int = DEFAULT_KEEP_DAYS, now: datetime | None = None
) -> Rotation:
    """Replace the data directory's signing key by a new one, keep the old one as retired
    (published) for ``keep_days``, and delete the retired keys older than that.

    Order matters for processes reading the files meanwhile: the old key is published
    as retired before the new one replaces it (``os.replace``: readers see one key or
    the other, never a partial file), so at no moment is a key that signed missing."""
    now = now or datetime.now(UTC)
    directory = Path(data_dir) / "sso"
    retired_dir = directory / RETIRED_KEYS_DIR
    retired_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    active = directory / SIGNING_KEY_FILE
    with _rotation_lock(directory):
        previous = active.read_text(encoding="utf-8") if active.exists() else ""
        retired_kid = ""
        if previous and not key_problem(previous, str(active)):
            retired_kid = key_id(previous)
            _publish_retired(retired_dir, previous, now)
        new = new_signing_key_pem()
        temporary = _write_private(active, new)
        os.replace(temporary, active)
        _sync_directory(directory)
        pruned = prune_retired_keys(data_dir, keep_days, now)
    return Rotation(key_id(new), retired_kid, pruned)


def _publish_retired(retired_dir: Path, pem: str, now: datetime) -> Path:
    temporary = _write_private(retired_dir / "oidc-rs256.pem", pem)
    try:
        moment = now
        while True:  # two rotations within a microsecond: the later one moves on by one
            path = retired_dir / f"oidc-rs256.{moment.strftime(RETIRED_STAMP)}.pem"
            try:
                os.link(temporary, path)
                break
            except FileExistsError:
                moment += timedelta(microseconds=1)
    finally:
        os.unlink(temporary)
    _sync_directory(retired_dir)
    return path


def prune_retired_keys(
    data_dir: Path | str, keep_days: int = DEFAULT_KEEP_DAYS, now: datetime | None = None
) -> list[Path]:
    """Delete the data directory's keys retired more than ``keep_days`` ago."""
    limit = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    pruned = []
    for key in retired_keys(data_dir):
        if key.retired_at is not None and key.retired_at < limit:
            with contextlib.suppress(FileNotFoundError):
                Path(key.source).unlink()
                pruned.append(Path(key.source))
    return pruned
