"""JSON-LD @contexts shipped with the broker: answered from the package, never fetched.

The broker must not reach the network while serving a request, so the
contexts its clients name are copies kept in ``contexts/`` (sources, checks
and licences in ``contexts/NOTICE.txt``):

- the NGSI-LD core context V1.8 (ETSI GS CIM 009 V1.8.1, Annex B);
- the document published at the unversioned core URL
  (``.../ngsi-ld-core-context.jsonld``): ETSI still serves the V1.0 core
  context there, not V1.8, so it is bundled as its own file;
- the ``context.jsonld`` of each Smart Data Models subject the platform uses,
  under the URLs the models' examples name (raw.githubusercontent.com on the
  master branch, with or without ``refs/heads/``, and the GitHub Pages site),
  and the merged Smart Data Models context.

``make_document_loader`` builds the PyLD document loader the JSON-LD
processing uses: a bundled context first, then ``lookup(url)`` (contexts users
registered at /jsonldContexts), otherwise a ``ContextError`` (a PyLD
``JsonLdError`` with code ``loading remote context failed``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pyld import jsonld

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
#: The unversioned core URL; ETSI serves the V1.0 core context there.
UNVERSIONED_CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
DIRECTORY = Path(__file__).resolve().parent / "contexts"

#: The Smart Data Models subjects of the models the platform uses.
SDM_SUBJECTS = (
    "Building",
    "Device",
    "Energy",
    "GreenEnergy",
    "PointOfInterest",
    "Streetlighting",
    "Transportation",
    "UrbanMobility",
    "WasteManagement",
    "WaterConsumption",
)

_SDM_RAW = "https://raw.githubusercontent.com/smart-data-models"
_SDM_PAGES = "https://smart-data-models.github.io"

Lookup = Callable[[str], dict[str, Any] | None]
DocumentLoader = Callable[..., dict[str, Any]]


class ContextError(jsonld.JsonLdError, ValueError):
    """A context URL that is neither bundled nor registered (never fetched)."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"@context {url} is not available: the broker never fetches remote contexts",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading remote context failed",
        )
        self.url = url


def _urls() -> dict[str, Path]:
    urls = {
        CORE_CONTEXT_URL: DIRECTORY / "ngsi-ld-core-context-v1.8.jsonld",
        UNVERSIONED_CORE_CONTEXT_URL: DIRECTORY / "ngsi-ld-core-context.jsonld",
    }
    for subject in SDM_SUBJECTS:
        path = DIRECTORY / "smart-data-models" / f"dataModel.{subject}.jsonld"
        repo = f"dataModel.{subject}"
        urls[f"{_SDM_RAW}/{repo}/master/context.jsonld"] = path
        urls[f"{_SDM_RAW}/{repo}/refs/heads/master/context.jsonld"] = path
        urls[f"{_SDM_PAGES}/{repo}/context.jsonld"] = path
    merged = DIRECTORY / "smart-data-models" / "data-models.context.jsonld"
    urls[f"{_SDM_RAW}/data-models/master/context.jsonld"] = merged
    urls[f"{_SDM_RAW}/data-models/refs/heads/master/context.jsonld"] = merged
    urls[f"{_SDM_PAGES}/data-models/context.jsonld"] = merged
    urls["https://smartdatamodels.org/context.jsonld"] = merged
    return urls


_BUNDLED = _urls()


def bundled_urls() -> dict[str, Path]:
    """Every context URL answered from the package, with the file that answers it."""
    return dict(_BUNDLED)


@cache
def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_bundled(url: str) -> dict[str, Any] | None:
    """The bundled document for ``url`` (parsed once, shared: do not modify), or None."""
    path = _BUNDLED.get(url) if isinstance(url, str) else None
    return _read(path) if path is not None else None


def make_document_loader(lookup: Lookup) -> DocumentLoader:
    """A PyLD ``documentLoader``: bundled contexts, then ``lookup``; never the network."""

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        document = load_bundled(url)
        if document is None:
            document = lookup(url)
        if document is None:
            raise ContextError(url)
        # PyLD rewrites relative URLs inside the contexts it is given: hand it a copy.
        return {
            "contextUrl": None,
            "documentUrl": url,
            "contentType": "application/ld+json",
            "document": copy.deepcopy(document),
        }

    return load
