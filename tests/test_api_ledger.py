"""/api/v1/ledger: public audit endpoints, with good input, bad input and every role."""

from __future__ import annotations

import pytest

from alzette.ledger import merkle, services
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PROBLEM = "application/problem+json"
BASE = "/api/v1/ledger"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def test_tree_head(api_client, ledger_log):
    head = api_client.get(f"{BASE}/tree-head").json()
    assert head["tree_size"] == 10 and len(head["root_hash"]) == 64
    assert api_client.get(f"{BASE}/tree-head", {"tree_size": 3}).json()["tree_size"] == 3


def test_tree_head_of_an_empty_log(api_client):
    assert "empty" in _problem(api_client.get(f"{BASE}/tree-head"), 404)["detail"]


def test_tree_head_at_an_unsigned_size(api_client, ledger_log):
    _problem(api_client.get(f"{BASE}/tree-head", {"tree_size": 5}), 404)
    _problem(api_client.get(f"{BASE}/tree-head", {"tree_size": 0}), 422)


def test_entry(api_client, ledger_log):
    body = api_client.get(f"{BASE}/entries/4").json()
    assert body["entry"]["object"] == "grant:1" and body["entry"]["actor"] == "ab" * 16
    assert body["leaf_hash"] == services.get_entry(4)[1]


@pytest.mark.parametrize(
    ("path", "status"), [("10", 404), ("99999", 404), ("-1", 422), ("abc", 422)]
)
def test_entry_out_of_range(api_client, ledger_log, path, status):
    _problem(api_client.get(f"{BASE}/entries/{path}"), status)


def test_inclusion_proof_verifies(api_client, ledger_log):
    body = api_client.get(f"{BASE}/proofs/inclusion", {"index": 2, "tree_size": 3}).json()
    head = body["tree_head"]
    assert head["tree_size"] == 3
    assert merkle.verify_inclusion(
        bytes.fromhex(body["leaf_hash"]),
        2,
        3,
        [bytes.fromhex(h) for h in body["audit_path"]],
        bytes.fromhex(head["root_hash"]),
    )


def test_consistency_proof_verifies(api_client, ledger_log):
    first = api_client.get(f"{BASE}/tree-head", {"tree_size": 3}).json()
    second = api_client.get(f"{BASE}/tree-head").json()
    body = api_client.get(f"{BASE}/proofs/consistency", {"first": 3}).json()
    assert body["second"] == 10
    assert merkle.verify_consistency(
        3,
        10,
        [bytes.fromhex(h) for h in body["consistency_path"]],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(second["root_hash"]),
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("inclusion", {"index": 10}),
        ("inclusion", {"index": 1, "tree_size": 11}),
        ("inclusion", {"index": 5, "tree_size": 3}),
        ("inclusion", {"index": -1}),
        ("inclusion", {}),
        ("consistency", {"first": 0}),
        ("consistency", {"first": 5, "second": 4}),
        ("consistency", {"first": 1, "second": 11}),
        ("consistency", {"first": "x"}),
    ],
)
def test_proofs_with_inconsistent_sizes_are_422(api_client, ledger_log, path, params):
    _problem(api_client.get(f"{BASE}/proofs/{path}", params), 422)


def test_public_key_verifies_the_tree_head(api_client, ledger_log):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from alzette.ledger.signing import verify_tree_head

    key = api_client.get(f"{BASE}/public-key").json()
    head = api_client.get(f"{BASE}/tree-head").json()
    assert key["key_id"] == head["key_id"]
    assert verify_tree_head(
        load_pem_public_key(key["pem"].encode()),
        head["timestamp"],
        head["tree_size"],
        bytes.fromhex(head["root_hash"]),
        bytes.fromhex(head["signature"]),
    )


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_ledger_cannot_be_written_over_http(api_client, ledger_log, administrator, method):
    api_client.force_login(administrator)
    assert getattr(api_client, method)(f"{BASE}/entries/1").status_code == 405
    assert getattr(api_client, method)(f"{BASE}/tree-head").status_code == 405
    assert services.current_size() == 10


@pytest.mark.parametrize("persona", ["citizen", "agent_villerupt", "partner"])
def test_audit_is_open_to_everyone_alike(api_client, ledger_log, persona, request):
    anonymous = api_client.get(f"{BASE}/tree-head").json()
    api_client.force_login(request.getfixturevalue(persona))
    assert api_client.get(f"{BASE}/tree-head").json() == anonymous
