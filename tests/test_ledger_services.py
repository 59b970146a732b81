"""Appending, receipts, tree heads and proofs through the ledger services."""

from __future__ import annotations

import pytest

from alzette.ledger import merkle, services
from alzette.ledger.entries import Entry, EntryError, commit, opens
from alzette.ledger.receipts import verify_receipt
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PSEUDONYM = "0f" * 16


def _entry(n: int = 0, kind: str = "dataset.published") -> Entry:
    return Entry(
        time=1_790_000_000_000 + n,
        kind=kind,
        actor="system:opendata",
        object=f"dataset:{n}",
        commitment=commit({"n": n}).digest,
    )


def test_record_returns_a_receipt_that_verifies_offline():
    receipt, commitment = services.record(
        "consent.given", PSEUDONYM, "consent:7b3c", {"service": "waste", "scope": "lifts"}
    )
    assert receipt.leaf_index == 0 and receipt.tree_head.tree_size == 1
    assert verify_receipt(receipt.as_dict(), services.signing_key().public_key) == []
    assert opens(
        receipt.entry["commitment"], {"service": "waste", "scope": "lifts"}, commitment.salt
    )
    assert not opens(receipt.entry["commitment"], {"service": "water"}, commitment.salt)


def test_receipts_stay_valid_as_the_log_grows():
    first, _ = services.record("consent.given", PSEUDONYM, "consent:1", {"a": 1})
    services.append_many([_entry(n) for n in range(50)])
    assert verify_receipt(first.as_dict(), services.signing_key().public_key) == []
    # A fresh proof against the latest head also holds, and the heads are consistent.
    head = services.latest_tree_head()
    size, path = services.inclusion_proof(0)
    assert size == head.tree_size
    proof = [bytes.fromhex(h) for h in path]
    assert merkle.verify_inclusion(
        bytes.fromhex(first.leaf_hash), 0, head.tree_size, proof, bytes.fromhex(head.root_hash)
    )
    consistency = [bytes.fromhex(h) for h in services.consistency_proof(1)[1]]
    assert merkle.verify_consistency(
        1,
        head.tree_size,
        consistency,
        bytes.fromhex(first.tree_head.root_hash),
        bytes.fromhex(head.root_hash),
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("entry", ("leaf_index", 1)), ("entry", ("leaf_hash", "00" * 32))],
)
def test_a_tampered_receipt_does_not_verify(field, value):
    receipt, _ = services.record("consent.given", PSEUDONYM, "consent:1", {"a": 1})
    services.append_many([_entry(n) for n in range(3)])
    data = receipt.as_dict()
    key, new = value
    data[key] = new
    assert verify_receipt(data, services.signing_key().public_key)


def test_a_receipt_with_another_entry_does_not_verify():
    receipt, _ = services.record("consent.given", PSEUDONYM, "consent:1", {"a": 1})
    data = receipt.as_dict()
    data["entry"] = {**data["entry"], "kind": "consent.withdrawn"}
    assert "the entry does not hash to the leaf hash" in verify_receipt(
        data, services.signing_key().public_key
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "gossip"}, "Unknown entry kind"),
        ({"actor": "jeanne.dupont@example.org"}, "pseudonym"),
        ({"actor": "Jeanne Dupont"}, "pseudonym"),
        ({"object": "file:jeanne@example.org"}, "opaque reference"),
        ({"object": "procedure:12 rue de la Gare"}, "opaque reference"),
        ({"commitment": "not-a-hash"}, "SHA-256"),
        ({"time": -5}, "time"),
    ],
)
def test_entries_that_could_carry_personal_data_are_refused(change, message):
    entry = Entry(**{**_entry().as_dict(), **change})
    with pytest.raises(EntryError, match=message):
        services.append(entry)
    assert services.current_size() == 0


def test_a_bad_entry_in_a_batch_writes_nothing():
    batch = [_entry(0), _entry(1), Entry(**{**_entry(2).as_dict(), "actor": "bob@example.org"})]
    with pytest.raises(EntryError):
        services.append_many(batch)
    assert services.current_size() == 0 and services.latest_tree_head() is None


def test_every_append_transaction_signs_a_tree_head():
    services.append(_entry(0))
    services.append_many([_entry(n) for n in range(1, 10)])
    services.append(_entry(10))
    from alzette.ledger.models import TreeHead

    assert list(
        TreeHead.objects.using("ledger").values_list("tree_size", flat=True).order_by("tree_size")
    ) == [1, 10, 11]


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("inclusion_proof", (5,)),
        ("inclusion_proof", (0, 6)),
        ("inclusion_proof", (0, 0)),
        ("consistency_proof", (0,)),
        ("consistency_proof", (4, 3)),
        ("consistency_proof", (2, 9)),
        ("get_entry", (5,)),
    ],
)
def test_out_of_range_requests_are_refused(call, args):
    services.append_many([_entry(n) for n in range(5)])
    with pytest.raises(services.LedgerRangeError):
        getattr(services, call)(*args)


def test_production_needs_a_configured_key(settings):
    from alzette.ledger.signing import SigningKeyError

    settings.ALZETTE_LEDGER_SIGNING_KEY = ""
    settings.ALZETTE_MODE = "production"
    with pytest.raises(SigningKeyError):
        services.signing_key()


def test_demo_key_is_generated_once_in_the_data_directory(settings, tmp_path):
    settings.ALZETTE_LEDGER_SIGNING_KEY = ""
    settings.DATA_DIR = tmp_path
    first = services.signing_key().key_id
    services._key_from.cache_clear()
    assert services.signing_key().key_id == first
    assert (tmp_path / "ledger-ed25519.pem").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.update(leaf_index="0"),
        lambda r: r["tree_head"].update(tree_size=2**64),
        lambda r: r["tree_head"].update(timestamp=-1),
        lambda r: r.pop("inclusion_proof"),
        lambda r: r.update(entry="not an entry"),
        lambda r: r["tree_head"].update(root_hash="zz"),
    ],
)
def test_malformed_receipts_are_refused_without_crashing(mutate):
    receipt, _ = services.record("consent.given", PSEUDONYM, "consent:1", {"a": 1})
    data = receipt.as_dict()
    mutate(data)
    problems = verify_receipt(data, services.signing_key().public_key)
    assert problems and problems[0].startswith("malformed receipt")


def test_receipts_do_not_share_their_tree_head():
    first, second = services.append_many([_entry(0), _entry(1)])
    data = first.as_dict()
    data["tree_head"]["tree_size"] = 99
    assert second.as_dict()["tree_head"]["tree_size"] == 2


def test_an_unreadable_key_file_is_a_clear_error(settings, tmp_path):
    from alzette.ledger.signing import SigningKeyError

    settings.ALZETTE_LEDGER_SIGNING_KEY = ""
    settings.ALZETTE_LEDGER_SIGNING_KEY_FILE = str(tmp_path / "missing.pem")
    with pytest.raises(SigningKeyError, match="Cannot read"):
        services.signing_key()
