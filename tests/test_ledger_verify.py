"""`alzette ledger verify` finds every kind of tampering with the stored rows."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from alzette.ledger import services
from alzette.ledger.entries import Entry, commit
from alzette.ledger.verify import verify
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _entry(n: int) -> Entry:
    return Entry(
        time=1_790_000_000_000 + n,
        kind="device.command_sent",
        actor="system:lighting",
        object=f"streetlight:{n}",
        commitment=commit({"dim": n}).digest,
    )


@pytest.fixture
def log():
    """37 entries over several append transactions (several signed tree heads)."""
    for n in range(5):
        services.append(_entry(n))
    services.append_many([_entry(n) for n in range(5, 30)])
    for n in range(30, 37):
        services.append(_entry(n))


def _sql(statement: str, params: tuple = ()) -> None:
    with connections["ledger"].cursor() as cursor:
        cursor.execute(statement, params)


def _findings() -> list[tuple[str, int | None]]:
    report = verify(services.signing_key().public_key)
    return [(finding.kind, finding.index) for finding in report.findings or []]


def test_an_untouched_log_verifies(log):
    report = verify(services.signing_key().public_key)
    assert report.ok and report.entries == 37 and report.tree_heads == 13


def test_altered_entry(log):
    _sql('UPDATE ledger_ledgerentry SET object = %s WHERE "index" = 12', ("streetlight:999",))
    assert _findings() == [("altered", 12)]


def test_removed_entry(log):
    _sql('DELETE FROM ledger_ledgerentry WHERE "index" = 3')
    assert _findings() == [("removed", 3)]


def test_inserted_entry(log):
    _sql(
        'INSERT INTO ledger_ledgerentry ("index", time, kind, actor, object, commitment) '
        "VALUES (37, 1, 'consent.given', 'system:x', 'consent:1', %s)",
        ("ab" * 32,),
    )
    assert _findings() == [("inserted", 37)]


def test_reordered_entries(log):
    _sql('UPDATE ledger_ledgerentry SET "index" = -1 WHERE "index" = 20')
    _sql('UPDATE ledger_ledgerentry SET "index" = 20 WHERE "index" = 21')
    _sql('UPDATE ledger_ledgerentry SET "index" = 21 WHERE "index" = -1')
    assert _findings() == [("reordered", 20), ("reordered", 21)]


def test_entry_and_its_leaf_hash_altered_together(log):
    """A forger who also rewrites the stored hashes is still caught by the signatures."""
    _sql("UPDATE ledger_ledgerentry SET actor = 'system:forged' WHERE \"index\" = 8")
    forged = Entry(
        1_790_000_000_008,
        "device.command_sent",
        "system:forged",
        "streetlight:8",
        commit({"dim": 8}).digest,
    )
    from alzette.ledger import merkle

    _sql(
        "UPDATE ledger_ledgernode SET hash = %s WHERE position = 8",
        (merkle.leaf_hash(forged.canonical_bytes()),),
    )
    findings = _findings()
    assert ("node", None) in findings
    assert ("altered", 5) in findings  # entries 5-29 were signed together at size 30


def test_altered_inner_node(log):
    _sql("UPDATE ledger_ledgernode SET hash = %s WHERE position = %s", (bytes(32), (2 << 48) | 3))
    assert _findings() == [("node", None)]


def test_forged_tree_head_signature(log):
    _sql("UPDATE ledger_treehead SET signature = %s WHERE tree_size = 30", (bytes(64),))
    assert ("tree_head", None) in _findings()


def test_state_out_of_step(log):
    _sql("UPDATE ledger_ledgerstate SET size = 5")
    assert _findings() == [("state", None)]


def test_the_command_exits_non_zero_and_names_the_entry(log, capsys):
    call_command("ledger", "verify")
    assert "37 entries" in capsys.readouterr().out
    _sql('DELETE FROM ledger_ledgerentry WHERE "index" = 30')
    with pytest.raises(CommandError, match="1 finding"):
        call_command("ledger", "verify")
    assert "[removed] entry 30" in capsys.readouterr().err


def test_verify_with_another_public_key_fails(log, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(CommandError):
        call_command("ledger", "verify", "--public-key", str(other))


def test_verify_receipt_command(tmp_path, capsys):
    import json

    receipt, _ = services.record("personal_data.exported", "12" * 16, "export:42", {"rows": 3})
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt.as_dict()))
    call_command("ledger", "verify-receipt", str(path))
    assert "Receipt verified: entry 0" in capsys.readouterr().out
    forged = receipt.as_dict()
    forged["entry"]["object"] = "export:43"
    path.write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="does not hash to the leaf"):
        call_command("ledger", "verify-receipt", str(path))
    path.write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read the receipt"):
        call_command("ledger", "verify-receipt", str(path))


def test_entries_added_after_forging_the_leaf_hashes_are_reported(log):
    _sql("UPDATE ledger_ledgernode SET hash = %s WHERE position = 2", (bytes(32),))
    _sql(
        'INSERT INTO ledger_ledgerentry ("index", time, kind, actor, object, commitment) '
        "VALUES (37, 1, 'consent.given', 'system:x', 'consent:1', %s)",
        ("ab" * 32,),
    )
    findings = _findings()
    assert ("node", None) in findings and ("inserted", 37) in findings
