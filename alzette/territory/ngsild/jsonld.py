"""JSON-LD for NGSI-LD: contexts resolved offline, terms expanded and compacted.

A broker only needs two operations of JSON-LD on the hot path: expand a term
(attribute name, entity type) to an IRI, and compact an IRI back to the
caller's term. PyLD processes the ``@context`` into an active context once
(cached by its value); each term is then expanded or compacted with PyLD's own
IRI algorithms and memoised, so a batch of a thousand entities costs a dict
lookup per attribute rather than a full JSON-LD expansion per entity.

The NGSI-LD core context is always processed last (CIM 009 §5.5.7), so its
terms cannot be redefined by a user context. Contexts are never fetched: URLs
are served from the package (``contexts.py``) or from the contexts users
registered at ``/jsonldContexts`` (``lookup``); any other URL is refused with
``LdContextNotAvailable``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver

from alzette.territory.ngsild.errors import NgsiLdError, bad_data

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
_MAX_CACHED = 256
_processor = jsonld.JsonLdProcessor()

Lookup = Callable[[str], dict[str, Any] | None]


class Context:
    """An active context: expands terms to IRIs and compacts IRIs to terms."""

    def __init__(self, local: Any, active: dict[str, Any]) -> None:
        self.local = local
        self._active = active
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}
        self._lock = threading.Lock()

    def expand(self, term: str) -> str:
        """The IRI of an attribute name or entity type (vocabulary-relative)."""
        iri = self._expanded.get(term)
        if iri is None:
            with self._lock:
                iri = _processor._expand_iri(self._active, term, vocab=True)
            if not isinstance(iri, str) or iri.startswith("@") or ":" not in iri:
                raise bad_data(f"'{term}' cannot be expanded to an IRI with the given @context")
            self._expanded[term] = iri
        return iri

    def compact(self, iri: str) -> str:
        """The caller's term for an IRI (a term, a compact IRI, or the IRI itself)."""
        term = self._compacted.get(iri)
        if term is None:
            with self._lock:
                term = _processor._compact_iri(self._active, iri, vocab=True)
            self._compacted[iri] = term
        return term

    def link(self) -> str | None:
        """The context to send back: a single URL for a Link header, or None."""
        local = self.local
        if isinstance(local, list) and len(local) == 1:
            local = local[0]
        return local if isinstance(local, str) else None

    def body_value(self) -> Any:
        """The ``@context`` member for an application/ld+json answer."""
        return self.local if self.local is not None else CORE


_cache: OrderedDict[str, Context] = OrderedDict()
_cache_lock = threading.Lock()


def _remote_urls(local: Any) -> list[str]:
    from alzette.territory.ngsild import contexts

    items = local if isinstance(local, list) else [local]
    return [i for i in items if isinstance(i, str) and contexts.load_bundled(i) is None]


def resolve(local: Any, lookup: Lookup | None = None) -> Context:
    """The active context for a request's ``@context`` (None: the core context only)."""
    _check_shape(local)
    remote = _remote_urls(local)
    fingerprints = []
    for url in remote:
        document = lookup(url) if lookup else None
        if document is None:
            raise NgsiLdError(
                "LdContextNotAvailable",
                f"@context {url} is not available: this broker never fetches remote contexts; "
                "register it at /ngsi-ld/v1/jsonldContexts first",
            )
        fingerprints.append(json.dumps(document, sort_keys=True))
    key = json.dumps([local, fingerprints], sort_keys=True)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    context = Context(local, _process(local, lookup))
    with _cache_lock:
        _cache[key] = context
        while len(_cache) > _MAX_CACHED:
            _cache.popitem(last=False)
    return context


def _check_shape(local: Any) -> None:
    items = local if isinstance(local, list) else [local]
    for item in items:
        if item is not None and not isinstance(item, str | dict):
            raise bad_data("@context must be a URL, an object, or a list of them")


def _process(local: Any, lookup: Lookup | None) -> dict[str, Any]:
    items = [] if local is None else (local if isinstance(local, list) else [local])
    items = [i for i in items if i != CORE] + [CORE]
    from alzette.territory.ngsild import contexts

    loader = contexts.make_document_loader(lookup or (lambda url: None))
    options = {
        "documentLoader": loader,
        "contextResolver": ContextResolver({}, loader),
        "base": "",
    }
    try:
        initial = _processor._get_initial_context(options)
        return _processor.process_context(initial, items, options)
    except jsonld.JsonLdError as exc:
        raise _context_error(exc) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise bad_data(f"invalid @context: {exc}") from None


def _context_error(exc: jsonld.JsonLdError) -> NgsiLdError:
    code = str(getattr(exc, "code", "") or "")
    text = str(getattr(exc, "message", "") or exc).splitlines()[0]
    if "loading" in code or "load" in code:
        return NgsiLdError("LdContextNotAvailable", f"@context not available: {text}")
    return bad_data(f"invalid @context ({code or 'JSON-LD error'}): {text}")


def core() -> Context:
    """The core context alone (entities sent with no @context)."""
    return resolve(None)
