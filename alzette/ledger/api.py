"""Public ledger API: anyone may audit the log (it holds no personal data)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.ledger import services

router = Router(tags=["ledger"])

HEX = r"^[0-9a-f]*$"


class TreeHeadOut(Schema):
    tree_size: int = Field(..., ge=1, description="Number of entries the head covers.")
    timestamp: int = Field(..., description="Milliseconds since the Unix epoch, UTC.")
    root_hash: str = Field(..., pattern=HEX, description="SHA-256 Merkle root, hex.")
    signature: str = Field(..., pattern=HEX, description="Ed25519 signature, hex (see docs).")
    key_id: str = Field(..., pattern=HEX, description="SHA-256 of the public key (DER SPKI).")


class EntryPublic(Schema):
    time: int
    kind: str
    actor: str = Field(..., description="A pseudonym or 'system:<component>'.")
    object: str = Field(..., description="Opaque reference 'type:id'.")
    commitment: str = Field(..., pattern=HEX, description="SHA-256(salt || payload), hex.")


class EntryOut(Schema):
    index: int
    leaf_hash: str = Field(..., pattern=HEX)
    entry: EntryPublic


class InclusionOut(Schema):
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(..., pattern=HEX)
    audit_path: list[str]
    tree_head: TreeHeadOut | None = Field(None, description="The signed head at tree_size, if any.")


class ConsistencyOut(Schema):
    first: int
    second: int
    consistency_path: list[str]


class PublicKeyOut(Schema):
    algorithm: str = "Ed25519"
    key_id: str
    pem: str


class SizeQuery(Schema):
    tree_size: int | None = Field(None, ge=1, description="Default: the latest tree head.")


class InclusionQuery(Schema):
    index: int = Field(..., ge=0, description="Leaf index (0-based).")
    tree_size: int | None = Field(None, ge=1, description="Default: the current size.")


class ConsistencyQuery(Schema):
    first: int = Field(..., ge=1)
    second: int | None = Field(None, ge=1, description="Default: the current size.")


def _range(exc: services.LedgerRangeError) -> HttpError:
    return HttpError(422, str(exc))


@router.get(
    "/tree-head",
    response={200: TreeHeadOut, **problem_responses(404, 422)},
    summary="The latest signed tree head (or the one at tree_size)",
)
def tree_head(request: HttpRequest, query: Query[SizeQuery]) -> Any:
    head = (
        services.tree_head_at(query.tree_size) if query.tree_size else services.latest_tree_head()
    )
    if head is None:
        raise Http404(
            "No signed tree head at this size." if query.tree_size else "The ledger is empty."
        )
    return asdict(head)


@router.get(
    "/entries/{index}",
    response={200: EntryOut, **problem_responses(404, 422)},
    summary="The public part of an entry",
)
def entry(request: HttpRequest, index: int) -> Any:
    if index < 0:
        raise HttpError(422, "The index must be 0 or more.")
    try:
        public, leaf = services.get_entry(index)
    except services.LedgerRangeError as exc:
        raise Http404(str(exc)) from exc
    return {"index": index, "leaf_hash": leaf, "entry": public}


@router.get(
    "/proofs/inclusion",
    response={200: InclusionOut, **problem_responses(422)},
    summary="Inclusion proof (RFC 9162 audit path) of an entry",
)
def inclusion(request: HttpRequest, query: Query[InclusionQuery]) -> Any:
    try:
        size, path = services.inclusion_proof(query.index, query.tree_size)
        _, leaf = services.get_entry(query.index)
    except services.LedgerRangeError as exc:
        raise _range(exc) from exc
    head = services.tree_head_at(size)
    return {
        "leaf_index": query.index,
        "tree_size": size,
        "leaf_hash": leaf,
        "audit_path": path,
        "tree_head": asdict(head) if head else None,
    }


@router.get(
    "/proofs/consistency",
    response={200: ConsistencyOut, **problem_responses(422)},
    summary="Consistency proof between two tree sizes",
)
def consistency(request: HttpRequest, query: Query[ConsistencyQuery]) -> Any:
    try:
        second, path = services.consistency_proof(query.first, query.second)
    except services.LedgerRangeError as exc:
        raise _range(exc) from exc
    return {"first": query.first, "second": second, "consistency_path": path}


@router.get("/public-key", response={200: PublicKeyOut}, summary="The key that signs tree heads")
def public_key(request: HttpRequest) -> Any:
    key = services.signing_key()
    return {"algorithm": "Ed25519", "key_id": key.key_id, "pem": key.public_pem()}
