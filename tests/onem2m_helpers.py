"""A small oneM2M HTTP client over Django's test client (TS-0009 headers)."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import urlencode

from django.test import Client

ADMIN = "CAdmin"
CSE = "alzette"
_counter = itertools.count()


class M2M:
    def __init__(self, client: Client | None = None, origin: str = ADMIN, key: str = ""):
        self.client = client or Client()
        self.origin = origin
        self.key = key

    def _headers(self, origin: str | None, extra: dict[str, str]) -> dict[str, str]:
        headers = {"X-M2M-RI": f"rq{next(_counter)}", "X-M2M-RVI": "3"}
        origin = self.origin if origin is None else origin
        if origin:
            headers["X-M2M-Origin"] = origin
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        headers.update(extra)
        return headers

    @staticmethod
    def _url(to: str, query: dict[str, Any]) -> str:
        url = f"/onem2m/{to}"
        if query:
            url += "?" + urlencode(query, doseq=True)
        return url

    def create(self, to: str, ty: int, body: Any, origin: str | None = None, **query: Any):
        return self.client.post(
            self._url(to, query),
            data=json.dumps(body) if not isinstance(body, str | bytes) else body,
            content_type=f"application/json;ty={ty}",
            headers=self._headers(origin, {}),
        )

    def retrieve(self, to: str, origin: str | None = None, **query: Any):
        return self.client.get(self._url(to, query), headers=self._headers(origin, {}))

    def update(self, to: str, body: Any, origin: str | None = None, **query: Any):
        return self.client.put(
            self._url(to, query),
            data=json.dumps(body),
            content_type="application/json",
            headers=self._headers(origin, {}),
        )

    def delete(self, to: str, origin: str | None = None, **query: Any):
        return self.client.delete(self._url(to, query), headers=self._headers(origin, {}))

    # Shortcuts for the common tree: an AE with a container.
    def register(self, name: str, origin: str = "C", **attrs: Any) -> dict[str, Any]:
        body = {"m2m:ae": {"rn": name, "api": f"N{name}", "rr": False, "srv": ["3"], **attrs}}
        response = self.create(CSE, 2, body, origin=origin)
        assert response.status_code == 201, response.content
        return response.json()["m2m:ae"]

    def container(self, parent: str, name: str, origin: str, **attrs: Any) -> dict[str, Any]:
        body = {"m2m:cnt": {"rn": name, **attrs}}
        response = self.create(parent, 3, body, origin=origin)
        assert response.status_code == 201, response.content
        return response.json()["m2m:cnt"]

    def instance(self, parent: str, con: Any, origin: str, **attrs: Any):
        return self.create(parent, 4, {"m2m:cin": {"con": con, **attrs}}, origin=origin)


def rsc(response) -> int:
    return int(response["X-M2M-RSC"])
