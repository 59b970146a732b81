"""RFC 9162 hashing and proofs, against published vectors and an independent implementation."""

from __future__ import annotations

import random

import pytest
from pymerkle import InmemoryTree

from alzette.ledger import merkle

# The leaves and roots of the RFC 6962 reference test vectors (Certificate
# Transparency's merkle tree tests), also given in docs/ledger.md.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


class Tree:
    """Leaves with every perfect subtree stored, as the database stores them."""

    def __init__(self, data: list[bytes]) -> None:
        self.leaves = [merkle.leaf_hash(item) for item in data]
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.roots: dict[int, bytes] = {}
        frontier = merkle.Frontier()
        for leaf in self.leaves:
            for level, index, digest in frontier.append(leaf):
                self.nodes[level, index] = digest
            self.roots[frontier.size] = frontier.root()

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[level, index]


@pytest.fixture(scope="module")
def big():
    rng = random.Random(9162)
    data = [rng.randbytes(rng.randint(0, 40)) for _ in range(257)]
    oracle = InmemoryTree(algorithm="sha256")
    for item in data:
        oracle.append_entry(item)
    return Tree(data), oracle


def test_reference_roots():
    tree = Tree(LEAVES)
    assert [tree.roots[size].hex() for size in range(1, 9)] == ROOTS


def test_empty_tree_root():
    assert merkle.Frontier().root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_roots_match_pymerkle(big):
    tree, oracle = big
    for size in range(1, 258):
        assert tree.roots[size] == oracle.get_root(size)


def test_inclusion_paths_match_pymerkle(big):
    tree, oracle = big
    for size in (1, 2, 3, 7, 8, 9, 64, 100, 255, 256, 257):
        for index in {0, size // 3, size // 2, size - 1}:
            ours = [h.hex() for h in merkle.inclusion_path(index, size, tree.node)]
            theirs = oracle.prove_inclusion(index + 1, size).serialize()["path"][1:]
            assert ours == [h for h in theirs], (index, size)


def test_every_inclusion_proof_verifies_and_tampering_fails(big):
    tree, _ = big
    for size in range(1, 80):
        for index in range(size):
            path = merkle.inclusion_path(index, size, tree.node)
            leaf, root = tree.leaves[index], tree.roots[size]
            assert merkle.verify_inclusion(leaf, index, size, path, root)
            if size + 1 in tree.roots:
                # The same path against the next tree's (signed) root must fail.
                assert not merkle.verify_inclusion(
                    leaf, index, size + 1, path, tree.roots[size + 1]
                )
            if path:
                forged = [bytes(32), *path[1:]]
                assert not merkle.verify_inclusion(leaf, index, size, forged, root)
            if index + 1 < size:
                assert not merkle.verify_inclusion(leaf, index + 1, size, path, root)


def test_every_consistency_proof_verifies_and_tampering_fails(big):
    tree, _ = big
    for second in range(1, 70):
        for first in range(1, second + 1):
            proof = merkle.consistency_path(first, second, tree.node)
            roots = tree.roots[first], tree.roots[second]
            assert merkle.verify_consistency(first, second, proof, *roots)
            if proof:
                assert not merkle.verify_consistency(first, second, proof[:-1], *roots)
                assert not merkle.verify_consistency(first, second, proof, bytes(32), roots[1])
    for first, second in [(1, 257), (100, 257), (128, 256), (200, 201)]:
        proof = merkle.consistency_path(first, second, tree.node)
        assert merkle.verify_consistency(
            first, second, proof, tree.roots[first], tree.roots[second]
        )
        assert not merkle.verify_consistency(first, second, proof, tree.roots[first], bytes(32))


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_inclusion_out_of_range(index, size):
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_path(index, size, lambda level, i: bytes(32))


@pytest.mark.parametrize(("first", "second"), [(0, 3), (4, 3), (-1, 2)])
def test_consistency_out_of_range(first, second):
    with pytest.raises(merkle.ProofError):
        merkle.consistency_path(first, second, lambda level, i: bytes(32))


def test_proofs_touch_few_stored_nodes():
    """O(log n): a proof in a tree of a million leaves reads a few dozen stored nodes."""
    touched: set[tuple[int, int]] = set()

    def node(level: int, index: int) -> bytes:
        touched.add((level, index))
        return bytes(32)

    merkle.inclusion_path(654_321, 1_000_000, node)
    assert len(touched) <= 2 * 20
    touched.clear()
    merkle.consistency_path(333_333, 1_000_000, node)
    assert len(touched) <= 2 * 20
