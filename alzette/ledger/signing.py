"""Signed tree heads: Ed25519 over the RFC 6962 TreeHeadSignature structure.

The signed bytes are, in network order: version (1 byte, 0 = v1), signature
type (1 byte, 1 = tree_hash), timestamp in ms (8 bytes), tree size (8 bytes),
SHA-256 root hash (32 bytes): 50 bytes, as Certificate Transparency signs them.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


class SigningKeyError(ValueError):
    """The configured ledger key is missing or unusable."""


def tree_head_bytes(timestamp: int, tree_size: int, root_hash: bytes) -> bytes:
    """The exact bytes a tree head signature covers."""
    return struct.pack(">BBQQ", 0, 1, timestamp, tree_size) + root_hash


def public_key_der(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, as CT's log id."""
    return hashlib.sha256(public_key_der(public_key)).hexdigest()


@dataclass(frozen=True)
class LedgerKey:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, timestamp: int, tree_size: int, root_hash: bytes) -> bytes:
        return self.private_key.sign(tree_head_bytes(timestamp, tree_size, root_hash))


def verify_tree_head(
    public_key: Ed25519PublicKey, timestamp: int, tree_size: int, root_hash: bytes, signature: bytes
) -> bool:
    """True when ``signature`` is the key's signature of this tree head."""
    try:
        public_key.verify(signature, tree_head_bytes(timestamp, tree_size, root_hash))
    except InvalidSignature:
        return False
    return True


def load_key(pem: str) -> LedgerKey:
    """A key from PEM text (PKCS#8 Ed25519 private key)."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"The ledger signing key is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("The ledger signing key must be an Ed25519 key.")
    return LedgerKey(key)


def load_or_create_key_file(path: Path) -> LedgerKey:
    """Read the key at ``path``, creating it (mode 0600) if absent: demo and development only.

    The key is written whole to a private temporary file, then hard-linked into
    place: the link either creates the file complete or fails because another
    process did first, so concurrent starters agree on one key and never read a
    half-written one.
    """
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".ledger-key-")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file with mode 0600
                handle.write(pem)
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: read its key below
        finally:
            os.unlink(temporary)
    return load_key(path.read_text())
