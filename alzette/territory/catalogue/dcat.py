"""The open-data catalogue as DCAT-AP 3.0.1 RDF (docs/opendata-dcat.md).

Builds rdflib graphs of the catalogue (paged with Hydra), of one dataset and of one
publisher, from the datasets anyone may see (``services.visible``). No HTTP here:
``dcat_views`` negotiates the format and turns errors into responses.

Every node the catalogue describes has a stable URI under ``ALZETTE_PUBLIC_URL``:
harvesters match records across harvests by URI and ``dct:identifier``, so neither
may depend on the request, the page or the order of the datasets.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import translation
from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, GEO, SKOS
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.term import Node

from alzette.territory.catalogue import digests, services, sources, vocab
from alzette.territory.catalogue.models import Dataset, Organisation

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

#: format parameter -> (media type, rdflib serialiser).
FORMATS: dict[str, tuple[str, str]] = {
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
}

#: Distribution format -> (EU file-type authority code, title).
FILE_TYPES = {"csv": ("CSV", "CSV"), "json": ("JSON", "JSON"), "geojson": ("GEOJSON", "GeoJSON")}
#: Interface language -> EU language authority code.
LANGUAGES = {"fr": "FRA", "de": "DEU", "lb": "LTZ", "en": "ENG", "pt": "POR"}
#: Organisation kind -> ADMS publisher type.
PUBLISHER_TYPES = {
    Organisation.Kind.PUBLIC: ("LocalAuthority", "Local authority"),
    Organisation.Kind.COMPANY: ("Company", "Company"),
    Organisation.Kind.STARTUP: ("Company", "Company"),
    Organisation.Kind.ASSOCIATION: ("NonProfitOrganisation", "Non-profit organisation"),
}
#: Licence -> ADMS licence types (what a reuser must do).
LICENCE_TYPES = {
    "etalab-2.0": ("Attribution",),
    "odbl-1.0": ("Attribution", "ShareAlike"),
    "cc-by-4.0": ("Attribution",),
    "cc-by-sa-4.0": ("Attribution", "ShareAlike"),
    "cc0-1.0": ("PublicDomain",),
}
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype"
ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype"
IANA = "https://www.iana.org/assignments/media-types"
INSEE_COMMUNE = "http://id.insee.fr/geo/commune"
# Downloads are generated from the live source at a stable address for the medium term.
AVAILABILITY = f"{vocab.EU}/planned-availability/AVAILABLE"


@dataclass(frozen=True)
class Service:
    """One of the platform's APIs, described as a ``dcat:DataService``."""

    key: str  # the fragment of its URI: /catalog#service-<key>
    title: str
    description: str
    endpoint: str  # a path under ALZETTE_PUBLIC_URL
    definition: str  # the OpenAPI document (or, for CKAN, its documentation)
    standard: str  # the specification it implements (dct:conformsTo)


#: The APIs that serve the datasets; their descriptions are in English like the
#: distributions'. CKAN publishes no OpenAPI document: its API reference stands in.
SERVICES = {
    service.key: service
    for service in (
        Service("platform-api", "Alzette platform API",
                "The platform's REST API; it serves the downloads of every open dataset.",
                "/api/v1/", "/api/v1/openapi.json", "https://spec.openapis.org/oas/v3.1.0"),
        Service("ogc-api-features", "Alzette OGC API Features",
                "The spatial datasets as OGC API Features collections (GeoJSON).",
                "/ogc", "/ogc/api", "http://www.opengis.net/doc/IS/ogcapi-features-1/1.0"),
        Service("ckan-api", "Alzette CKAN-compatible API",
                "The catalogue's metadata through CKAN 2.10's Action API, for harvesters.",
                "/api/3/action/", "https://docs.ckan.org/en/2.10/api/",
                "https://docs.ckan.org/en/2.10/api/"),
        Service("ngsi-ld", "Alzette NGSI-LD context broker",
                "The context data behind the datasets of NGSI-LD entities and their history.",
                "/ngsi-ld/v1/", "https://forge.etsi.org/rep/cim/NGSI-LD",
                "https://www.etsi.org/deliver/etsi_gs/CIM/001_099/009/"),
    )
}  # fmt: skip
SHA256 = SPDX.checksumAlgorithm_sha256
OGC_FEATURES = "ogc-features"
NGSI_LD = "ngsi-ld"


@dataclass(frozen=True)
class ApiDistribution:
    """A distribution that is an API's view of the dataset rather than a file."""

    key: str  # the last segment of its URI, beside csv, json, geojson
    service: str  # a key of SERVICES
    title: str
    description: str
    url: str  # a path under ALZETTE_PUBLIC_URL
    media_type: str
    file_type: str  # an EU file-type authority code


# What describes the catalogue itself; settings of the same name override them.
CATALOGUE_DEFAULTS: dict[str, Any] = {
    "ALZETTE_CATALOGUE_TITLE": {
        "fr": "Catalogue des données ouvertes d'Alzette",
        "en": "Alzette open data catalogue",
    },
    "ALZETTE_CATALOGUE_DESCRIPTION": {
        "fr": "Les jeux de données ouverts publiés sur la plateforme territoriale Alzette.",
        "en": "The open datasets published on the Alzette smart-territory platform.",
    },
    "ALZETTE_CATALOGUE_PUBLISHER": "Alzette",
    "ALZETTE_CATALOGUE_LICENCE": "etalab-2.0",
}


class PagingError(ValueError):
    """A page or page size that cannot be served; the message is safe to show."""


class PageNotFound(LookupError):
    """A page number past the last page."""


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        # An empty catalogue still has its first (empty) page.
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


# --- URIs ----------------------------------------------------------------------------------


def catalogue_uri() -> str:
    return f"{settings.ALZETTE_PUBLIC_URL}/catalog"


def dataset_uri(identifier: str) -> str:
    return f"{catalogue_uri()}/datasets/{identifier}"


def distribution_uri(identifier: str, fmt: str) -> str:
    return f"{dataset_uri(identifier)}/distributions/{fmt}"


def service_uri(key: str) -> str:
    return f"{catalogue_uri()}#service-{key}"


def landing_page(identifier: str) -> str:
    """The dataset's page for people (``/data/<identifier>/``)."""
    return f"{settings.ALZETTE_PUBLIC_URL}{reverse('catalogue:detail', args=[identifier])}"


def organisation_uri(slug: str) -> str:
    return f"{catalogue_uri()}/organisations/{slug}"


def page_uri(number: int, size: int) -> str:
    """A page's address; the default size is left out so each page has one address."""
    sized = f"&page_size={size}" if size != DEFAULT_PAGE_SIZE else ""
    return f"{catalogue_uri()}?page={number}{sized}"


# --- Paging --------------------------------------------------------------------------------


def parse_paging(page: str | None, page_size: str | None) -> tuple[int, int]:
    """The page number and size from query values; PagingError when out of range."""
    number = _positive("page", page, 1, None)
    size = _positive("page_size", page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return number, size


def _positive(name: str, raw: str | None, default: int, maximum: int | None) -> int:
    if raw is None or raw == "":
        return default
    # ASCII digits only: int() also reads other scripts' digits, which links would not keep.
    value = int(raw) if raw.isascii() and raw.isdecimal() else 0
    if value < 1 or (maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum else ""
        raise PagingError(f"{name} must be a whole number of at least 1{bound}.")
    return value


# --- Graphs --------------------------------------------------------------------------------


def new_graph() -> Graph:
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS),
                              ("vcard", VCARD), ("hydra", HYDRA), ("dcatap", DCATAP),
                              ("geo", GEO), ("spdx", SPDX)):  # fmt: skip
        graph.bind(prefix, namespace)
    return graph


def catalogue_graph(number: int, size: int) -> Graph:
    """The catalogue with the datasets of one page; PageNotFound past the last page."""
    datasets = _datasets()
    page = Page(number, size, datasets.count())
    if number > page.last:
        raise PageNotFound(f"The last page is {page.last}.")
    graph = new_graph()
    catalogue = URIRef(catalogue_uri())
    _add_catalogue(graph, catalogue, _last_change(datasets))
    _add_view(graph, catalogue, page)
    for dataset in datasets[page.offset : page.offset + size]:
        # A page lists many datasets: only sizes measured before are given (digests).
        graph.add((catalogue, DCAT.dataset, add_dataset(graph, dataset, measure=False)))
    # The APIs serving at least one dataset of the page (add_dataset described them).
    for service in sorted(set(graph.subjects(RDF.type, DCAT.DataService))):
        graph.add((catalogue, DCAT.service, service))
    return graph


def dataset_graph(identifier: str, fmt: str | None = None) -> Graph | None:
    """One visible dataset (or, with ``fmt``, the dataset holding that distribution)."""
    dataset = _datasets().filter(identifier=identifier).first()
    if dataset is None:
        return None
    if fmt is not None and fmt not in distribution_keys(dataset):
        return None
    graph = new_graph()
    add_dataset(graph, dataset)
    return graph


def organisation_graph(slug: str) -> Graph | None:
    """A publisher of at least one visible dataset."""
    organisation = Organisation.objects.using(services.DB).filter(slug=slug).first()
    if organisation is None or not _datasets().filter(organisation=organisation).exists():
        return None
    graph = new_graph()
    add_organisation(graph, organisation)
    return graph


def serialise(graph: Graph, fmt: str) -> bytes:
    """The graph in one of ``FORMATS``, as UTF-8 bytes."""
    if fmt == "ttl":
        stream = io.BytesIO()
        _Turtle(graph).serialize(stream, encoding="utf-8")
        return stream.getvalue()
    if fmt == "jsonld":
        context = {prefix: str(namespace) for prefix, namespace in graph.namespaces()}
        return graph.serialize(format="json-ld", context=context, encoding="utf-8")
    return graph.serialize(format=FORMATS[fmt][1], encoding="utf-8")


class _Turtle(TurtleSerializer):
    """rdflib's Turtle, abbreviating only IRIs in the bound vocabularies.

    rdflib tries to abbreviate every IRI and remembers each new "namespace" it sees:
    every dataset brings its own (``.../distributions/``, ``...#``), and the lookup
    grows with them, so a page of 1000 datasets took 15 s instead of 2 s.
    """

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph)
        self._vocabularies = tuple(str(namespace) for _, namespace in graph.namespaces())

    def get_pname(self, uri: Node, gen_prefix: bool = True) -> str | None:
        if not str(uri).startswith(self._vocabularies):
            return None  # written in full, as <...>
        return super().get_pname(uri, gen_prefix)


def _datasets() -> QuerySet[Dataset]:
    # A total order, so that a dataset never appears on two pages or on none.
    return services.visible().select_related("organisation").order_by("identifier", "pk")


def _last_change(datasets: QuerySet[Dataset]) -> datetime | None:
    found = datasets.aggregate(updated=Max("updated_at"), refreshed=Max("refreshed_at"))
    return _latest(found["updated"], found["refreshed"])


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known).replace(microsecond=0) if known else None


# --- The catalogue -------------------------------------------------------------------------


def _add_catalogue(graph: Graph, catalogue: URIRef, modified: datetime | None) -> None:
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    _add_texts(graph, catalogue, DCTERMS.title, _setting("ALZETTE_CATALOGUE_TITLE"))
    _add_texts(graph, catalogue, DCTERMS.description, _setting("ALZETTE_CATALOGUE_DESCRIPTION"))
    publisher = URIRef(f"{catalogue}#publisher")
    graph.add((catalogue, DCTERMS.publisher, publisher))
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal(_setting("ALZETTE_CATALOGUE_PUBLISHER"))))
    homepage = URIRef(f"{settings.ALZETTE_PUBLIC_URL}/")
    graph.add((catalogue, FOAF.homepage, homepage))
    graph.add((homepage, RDF.type, FOAF.Document))
    licence = _add_licence(graph, _setting("ALZETTE_CATALOGUE_LICENCE"))
    graph.add((catalogue, DCTERMS.license, licence))
    for code in LANGUAGES.values():
        language = URIRef(f"{vocab.EU}/language/{code}")
        graph.add((catalogue, DCTERMS.language, language))
        graph.add((language, RDF.type, DCTERMS.LinguisticSystem))
    themes = URIRef(f"{vocab.EU}/data-theme")
    graph.add((catalogue, DCAT.themeTaxonomy, themes))
    graph.add((themes, RDF.type, SKOS.ConceptScheme))
    graph.add((themes, DCTERMS.title, Literal("Data theme", lang="en")))
    if modified is not None:
        graph.add((catalogue, DCTERMS.modified, Literal(modified, datatype=XSD.dateTime)))


def _add_view(graph: Graph, catalogue: URIRef, page: Page) -> None:
    """The Hydra paging: the catalogue is the collection, this document one view of it."""
    view = URIRef(page_uri(page.number, page.size))
    graph.add((catalogue, RDF.type, HYDRA.Collection))
    graph.add((catalogue, HYDRA.totalItems, Literal(page.total, datatype=XSD.nonNegativeInteger)))
    graph.add((catalogue, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.first, URIRef(page_uri(1, page.size))))
    graph.add((view, HYDRA.last, URIRef(page_uri(page.last, page.size))))
    if page.number > 1:
        graph.add((view, HYDRA.previous, URIRef(page_uri(page.number - 1, page.size))))
    if page.number < page.last:
        graph.add((view, HYDRA.next, URIRef(page_uri(page.number + 1, page.size))))


def _setting(name: str) -> Any:
    return getattr(settings, name, None) or CATALOGUE_DEFAULTS[name]


# --- Datasets ------------------------------------------------------------------------------


def add_dataset(graph: Graph, dataset: Dataset, *, measure: bool = True) -> URIRef:
    """Describe ``dataset``, its distributions and the APIs serving it in ``graph``; its
    URI. ``measure``: measure the downloads not measured yet (``digests.measure``)."""
    node = URIRef(dataset_uri(dataset.identifier))
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(dataset.identifier)))
    _add_texts(graph, node, DCTERMS.title, dataset.title)
    # DCAT-AP requires a description; the title stands in until one is written.
    _add_texts(graph, node, DCTERMS.description, _texts(dataset.description) or dataset.title)
    for keyword in dataset.keywords:
        graph.add((node, DCAT.keyword, Literal(keyword)))
    for theme in dataset.themes:
        graph.add((node, DCAT.theme, _add_theme(graph, theme)))
    graph.add((node, DCTERMS.publisher, add_organisation(graph, dataset.organisation)))
    _add_contact(graph, node, dataset)
    _add_spatial(graph, node, dataset)
    _add_temporal(graph, node, dataset)
    _add_dates(graph, node, dataset)
    _add_concept(graph, node, DCTERMS.accrualPeriodicity, vocab.frequency_uri(dataset.frequency),
                 DCTERMS.Frequency)  # fmt: skip
    _add_concept(graph, node, DCTERMS.accessRights, vocab.access_uri(dataset.access),
                 DCTERMS.RightsStatement)  # fmt: skip
    landing = URIRef(landing_page(dataset.identifier))
    graph.add((node, DCAT.landingPage, landing))
    graph.add((landing, RDF.type, FOAF.Document))
    sizes = digests.measure(dataset) if measure else digests.known(dataset)
    for distribution in services.distributions(dataset):
        added = _add_distribution(graph, dataset, distribution, sizes.get(distribution.format))
        graph.add((node, DCAT.distribution, added))
    for api in api_distributions(dataset):
        graph.add((node, DCAT.distribution, _add_api_distribution(graph, dataset, api)))
    # CKAN serves the metadata and lists the downloads: it serves the dataset but is
    # no distribution's access service (the rows come from the platform API).
    _add_service(graph, "ckan-api", node)
    return node


def _add_texts(graph: Graph, node: URIRef, predicate: URIRef, texts: dict[str, str]) -> None:
    for language, text in sorted(_texts(texts).items()):
        graph.add((node, predicate, Literal(text, lang=language)))


def _texts(texts: dict[str, str] | None) -> dict[str, str]:
    return {lang: text.strip() for lang, text in (texts or {}).items() if text and text.strip()}


def _add_theme(graph: Graph, code: str) -> URIRef:
    theme = URIRef(vocab.theme_uri(code))
    graph.add((theme, RDF.type, SKOS.Concept))
    graph.add((theme, SKOS.inScheme, URIRef(f"{vocab.EU}/data-theme")))
    labels = {}
    for language in ("en", "fr"):
        with translation.override(language):
            labels[language] = str(vocab.THEMES[code])
    graph.add((theme, SKOS.prefLabel, Literal(labels["en"], lang="en")))
    # An untranslated label is English: tagging it French would mislead.
    if labels["fr"] != labels["en"]:
        graph.add((theme, SKOS.prefLabel, Literal(labels["fr"], lang="fr")))
    return theme


def _add_concept(graph: Graph, node: URIRef, predicate: URIRef, uri: str, kind: URIRef) -> None:
    graph.add((node, predicate, URIRef(uri)))
    graph.add((URIRef(uri), RDF.type, kind))


def add_organisation(graph: Graph, organisation: Organisation) -> URIRef:
    """The publisher as a foaf:Agent, typed with the ADMS publisher type of its kind."""
    agent = URIRef(organisation_uri(organisation.slug))
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(organisation.name)))
    if organisation.url:
        graph.add((agent, FOAF.homepage, URIRef(organisation.url)))
        graph.add((URIRef(organisation.url), RDF.type, FOAF.Document))
    if organisation.contact_email:
        graph.add((agent, FOAF.mbox, URIRef(f"mailto:{organisation.contact_email}")))
    code, label = PUBLISHER_TYPES[organisation.kind]
    kind = URIRef(f"{ADMS_PUBLISHER_TYPE}/{code}")
    graph.add((agent, DCTERMS.type, kind))
    graph.add((kind, RDF.type, SKOS.Concept))
    graph.add((kind, SKOS.prefLabel, Literal(label, lang="en")))
    return agent


def _add_contact(graph: Graph, node: URIRef, dataset: Dataset) -> None:
    email = dataset.contact_email or dataset.organisation.contact_email
    if not email:
        return
    contact = URIRef(f"{node}#contact")
    graph.add((node, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, Literal(dataset.organisation.name)))
    graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email}")))


def _add_spatial(graph: Graph, node: URIRef, dataset: Dataset) -> None:
    for code in dataset.communes:
        commune = URIRef(f"{INSEE_COMMUNE}/{code}")
        graph.add((node, DCTERMS.spatial, commune))
        graph.add((commune, RDF.type, DCTERMS.Location))
    if _is_box(dataset.extent):
        west, south, east, north = dataset.extent
        extent = URIRef(f"{node}#extent")
        ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
        polygon = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"
        centre = f"POINT({(west + east) / 2} {(south + north) / 2})"
        graph.add((node, DCTERMS.spatial, extent))
        graph.add((extent, RDF.type, DCTERMS.Location))
        graph.add((extent, DCAT.bbox, Literal(polygon, datatype=GEO.wktLiteral)))
        graph.add((extent, DCAT.centroid, Literal(centre, datatype=GEO.wktLiteral)))


def _is_box(extent: Any) -> bool:
    return (
        isinstance(extent, list)
        and len(extent) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in extent)
    )


def _add_temporal(graph: Graph, node: URIRef, dataset: Dataset) -> None:
    if not (dataset.temporal_start or dataset.temporal_end):
        return
    period = URIRef(f"{node}#temporal")
    graph.add((node, DCTERMS.temporal, period))
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    for predicate, day in ((DCAT.startDate, dataset.temporal_start),
                           (DCAT.endDate, dataset.temporal_end)):  # fmt: skip
        if day is not None:
            graph.add((period, predicate, Literal(day.isoformat(), datatype=XSD.date)))


def _add_dates(graph: Graph, node: URIRef, dataset: Dataset) -> None:
    issued = _latest(dataset.issued or dataset.created_at)
    # The metadata's last change, or the data's last refresh if that came later.
    modified = _latest(dataset.updated_at, dataset.refreshed_at)
    if issued is not None:
        graph.add((node, DCTERMS.issued, Literal(issued, datatype=XSD.dateTime)))
    if modified is not None:
        graph.add((node, DCTERMS.modified, Literal(modified, datatype=XSD.dateTime)))


# --- Distributions -------------------------------------------------------------------------


def distribution_keys(dataset: Dataset) -> set[str]:
    """The last segments of the dataset's distribution URIs."""
    files = {d.format for d in services.distributions(dataset)}
    return files | {api.key for api in api_distributions(dataset)}


def api_distributions(dataset: Dataset) -> list[ApiDistribution]:
    """The APIs serving the dataset's rows, besides the downloads: its OGC API Features
    collection when it is spatial, the context broker when it is NGSI-LD entities or
    their history (and the broker may be read without a key)."""
    found = []
    if _is_spatial(dataset):
        found.append(ApiDistribution(
            OGC_FEATURES, "ogc-api-features", "OGC API Features",
            "The dataset as an OGC API Features collection: GeoJSON features, filtered by "
            "box, time and property, paged.",
            f"/ogc/collections/{dataset.identifier}", "application/geo+json", "GEOJSON",
        ))  # fmt: skip
    query = _ngsi_ld_query(dataset)
    if query is not None and settings.ALZETTE_NGSILD_PUBLIC_READ:
        found.append(ApiDistribution(
            NGSI_LD, "ngsi-ld", "NGSI-LD",
            "The context data the dataset is read from, live, through the NGSI-LD API.",
            query, "application/ld+json", "JSON_LD",
        ))  # fmt: skip
    return found


def _is_spatial(dataset: Dataset) -> bool:
    try:
        return services.is_spatial(dataset)
    except sources.SourceError:  # a source dropped from the setting: no collection
        return False


def _ngsi_ld_query(dataset: Dataset) -> str | None:
    """The broker's query for the dataset's entities (or observations), its type
    expanded so that the address needs no ``Link`` header to carry the context."""
    options = dataset.source_options or {}
    if dataset.source not in ("ngsild-entities", "ngsild-history"):
        return None
    from alzette.territory.ngsild import jsonld
    from alzette.territory.ngsild.errors import NgsiLdError

    try:
        context = jsonld.resolve(options["context"]) if options.get("context") else jsonld.core()
        kind = context.expand(options["type"])
    except (KeyError, NgsiLdError):
        return None
    if dataset.source == "ngsild-entities":
        return f"/ngsi-ld/v1/entities?{urlencode({'type': kind})}"
    attribute = context.expand(options["attribute"])
    return f"/ngsi-ld/v1/temporal/entities?{urlencode({'type': kind, 'attrs': attribute})}"


def _add_service(graph: Graph, key: str, dataset: URIRef) -> URIRef:
    """The API as a dcat:DataService serving ``dataset``; its URI."""
    service = SERVICES[key]
    node = URIRef(service_uri(key))
    public = settings.ALZETTE_PUBLIC_URL
    graph.add((node, RDF.type, DCAT.DataService))
    graph.add((node, DCTERMS.title, Literal(service.title, lang="en")))
    graph.add((node, DCTERMS.description, Literal(service.description, lang="en")))
    graph.add((node, DCAT.endpointURL, URIRef(f"{public}{service.endpoint}")))
    definition = service.definition
    graph.add((node, DCAT.endpointDescription,
               URIRef(definition if "://" in definition else f"{public}{definition}")))  # fmt: skip
    graph.add((node, DCTERMS.conformsTo, URIRef(service.standard)))
    graph.add((URIRef(service.standard), RDF.type, DCTERMS.Standard))
    graph.add((node, DCTERMS.publisher, URIRef(f"{catalogue_uri()}#publisher")))
    graph.add((URIRef(f"{catalogue_uri()}#publisher"), RDF.type, FOAF.Agent))
    graph.add((URIRef(f"{catalogue_uri()}#publisher"), FOAF.name,
               Literal(_setting("ALZETTE_CATALOGUE_PUBLISHER"))))  # fmt: skip
    graph.add((node, DCAT.servesDataset, dataset))
    return node


def _add_distribution(graph: Graph, dataset: Dataset, distribution: services.Distribution,
                      size: digests.Digest | None) -> URIRef:  # fmt: skip
    node = URIRef(distribution_uri(dataset.identifier, distribution.format))
    url = URIRef(f"{settings.ALZETTE_PUBLIC_URL}{distribution.path}")
    code, title = FILE_TYPES[distribution.format]
    description = f"All the rows of the dataset as {title}, from its last refresh."
    _add_common(graph, node, dataset, title, description, url, distribution.media_type, code)
    graph.add((node, DCTERMS.identifier, Literal(str(distribution.id))))
    graph.add((node, DCAT.downloadURL, url))
    served = URIRef(dataset_uri(dataset.identifier))
    graph.add((node, DCAT.accessService, _add_service(graph, "platform-api", served)))
    if size is not None:
        _add_size(graph, node, size)
    return node


def _add_api_distribution(graph: Graph, dataset: Dataset, api: ApiDistribution) -> URIRef:
    node = URIRef(distribution_uri(dataset.identifier, api.key))
    url = URIRef(f"{settings.ALZETTE_PUBLIC_URL}{api.url}")
    _add_common(graph, node, dataset, api.title, api.description, url, api.media_type,
                api.file_type)  # fmt: skip
    graph.add((node, DCTERMS.identifier, Literal(str(dataset.distribution_id(api.key)))))
    served = URIRef(dataset_uri(dataset.identifier))
    graph.add((node, DCAT.accessService, _add_service(graph, api.service, served)))
    return node


def _add_size(graph: Graph, node: URIRef, size: digests.Digest) -> None:
    graph.add((node, DCAT.byteSize, Literal(size.size, datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(f"{node}#sha256")
    graph.add((node, SPDX.checksum, checksum))
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SHA256))
    graph.add((checksum, SPDX.checksumValue, Literal(size.sha256, datatype=XSD.hexBinary)))


def _add_common(graph: Graph, node: URIRef, dataset: Dataset, title: str, description: str,
                url: URIRef, media_type: str, code: str) -> None:  # fmt: skip
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(title)))
    graph.add((node, DCTERMS.description, Literal(description, lang="en")))
    graph.add((node, DCAT.accessURL, url))
    media = URIRef(f"{IANA}/{media_type}")
    graph.add((node, DCAT.mediaType, media))
    graph.add((media, RDF.type, DCTERMS.MediaType))
    file_type = URIRef(f"{vocab.EU}/file-type/{code}")
    graph.add((node, DCTERMS.format, file_type))
    graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
    graph.add((node, DCTERMS.license, _add_licence(graph, dataset.licence)))
    availability = URIRef(AVAILABILITY)
    graph.add((node, DCATAP.availability, availability))
    graph.add((availability, RDF.type, SKOS.Concept))
    graph.add((availability, SKOS.prefLabel, Literal("Available", lang="en")))
    return node


def _add_licence(graph: Graph, key: str) -> URIRef:
    licence = vocab.LICENCES[key]
    node = URIRef(licence.url)
    graph.add((node, RDF.type, DCTERMS.LicenseDocument))
    graph.add((node, DCTERMS.title, Literal(licence.title)))
    graph.add((node, DCTERMS.identifier, Literal(licence.spdx)))
    for code in LICENCE_TYPES.get(key, ()):
        kind = URIRef(f"{ADMS_LICENCE_TYPE}/{code}")
        graph.add((node, DCTERMS.type, kind))
        graph.add((kind, RDF.type, SKOS.Concept))
        graph.add((kind, SKOS.prefLabel, Literal(code, lang="en")))
    return node
