"""Documents API (filled in by the documents work)."""

from ninja import Router

router = Router(tags=["documents"])
