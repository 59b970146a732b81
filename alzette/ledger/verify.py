"""Full verification of the stored log against its signed tree heads.

Signed tree heads are the only trusted input: they cannot be forged without the
key. The stored leaf hashes are checked against them first; when they agree they
serve as the reference that tells *how* entry rows were changed (altered,
removed, inserted, reordered). Stored inner nodes, which proofs are served from,
are then recomputed level by level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from alzette.ledger import merkle
from alzette.ledger.entries import Entry
from alzette.ledger.models import INDEX_BITS, LedgerEntry, LedgerNode, LedgerState, TreeHead
from alzette.ledger.signing import key_id, verify_tree_head

LEDGER = "ledger"
CHUNK = 10_000


@dataclass(frozen=True)
class Finding:
    """One thing verification found wrong."""

    kind: str  # altered | removed | inserted | reordered | tree_head | node | state
    index: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.index}: " if self.index is not None else ""
        return f"[{self.kind}] {where}{self.message}"


@dataclass
class Report:
    entries: int = 0
    tree_heads: int = 0
    findings: list[Finding] | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


Progress = Callable[[str], None]


def verify(public_key: Ed25519PublicKey, progress: Progress = lambda message: None) -> Report:
    """Recompute the whole log; report every discrepancy precisely."""
    findings: list[Finding] = []
    heads = list(TreeHead.objects.using(LEDGER).order_by("tree_size"))
    findings += _check_signatures(heads, public_key)
    progress(f"{len(heads)} signed tree heads checked")

    stored_leaves = _stored_leaves()
    indexes, entry_leaves = _entry_leaves()
    progress(f"{len(entry_leaves)} entries read")
    signed_size = heads[-1].tree_size if heads else 0

    reference = None
    if _matches_heads(stored_leaves, heads) is None:
        reference = stored_leaves[:signed_size]
    if reference is not None:
        findings += _compare_entries(indexes, entry_leaves, reference)
        findings += _check_inner_nodes(reference)
    else:
        findings.append(
            Finding(
                "node",
                None,
                "the stored leaf hashes disagree with the signed "
                "tree heads; judging entries by the heads alone",
            )
        )
        findings += _compare_by_heads(indexes, entry_leaves, heads)
    findings += _check_state(signed_size)
    progress(
        "stored subtree hashes and state checked"
        if reference is not None
        else "state checked (subtree hashes skipped: no trusted leaf hashes)"
    )
    return Report(entries=len(entry_leaves), tree_heads=len(heads), findings=findings)


def _check_signatures(heads: list[TreeHead], public_key: Ed25519PublicKey) -> list[Finding]:
    findings, expected_id, previous = [], key_id(public_key), None
    for head in heads:
        root = bytes(head.root_hash)
        if head.key_id != expected_id or not verify_tree_head(
            public_key, head.timestamp, head.tree_size, root, bytes(head.signature)
        ):
            findings.append(
                Finding(
                    "tree_head", None, f"tree head at size {head.tree_size} has a bad signature"
                )
            )
        if previous is not None and head.timestamp < previous.timestamp:
            findings.append(
                Finding("tree_head", None, f"tree head at size {head.tree_size} goes back in time")
            )
        previous = head
    return findings


def _stored_leaves() -> list[bytes]:
    rows = (
        LedgerNode.objects.using(LEDGER)
        .filter(position__lt=1 << INDEX_BITS)
        .order_by("position")
        .values_list("position", "hash")
    )
    leaves: list[bytes] = []
    for position, digest in rows.iterator(chunk_size=CHUNK):
        if position != len(leaves):
            break  # a gap: the reference stops at the first missing leaf hash
        leaves.append(bytes(digest))
    return leaves


def _entry_leaves() -> tuple[list[int], list[bytes]]:
    rows = (
        LedgerEntry.objects.using(LEDGER)
        .order_by("index")
        .values_list("index", "time", "kind", "actor", "object", "commitment")
    )
    indexes, leaves = [], []
    for index, *fields in rows.iterator(chunk_size=CHUNK):
        indexes.append(index)
        leaves.append(merkle.leaf_hash(Entry(*fields).canonical_bytes()))
    return indexes, leaves


def _roots_at(leaves: list[bytes], sizes: set[int]) -> Iterator[tuple[int, bytes]]:
    frontier = merkle.Frontier()
    for leaf in leaves:
        frontier.append(leaf)
        if frontier.size in sizes:
            yield frontier.size, frontier.root()


def _matches_heads(leaves: list[bytes], heads: list[TreeHead]) -> int | None:
    """The first head size the leaves do not reproduce, or None when all agree."""
    expected = {head.tree_size: bytes(head.root_hash) for head in heads}
    seen = dict(_roots_at(leaves, set(expected)))
    for size in sorted(expected):
        if seen.get(size) != expected[size]:
            return size
    return None


def _compare_entries(
    indexes: list[int], leaves: list[bytes], reference: list[bytes]
) -> list[Finding]:
    findings: list[Finding] = []
    where: dict[bytes, int] = {}
    for index, digest in enumerate(reference):
        where.setdefault(digest, index)
    present = set(indexes)
    for index in range(len(reference)):
        if index not in present:
            findings.append(Finding("removed", index, "the entry row is missing"))
    for index, digest in zip(indexes, leaves, strict=True):
        if index >= len(reference):
            findings.append(
                Finding("inserted", index, "the entry is not covered by any signed tree head")
            )
        elif digest != reference[index]:
            source = where.get(digest)
            if source is None:
                findings.append(
                    Finding("altered", index, "the content does not match its leaf hash")
                )
            else:
                findings.append(
                    Finding("reordered", index, f"holds the content signed as entry {source}")
                )
    return findings


def _compare_by_heads(
    indexes: list[int], leaves: list[bytes], heads: list[TreeHead]
) -> list[Finding]:
    expected = list(range(len(leaves)))
    if indexes != expected:
        return [Finding("removed", None, "entry indexes are not contiguous")]
    signed_size = heads[-1].tree_size if heads else 0
    findings = [
        Finding("inserted", index, "the entry is not covered by any signed tree head")
        for index in range(signed_size, len(leaves))
    ]
    bad = _matches_heads(leaves, heads)
    if bad is None:
        return findings
    previous = max((h.tree_size for h in heads if h.tree_size < bad), default=0)
    message = f"entries {previous} to {bad - 1} do not reproduce the tree head signed at size {bad}"
    return [*findings, Finding("altered", previous, message)]


def _check_inner_nodes(leaves: list[bytes]) -> list[Finding]:
    findings: list[Finding] = []
    level, current = 0, leaves
    while len(current) > 1:
        parents = [
            merkle.node_hash(current[i], current[i + 1]) for i in range(0, len(current) - 1, 2)
        ]
        level += 1
        base = level << INDEX_BITS
        rows = (
            LedgerNode.objects.using(LEDGER)
            .filter(position__gte=base, position__lt=base + len(parents))
            .order_by("position")
            .values_list("position", "hash")
        )
        stored = {
            position - base: bytes(digest) for position, digest in rows.iterator(chunk_size=CHUNK)
        }
        for index, digest in enumerate(parents):
            if stored.get(index) != digest:
                findings.append(
                    Finding(
                        "node",
                        None,
                        f"stored subtree hash (level {level}, index {index}) is wrong or missing",
                    )
                )
        current = parents
    return findings


def _check_state(signed_size: int) -> list[Finding]:
    state = LedgerState.objects.using(LEDGER).filter(pk=1).first()
    size = state.size if state else 0
    if size != signed_size:
        return [
            Finding(
                "state",
                None,
                f"the recorded size {size} differs from the last signed tree head ({signed_size})",
            )
        ]
    return []
