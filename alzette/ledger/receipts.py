"""Offline verification of a receipt: what a citizen's own software can do alone."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from alzette.ledger import merkle
from alzette.ledger.entries import Entry
from alzette.ledger.signing import key_id, verify_tree_head


def verify_receipt(receipt: dict[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """Return the reasons ``receipt`` does not verify; an empty list means it does.

    Checks that the entry hashes to the leaf, the tree head is signed by the key,
    and the inclusion proof links the leaf to the signed root.
    """
    try:
        entry = Entry(**receipt["entry"])
        head = receipt["tree_head"]
        leaf = bytes.fromhex(receipt["leaf_hash"])
        root = bytes.fromhex(head["root_hash"])
        path = [bytes.fromhex(item) for item in receipt["inclusion_proof"]]
        signature = bytes.fromhex(head["signature"])
        index, size, timestamp = receipt["leaf_index"], head["tree_size"], head["timestamp"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"malformed receipt: {exc}"]
    if not all(isinstance(n, int) and 0 <= n < 2**63 for n in (index, size, timestamp)):
        return ["malformed receipt: leaf_index, tree_size and timestamp must be integers"]
    problems = []
    if merkle.leaf_hash(entry.canonical_bytes()) != leaf:
        problems.append("the entry does not hash to the leaf hash")
    if head.get("key_id") != key_id(public_key) or not verify_tree_head(
        public_key, timestamp, size, root, signature
    ):
        problems.append("the tree head is not signed by this key")
    if not merkle.verify_inclusion(leaf, index, size, path, root):
        problems.append("the inclusion proof does not lead to the signed root")
    return problems
