"""Documents linked to entities, shown as the entities' Relationships.

The document store (``alzette.territory.documents``) keeps links such as
``urn:ngsi-ld:Building:12 --refRenovationFile--> urn:ngsi-ld:Document:<id>``.
An answer about an entity shows each link to a public document as a
Relationship attribute (``datasetId`` = the document's URN, so several
documents may share one name). They are read, not stored: ``q`` does not
filter on them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from alzette.territory.documents.models import DocumentLink
from alzette.territory.ngsild.jsonld import Context


def linked(entity_ids: list[str], ctx: Context) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """entity id -> attribute IRI -> Relationship instances, for public documents."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    public = DocumentLink.objects.using("territory").filter(document__public=True)
    if len(entity_ids) > 1 and not public.exists():
        return out  # most queries: no link at all, a cheaper question than hundreds of ids
    links = public.filter(entity_id__in=entity_ids)
    for link in links.select_related("document").order_by("relationship", "created_at"):
        urn = link.document.urn
        instance = {"type": "Relationship", "object": urn, "datasetId": urn,
                    "objectType": "https://schema.org/DigitalDocument"}  # fmt: skip
        out[link.entity_id][ctx.expand(link.relationship)].append(instance)
    return out
