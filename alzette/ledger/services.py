"""Appending to the ledger, signed tree heads and proofs (no HTTP here).

Appends are serialised by locking the single LedgerState row (PostgreSQL) or by
SQLite's IMMEDIATE transactions, so concurrent processes still build one
append-only log. Every append transaction ends with a signed tree head, so a
receipt can be verified the moment it is handed out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from alzette.ledger import merkle
from alzette.ledger.entries import Commitment, Entry, commit
from alzette.ledger.models import (
    LedgerEntry,
    LedgerNode,
    LedgerState,
    TreeHead,
    node_position,
)
from alzette.ledger.signing import LedgerKey, SigningKeyError, load_key, load_or_create_key_file

LEDGER = "ledger"
BATCH = 5000


class LedgerRangeError(ValueError):
    """A proof or entry asked for sizes or indexes the log does not have."""


class LedgerCorruptedError(RuntimeError):
    """Stored hashes needed for a proof are missing: run `alzette ledger verify`."""


@dataclass(frozen=True)
class SignedTreeHead:
    tree_size: int
    timestamp: int
    root_hash: str
    signature: str
    key_id: str

    @classmethod
    def from_row(cls, row: TreeHead) -> SignedTreeHead:
        return cls(
            row.tree_size,
            row.timestamp,
            bytes(row.root_hash).hex(),
            bytes(row.signature).hex(),
            row.key_id,
        )


@dataclass(frozen=True)
class Receipt:
    """Proof that an entry is in the log: verifiable offline with the public key."""

    leaf_index: int
    entry: dict[str, Any]
    leaf_hash: str
    tree_head: SignedTreeHead
    inclusion_proof: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "entry": self.entry,
            "leaf_hash": self.leaf_hash,
            "tree_head": asdict(self.tree_head),
            "inclusion_proof": self.inclusion_proof,
        }


@lru_cache(maxsize=4)
def _key_from(pem: str, key_file: str, data_dir: str, production: bool) -> LedgerKey:
    if pem:
        return load_key(pem)
    if key_file:
        try:
            return load_key(Path(key_file).read_text())
        except OSError as exc:
            raise SigningKeyError(f"Cannot read ALZETTE_LEDGER_SIGNING_KEY_FILE: {exc}") from exc
    if production:
        raise SigningKeyError(
            "Set ALZETTE_LEDGER_SIGNING_KEY or ALZETTE_LEDGER_SIGNING_KEY_FILE in production."
        )
    return load_or_create_key_file(Path(data_dir) / "ledger-ed25519.pem")


def signing_key() -> LedgerKey:
    """The configured Ed25519 key (generated into the data directory outside production)."""
    return _key_from(
        settings.ALZETTE_LEDGER_SIGNING_KEY,
        settings.ALZETTE_LEDGER_SIGNING_KEY_FILE,
        str(settings.DATA_DIR),
        settings.ALZETTE_MODE == "production",
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def record(
    kind: str, actor: str, object_ref: str, payload: dict[str, Any]
) -> tuple[Receipt, Commitment]:
    """Commit to ``payload`` and append the entry; keep the returned salt with the data."""
    commitment = commit(payload)
    entry = Entry(
        time=now_ms(), kind=kind, actor=actor, object=object_ref, commitment=commitment.digest
    )
    return append(entry), commitment


def record_opening(
    model: type[Any],
    kind: str,
    actor: str,
    object_ref: str,
    payload: dict[str, Any],
    /,
    *,
    using: str,
    **fields: Any,
) -> Any:
    """``record`` the entry, then store its opening as a row of ``model`` (a subclass
    of ``alzette.core.models.LedgerOpening``) in the caller's database ``using``,
    inside the caller's transaction; ``fields`` are the model's own (its object)."""
    receipt, commitment = record(kind, actor, object_ref, payload)
    return model.objects.using(using).create(
        kind=kind, payload=payload, leaf_index=receipt.leaf_index, salt=commitment.salt, **fields
    )


def record_openings(
    model: type[Any],
    items: Sequence[tuple[str, str, str, dict[str, Any], dict[str, Any]]],
    /,
    *,
    using: str,
) -> list[Any]:
    """``record_opening`` for many entries at once: one append (one signed tree head)
    and one bulk insert of the openings. ``items`` are ``(kind, actor, object_ref,
    payload, fields)``. For bursts (thousands of alerts in one check), where an append
    per entry would sign and prove each one."""
    if not items:
        return []
    commitments = [commit(payload) for _, _, _, payload, _ in items]
    moment = now_ms()
    entries = [
        Entry(time=moment, kind=kind, actor=actor, object=ref, commitment=c.digest)
        for (kind, actor, ref, _, _), c in zip(items, commitments, strict=True)
    ]
    first = _append(entries)[0]
    rows = [
        model(kind=kind, payload=payload, leaf_index=first + offset, salt=c.salt, **fields)
        for offset, ((kind, _, _, payload, fields), c) in enumerate(
            zip(items, commitments, strict=True)
        )
    ]
    return model.objects.using(using).bulk_create(rows, batch_size=BATCH)


def append(entry: Entry) -> Receipt:
    """Append one entry; return its receipt."""
    return append_many([entry])[0]


def append_many(entries: Sequence[Entry], receipts: bool = True) -> list[Receipt]:
    """Append entries in one transaction under one new signed tree head."""
    if not entries:
        return []
    first, frontier, fresh, head = _append(entries)
    if not receipts:
        return []
    # Proofs read only nodes of this head's tree, which never change: no lock needed.
    getter = _node_getter(fresh)
    return [
        Receipt(
            leaf_index=first + offset,
            entry=entry.as_dict(),
            leaf_hash=fresh[node_position(0, first + offset)].hex(),
            tree_head=head,
            inclusion_proof=[
                h.hex()
                for h in _with_nodes(
                    lambda node, i=first + offset: merkle.inclusion_path(i, frontier.size, node),
                    getter,
                )
            ],
        )
        for offset, entry in enumerate(entries)
    ]


def _append(
    entries: Sequence[Entry],
) -> tuple[int, merkle.Frontier, dict[int, bytes], SignedTreeHead]:
    """Append entries under one new signed tree head: the first's index, the new
    frontier, the nodes written (by position) and the head."""
    for entry in entries:
        entry.validate()
    key = signing_key()
    with transaction.atomic(using=LEDGER):
        state = _locked_state()
        frontier = merkle.Frontier(state.size, _frontier_hashes(state.size))
        first = state.size
        rows, nodes, fresh = [], [], {}
        for offset, entry in enumerate(entries):
            leaf = merkle.leaf_hash(entry.canonical_bytes())
            rows.append(LedgerEntry(index=first + offset, **entry.as_dict()))
            for level, index, digest in frontier.append(leaf):
                position = node_position(level, index)
                fresh[position] = digest
                nodes.append(LedgerNode(position=position, hash=digest))
        LedgerEntry.objects.using(LEDGER).bulk_create(rows, batch_size=BATCH)
        LedgerNode.objects.using(LEDGER).bulk_create(nodes, batch_size=BATCH)
        head = _sign(key, frontier)
        state.size = frontier.size
        state.save(using=LEDGER, update_fields=["size"])
    return first, frontier, fresh, head


def _locked_state() -> LedgerState:
    state = LedgerState.objects.using(LEDGER).select_for_update().filter(pk=1).first()
    if state is None:
        LedgerState.objects.using(LEDGER).get_or_create(pk=1)
        state = LedgerState.objects.using(LEDGER).select_for_update().get(pk=1)
    return state


def _sign(key: LedgerKey, frontier: merkle.Frontier) -> SignedTreeHead:
    previous = TreeHead.objects.using(LEDGER).order_by("-tree_size").first()
    # Timestamps never go backwards, even if the clock does.
    timestamp = max(now_ms(), previous.timestamp if previous else 0)
    root = frontier.root()
    row = TreeHead.objects.using(LEDGER).create(
        tree_size=frontier.size,
        timestamp=timestamp,
        root_hash=root,
        signature=key.sign(timestamp, frontier.size, root),
        key_id=key.key_id,
    )
    return SignedTreeHead.from_row(row)


def _frontier_hashes(size: int) -> list[bytes]:
    positions = [node_position(level, index) for level, index in merkle.Frontier.positions(size)]
    stored = _fetch(positions)
    return [stored[position] for position in positions]


def _fetch(positions: Sequence[int] | set[int]) -> dict[int, bytes]:
    wanted = list(positions)
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), 900):  # stay under SQLite's variable limit
        chunk = wanted[start : start + 900]
        rows = LedgerNode.objects.using(LEDGER).filter(position__in=chunk)
        found.update(
            (position, bytes(digest)) for position, digest in rows.values_list("position", "hash")
        )
    missing = set(wanted) - found.keys()
    if missing:
        raise LedgerCorruptedError(f"{len(missing)} stored subtree hash(es) are missing.")
    return found


def _node_getter(fresh: dict[int, bytes]) -> Callable[[set[int]], dict[int, bytes]]:
    def get(positions: set[int]) -> dict[int, bytes]:
        known = {p: fresh[p] for p in positions if p in fresh}
        return known | _fetch(positions - known.keys())

    return get


def _with_nodes(
    compute: Callable[[merkle.NodeGetter], Any],
    getter: Callable[[set[int]], dict[int, bytes]] = _fetch,
) -> Any:
    """Run a proof computation twice: once to learn which stored nodes it needs, then
    with those nodes fetched in one query. The recursion's shape depends only on sizes."""
    needed: set[int] = set()

    def record(level: int, index: int) -> bytes:
        needed.add(node_position(level, index))
        return bytes(32)

    compute(record)
    hashes = getter(needed)
    return compute(lambda level, index: hashes[node_position(level, index)])


# --- Reading ---------------------------------------------------------------


def current_size() -> int:
    state = LedgerState.objects.using(LEDGER).filter(pk=1).first()
    return state.size if state else 0


def latest_tree_head() -> SignedTreeHead | None:
    row = TreeHead.objects.using(LEDGER).order_by("-tree_size").first()
    return SignedTreeHead.from_row(row) if row else None


def tree_head_at(size: int) -> SignedTreeHead | None:
    row = TreeHead.objects.using(LEDGER).filter(tree_size=size).first()
    return SignedTreeHead.from_row(row) if row else None


def get_entry(index: int) -> tuple[dict[str, Any], str]:
    """An entry's public part and its leaf hash."""
    row = LedgerEntry.objects.using(LEDGER).filter(index=index).first()
    if row is None or index >= current_size():
        raise LedgerRangeError(f"The log has no entry {index} (size {current_size()}).")
    entry = Entry(row.time, row.kind, row.actor, row.object, row.commitment)
    return entry.as_dict(), merkle.leaf_hash(entry.canonical_bytes()).hex()


def inclusion_proof(index: int, tree_size: int | None = None) -> tuple[int, list[str]]:
    """(tree size used, audit path of leaf ``index``); the size defaults to the current one.

    The size is returned because the log may grow while a caller waits: the path is
    only meaningful with the size it was computed for.
    """
    size = _checked_size(tree_size)
    if not 0 <= index < size:
        raise LedgerRangeError(f"Leaf {index} is not in a tree of size {size}.")
    path = _with_nodes(lambda node: merkle.inclusion_path(index, size, node))
    return size, [h.hex() for h in path]


def consistency_proof(first: int, second: int | None = None) -> tuple[int, list[str]]:
    """(second size used, proof that the tree of that size extends the one of ``first``)."""
    second = _checked_size(second)
    if not 1 <= first <= second:
        raise LedgerRangeError(f"The first size must be between 1 and {second}, got {first}.")
    path = _with_nodes(lambda node: merkle.consistency_path(first, second, node))
    return second, [h.hex() for h in path]


def _checked_size(tree_size: int | None) -> int:
    size = current_size()
    if tree_size is None:
        tree_size = size
    if not 1 <= tree_size <= size:
        raise LedgerRangeError(f"The tree size must be between 1 and {size}, got {tree_size}.")
    return tree_size
