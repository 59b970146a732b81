"""The documents' source for the unified search (``alzette.territory.search``)."""

from __future__ import annotations

from django.urls import reverse

from alzette.territory.documents import services
from alzette.territory.search import SearchHit, SearchSource


class DocumentSearchSource(SearchSource):
    """Public documents, matched in full text (title, description, extracted text)."""

    name = "documents"

    def search(self, query: str, language: str | None, limit: int) -> list[SearchHit]:
        found = services.search(query, actor=None, language=language, limit=limit)
        return [
            SearchHit(
                source=self.name,
                id=hit.document.urn,
                title=hit.document.title,
                snippet=hit.snippet,
                score=hit.score,
                url=reverse("api-v1:document", kwargs={"document_id": hit.document.pk}),
                type="Document",
            )
            for hit in found.hits
        ]
