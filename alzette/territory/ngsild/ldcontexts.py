"""User @contexts (CIM 009 §5.13): hosted here, resolved without the network.

``POST /jsonldContexts`` hosts a context document and answers its URL on this
broker. As the broker never fetches remote contexts, an operator or client
may also store a copy of a published context under its own URL (Alzette's
``?url=`` extension, kind "Cached"); payloads naming that URL then resolve
offline.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alzette.territory.ngsild import jsonld
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, exists, not_found
from alzette.territory.ngsild.models import JsonLdContext

DB = "territory"
PATH = "/ngsi-ld/v1/jsonldContexts/"
_HOSTED = re.compile(r"/ngsi-ld/v1/jsonldContexts/([A-Za-z0-9-]{1,64})$")
MAX_BYTES = 1_000_000


def lookup(url: str) -> dict[str, Any] | None:
    """The document registered for ``url`` (hosted here or cached), or None."""
    hosted = _HOSTED.search(url)
    rows = JsonLdContext.objects.using(DB)
    row = rows.filter(context_id=hosted.group(1)).first() if hosted else None
    if row is None:
        row = rows.filter(url=url).first()
    if row is None:
        return None
    rows.filter(pk=row.pk).update(uses=F("uses") + 1, last_used_at=timezone.now())
    return row.document


def _url_for(context_id: str, base: str) -> str:
    return (settings.ALZETTE_NGSILD_BASE_URL or base).rstrip("/") + PATH + context_id


def add(document: Any, base: str, url: str | None = None) -> JsonLdContext:
    """Host (or cache under ``url``) a context document, checked by processing it."""
    if not isinstance(document, dict) or "@context" not in document:
        raise bad_data("the payload must be a JSON-LD document with an @context member")
    if len(str(document)) > MAX_BYTES:
        raise NgsiLdError("PayloadTooLarge", "a context is limited to 1 MB")
    if url is not None and (not url.startswith(("http://", "https://")) or len(url) > 1000):
        raise bad_data("url must be an http(s) URL")
    from alzette.territory.ngsild import contexts

    if url is not None and contexts.load_bundled(url) is not None:
        raise exists(f"{url} is shipped with the broker")
    context_id = uuid.uuid4().hex
    with transaction.atomic(using=DB):
        if url is not None and JsonLdContext.objects.using(DB).filter(url=url).exists():
            raise exists(f"a context is already registered for {url}")
        row = JsonLdContext.objects.using(DB).create(
            context_id=context_id,
            url=url or _url_for(context_id, base),
            kind="cached" if url else "hosted",
            document=document,
        )
        # Refuse a context that does not process (bad terms, unknown remote URLs).
        jsonld.resolve(row.url, lookup)
    return row


def get(context_id: str) -> JsonLdContext:
    row = JsonLdContext.objects.using(DB).filter(context_id=context_id).first()
    if row is None:
        raise not_found(f"no @context {context_id}")
    return row


def listing(kind: str | None = None) -> list[JsonLdContext]:
    rows = JsonLdContext.objects.using(DB).order_by("created_at")
    if kind:
        rows = rows.filter(kind=kind.lower())
    return list(rows)


def delete(context_id: str) -> None:
    if not JsonLdContext.objects.using(DB).filter(context_id=context_id).delete()[0]:
        raise not_found(f"no @context {context_id}")


def details(row: JsonLdContext) -> dict[str, Any]:
    """The ContextInfo of §5.2.40."""
    info = {
        "URL": row.url,
        "localId": row.context_id,
        "kind": {"hosted": "Hosted", "cached": "Cached"}.get(row.kind, "ImplicitlyCreated"),
        "createdAt": row.created_at.isoformat().replace("+00:00", "Z"),
        "numberOfHits": row.uses,
    }
    if row.last_used_at:
        info["lastUsage"] = row.last_used_at.isoformat().replace("+00:00", "Z")
    return info
