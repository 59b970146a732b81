"""An NGSI-LD client for tests, over Django's test client (the real URL map and views)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

BASE = "/ngsi-ld/v1"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
#: An inline context for tests that need their own terms.
EXAMPLE = {
    "ex": "https://example.org/ns/",
    "Bin": "ex:Bin",
    "fill": "ex:fill",
    "owner": "ex:owner",
    "name": "ex:name",
    "address": "ex:address",
    "temperature": "ex:temperature",
    "colour": "ex:colour",
}


def link(url: str) -> str:
    return f'<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'


class NgsiLd:
    """Calls the broker; ``context`` (a URL) goes in a Link header when given."""

    def __init__(
        self, context: str | None = None, tenant: str | None = None, key: str | None = None
    ) -> None:
        self.client = Client()
        self.context = context
        self.tenant = tenant
        self.key = key

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {}
        if self.context:
            headers["Link"] = link(self.context)
        if self.tenant:
            headers["NGSILD-Tenant"] = self.tenant
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict | None = None,
        params: dict | None = None,
    ):
        url = BASE + path
        if params:
            from urllib.parse import urlencode

            url += "?" + urlencode(params)
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        call = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"headers": self._headers(headers)}
        if data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = content_type
        return call(url, **kwargs)

    def get(self, path: str, **params: Any):
        headers = params.pop("headers", None)
        return self.request("GET", path, params=params or None, headers=headers)

    def post(self, path: str, body: Any, **kwargs: Any):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any):
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **params: Any):
        return self.request("DELETE", path, params=params or None)

    def create(self, entity: dict[str, Any]) -> None:
        response = self.post("/entities", entity)
        assert response.status_code == 201, response.content

    def entity(self, entity_id: str, **params: Any) -> dict[str, Any]:
        response = self.get(f"/entities/{entity_id}", **params)
        assert response.status_code == 200, response.content
        return response.json()


def problem(response) -> str:
    """The NGSI-LD error type name of a ProblemDetails response."""
    body = response.json()
    return body["type"].rsplit("/", 1)[-1]
