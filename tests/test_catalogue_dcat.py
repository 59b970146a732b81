"""/catalog: the DCAT-AP 3.0.1 catalogue, its negotiation, its paging and its validity.

Each serialisation is parsed back with rdflib and checked with pySHACL against the
DCAT-AP 3.0.1 shapes and range shapes (docs/opendata-dcat.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.test import Client
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef, namespace
from rdflib.namespace import DCTERMS, FOAF, SKOS

from alzette.territory.catalogue import services
from alzette.territory.catalogue.dcat import HYDRA, VCARD
from alzette.territory.catalogue.models import Dataset, Organisation

pytestmark = [
    pytest.mark.django_db(databases="__all__"),
    # rdflib's own JSON-LD parser, reading our documents back, still uses it.
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
]

# Open namespaces for those of rdflib's that warn when pytest probes a module's globals
# (only terms that are no str method are used through them: Namespace is a str).
DCAT, GEO, XSD = (Namespace(str(ns)) for ns in (namespace.DCAT, namespace.GEO, namespace.XSD))

PUBLIC = "https://data.example.org"
CATALOG = f"{PUBLIC}/catalog"
SHAPES = Path("/work/shared/reference/dcat-ap")
PROBLEM = "application/problem+json"
PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld",
           "application/rdf+xml": "xml"}  # fmt: skip


@pytest.fixture(scope="module")
def shapes() -> Graph:
    # The core shapes and the class-range shapes: ranges catch untyped objects.
    graph = Graph()
    for name in ("dcat-ap-3.0.1-shapes.ttl", "dcat-ap-3.0.1-range.ttl"):
        graph.parse(SHAPES / name, format="turtle")
    return graph


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ALZETTE_PUBLIC_URL = PUBLIC


@pytest.fixture
def organisation() -> Organisation:
    return Organisation.objects.using("territory").create(
        slug="ccphva", name="CC Pays Haut Val d'Alzette", url="https://www.ccphva.fr/",
        contact_email="contact@ccphva.fr",
    )  # fmt: skip


def publish(organisation: Organisation, identifier: str, **fields) -> Dataset:
    values = {
        "title": {"fr": f"Titre {identifier}", "en": f"Title {identifier}"},
        "description": {"fr": "Une description.", "en": "A description."},
        "themes": ["ENVI"], "keywords": ["air", "qualité"], "licence": "etalab-2.0",
        "contact_email": "data@ccphva.fr", "communes": ["57041"], "frequency": "DAILY",
        "source": "communes", "source_options": {},
    }  # fmt: skip
    values.update(fields)
    return services.publish(organisation, identifier, **values)


@pytest.fixture
def air(organisation) -> Dataset:
    dataset = publish(
        organisation, "air-quality", communes=["57041", "57038"],
        themes=["ENVI", "HEAL"], temporal_start=dt.date(2024, 1, 1),
        temporal_end=dt.date(2024, 12, 31),
    )  # fmt: skip
    # What a refresh would have measured: a CRS84 box around the communes.
    Dataset.objects.using("territory").filter(pk=dataset.pk).update(
        extent=[5.9, 49.4, 6.1, 49.5], refreshed_at=dataset.updated_at
    )
    return Dataset.objects.using("territory").get(pk=dataset.pk)


def get(path: str, accept: str | None = None, **params):
    client = Client(HTTP_ACCEPT=accept) if accept is not None else Client()
    return client.get(path, params)


def graph_of(response) -> Graph:
    media_type = response["Content-Type"].split(";")[0]
    return Graph().parse(data=response.content, format=PARSERS[media_type])


def assert_conforms(graph: Graph, shapes: Graph) -> None:
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text


def catalogue_datasets(graph: Graph) -> list[str]:
    return sorted(str(o) for o in graph.objects(URIRef(CATALOG), DCAT.dataset))


# --- Validity and negotiation ------------------------------------------------------------


@pytest.mark.parametrize("media_type", list(PARSERS))
def test_every_serialisation_conforms_to_dcat_ap(air, organisation, shapes, media_type):
    publish(organisation, "procedures", source="procedure-statistics", communes=[])
    response = get("/catalog", media_type)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(media_type)
    assert "Accept" in response["Vary"]
    graph = graph_of(response)
    assert catalogue_datasets(graph) == [f"{CATALOG}/datasets/air-quality",
                                         f"{CATALOG}/datasets/procedures"]  # fmt: skip
    assert_conforms(graph, shapes)


@pytest.mark.parametrize(
    "broken",
    [
        (URIRef(f"{CATALOG}/datasets/air-quality"), DCTERMS.title, None),
        # Range shapes: an object must carry its class.
        (URIRef("http://publications.europa.eu/resource/authority/frequency/DAILY"), RDF.type,
         None),
    ],
)  # fmt: skip
def test_the_shapes_catch_a_broken_dataset(air, shapes, broken):
    # The checks above mean something: a graph missing what DCAT-AP requires fails them.
    graph = graph_of(get("/catalog"))
    graph.remove(broken)
    conforms, _, _ = validate(graph, shacl_graph=shapes, inference="none")
    assert not conforms


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/turtle"),
        ("", "text/turtle"),
        ("*/*", "text/turtle"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/rdf+xml;q=0.9, application/ld+json;q=0.5", "application/rdf+xml"),
        ("text/*", "text/turtle"),
    ],
)
def test_accept_chooses_the_format(air, accept, expected):
    response = get("/catalog", accept)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("rdf", "application/rdf+xml")],
)
def test_the_format_parameter_wins_over_accept(air, fmt, expected):
    response = get("/catalog", "application/pdf", format=fmt)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == expected
    assert URIRef(f"{CATALOG}/datasets/air-quality") in set(graph_of(response).subjects())


def test_an_unsupported_accept_is_406(air):
    response = get("/catalog", "application/pdf, text/html")
    assert response.status_code == 406
    assert response["Content-Type"] == PROBLEM
    assert "Accept" in response["Vary"]
    assert "text/turtle" in response.json()["detail"]


def test_an_unknown_format_parameter_is_400(air):
    response = get("/catalog", format="csv")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM


def test_json_ld_uses_prefixes(air):
    body = json.loads(get("/catalog", "application/ld+json").content)
    assert body["@context"]["dcat"] == str(DCAT)


# --- What is described ---------------------------------------------------------------------


def test_dataset_properties(air):
    graph = graph_of(get("/catalog"))
    node = URIRef(f"{CATALOG}/datasets/air-quality")
    assert graph.value(node, DCTERMS.identifier) == Literal("air-quality")
    assert set(graph.objects(node, DCTERMS.title)) == {
        Literal("Titre air-quality", lang="fr"), Literal("Title air-quality", lang="en"),
    }  # fmt: skip
    assert set(graph.objects(node, DCAT.keyword)) == {Literal("air"), Literal("qualité")}
    eu = "http://publications.europa.eu/resource/authority"
    envi = URIRef(f"{eu}/data-theme/ENVI")
    assert set(graph.objects(node, DCAT.theme)) == {envi, URIRef(f"{eu}/data-theme/HEAL")}
    assert (envi, RDF.type, SKOS.Concept) in graph
    assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(f"{eu}/frequency/DAILY")
    assert graph.value(node, DCTERMS.accessRights) == URIRef(f"{eu}/access-right/PUBLIC")
    assert graph.value(node, DCTERMS.issued).datatype == XSD.dateTime
    assert graph.value(node, DCTERMS.modified).datatype == XSD.dateTime

    publisher = graph.value(node, DCTERMS.publisher)
    assert publisher == URIRef(f"{CATALOG}/organisations/ccphva")
    assert graph.value(publisher, FOAF.name) == Literal("CC Pays Haut Val d'Alzette")
    contact = graph.value(node, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in graph
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:data@ccphva.fr")

    commune = URIRef("http://id.insee.fr/geo/commune/57041")
    spatial = set(graph.objects(node, DCTERMS.spatial))
    assert commune in spatial and (commune, RDF.type, DCTERMS.Location) in graph
    (extent,) = spatial - {commune, URIRef("http://id.insee.fr/geo/commune/57038")}
    bbox = graph.value(extent, DCAT.bbox)
    assert bbox.datatype == GEO.wktLiteral
    assert str(bbox) == "POLYGON((5.9 49.4, 6.1 49.4, 6.1 49.5, 5.9 49.5, 5.9 49.4))"
    period = graph.value(node, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate) == Literal("2024-01-01", datatype=XSD.date)
    assert graph.value(period, DCAT.endDate) == Literal("2024-12-31", datatype=XSD.date)


def test_distributions(air, organisation):
    publish(organisation, "procedures", source="procedure-statistics")
    graph = graph_of(get("/catalog"))
    node = URIRef(f"{CATALOG}/datasets/air-quality")
    formats = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}
    expected = {URIRef(f"{CATALOG}/datasets/air-quality/distributions/{f}")
                for f in [*formats, "ogc-features"]}  # fmt: skip
    assert set(graph.objects(node, DCAT.distribution)) == expected
    for fmt, media_type in formats.items():
        dist = URIRef(f"{CATALOG}/datasets/air-quality/distributions/{fmt}")
        assert graph.value(dist, DCTERMS.identifier) == Literal(str(air.distribution_id(fmt)))
        url = URIRef(f"{PUBLIC}/api/v1/territory/datasets/air-quality/data.{fmt}")
        assert graph.value(dist, DCAT.downloadURL) == url == graph.value(dist, DCAT.accessURL)
        media = URIRef(f"https://www.iana.org/assignments/media-types/{media_type}")
        assert graph.value(dist, DCAT.mediaType) == media
        assert (media, RDF.type, DCTERMS.MediaType) in graph
        assert graph.value(dist, DCTERMS.format) == URIRef(
            f"http://publications.europa.eu/resource/authority/file-type/{fmt.upper()}"
        )
        licence = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
        assert graph.value(dist, DCTERMS.license) == licence
        assert (licence, RDF.type, DCTERMS.LicenseDocument) in graph
    # A source without geometries has no GeoJSON distribution, nor OGC collection.
    procedures = URIRef(f"{CATALOG}/datasets/procedures")
    assert len(set(graph.objects(procedures, DCAT.distribution))) == 2


def test_catalogue_properties(air):
    graph = graph_of(get("/catalog"))
    catalogue = URIRef(CATALOG)
    assert (catalogue, RDF.type, DCAT.Catalog) in graph
    assert graph.value(catalogue, DCTERMS.title) is not None
    assert graph.value(graph.value(catalogue, DCTERMS.publisher), FOAF.name) is not None
    assert graph.value(catalogue, FOAF.homepage) == URIRef(f"{PUBLIC}/")
    fra = URIRef("http://publications.europa.eu/resource/authority/language/FRA")
    assert fra in set(graph.objects(catalogue, DCTERMS.language))
    assert graph.value(catalogue, DCTERMS.modified).datatype == XSD.dateTime


def test_a_dataset_without_description_or_contact_still_conforms(organisation, shapes):
    organisation.contact_email = ""
    organisation.save(using="territory")
    publish(organisation, "bare", description={}, contact_email="", communes=[], keywords=[])
    graph = graph_of(get("/catalog"))
    node = URIRef(f"{CATALOG}/datasets/bare")
    assert graph.value(node, DCTERMS.description) == Literal("Title bare", lang="en") or (
        Literal("Titre bare", lang="fr") in set(graph.objects(node, DCTERMS.description))
    )
    assert graph.value(node, DCAT.contactPoint) is None
    assert_conforms(graph, shapes)


# --- Visibility and identity ---------------------------------------------------------------


def test_restricted_and_unpublished_datasets_are_absent(air, organisation):
    publish(organisation, "shared", access="community")
    publish(organisation, "closed", access="restricted")
    publish(organisation, "draft", published=False)
    graph = graph_of(get("/catalog"))
    assert catalogue_datasets(graph) == [f"{CATALOG}/datasets/air-quality"]
    assert graph.value(URIRef(CATALOG), HYDRA.totalItems).toPython() == 1
    for identifier in ("shared", "closed", "draft"):
        assert not any(identifier in str(node) for node in graph.all_nodes())
        response = get(f"/catalog/datasets/{identifier}")
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM


def test_identifiers_are_stable_across_requests_and_changes(air):
    def identities() -> set[tuple[str, str]]:
        graph = graph_of(get("/catalog", "application/ld+json"))
        return {(str(s), str(o)) for s, o in graph.subject_objects(DCTERMS.identifier)
                if "/catalog/" in str(s)}  # fmt: skip

    first = identities()
    assert first == identities()
    services.change(air, title={"fr": "Qualité de l'air", "en": "Air quality"})
    assert identities() == first
    assert (f"{CATALOG}/datasets/air-quality/distributions/csv",
            str(air.distribution_id("csv"))) in first  # fmt: skip


# --- Paging --------------------------------------------------------------------------------


@pytest.fixture
def five(organisation) -> list[str]:
    names = [f"set-{n}" for n in range(5)]
    for name in names:
        publish(organisation, name)
    return [f"{CATALOG}/datasets/{name}" for name in names]


def view_of(graph: Graph) -> dict[str, str]:
    view = graph.value(URIRef(CATALOG), HYDRA.view)
    assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
    links = {name: graph.value(view, HYDRA[name]) for name in ("first", "last", "next", "previous")}
    return {"self": str(view), **{name: str(link) for name, link in links.items() if link}}


def test_pages_walk_the_whole_catalogue(five):
    seen, links = [], []
    for number in (1, 2, 3):
        graph = graph_of(get("/catalog", page=number, page_size=2))
        assert graph.value(URIRef(CATALOG), HYDRA.totalItems) == Literal(
            5, datatype=XSD.nonNegativeInteger
        )
        seen += catalogue_datasets(graph)
        links.append(view_of(graph))
    assert seen == five
    base = f"{CATALOG}?page=%d&page_size=2"
    assert links[0] == {"self": base % 1, "first": base % 1, "last": base % 3, "next": base % 2}
    assert links[1] == {"self": base % 2, "first": base % 1, "last": base % 3,
                        "next": base % 3, "previous": base % 1}  # fmt: skip
    assert links[2] == {"self": base % 3, "first": base % 1, "last": base % 3,
                        "previous": base % 2}  # fmt: skip


def test_default_page_size_and_links(five):
    graph = graph_of(get("/catalog"))
    assert len(catalogue_datasets(graph)) == 5
    page = f"{CATALOG}?page=1"
    assert view_of(graph) == {"self": page, "first": page, "last": page}


def test_an_empty_catalogue_has_one_empty_page(shapes):
    graph = graph_of(get("/catalog"))
    assert catalogue_datasets(graph) == []
    assert graph.value(URIRef(CATALOG), HYDRA.totalItems).toPython() == 0
    assert_conforms(graph, shapes)


@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"page": "-1"}, {"page": "two"}, {"page": "1.5"}, {"page_size": "0"},
     {"page_size": "1001"}, {"page_size": "ten"}, {"page": "²"}, {"page": "٣"},
     {"page": " 1"}],
)  # fmt: skip
def test_bad_paging_values_are_400(air, params):
    response = get("/catalog", **params)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 400
    assert problem["detail"].startswith(next(iter(params)))


def test_the_largest_page_size_is_accepted(air):
    assert get("/catalog", page_size=1000).status_code == 200


def test_a_page_past_the_last_is_404(five):
    response = get("/catalog", page=4, page_size=2)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


# --- Dereferenceable URIs ------------------------------------------------------------------


def test_dataset_distribution_and_publisher_documents(air, shapes):
    dataset = URIRef(f"{CATALOG}/datasets/air-quality")
    for path in ("/catalog/datasets/air-quality",
                 "/catalog/datasets/air-quality/distributions/geojson"):  # fmt: skip
        response = get(path, "application/rdf+xml")
        assert response.status_code == 200
        graph = graph_of(response)
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        assert_conforms(graph, shapes)
    graph = graph_of(get("/catalog/organisations/ccphva"))
    assert (URIRef(f"{CATALOG}/organisations/ccphva"), RDF.type, FOAF.Agent) in graph
    for path in ("/catalog/datasets/unknown", "/catalog/datasets/air-quality/distributions/pdf",
                 "/catalog/organisations/unknown"):  # fmt: skip
        assert get(path).status_code == 404


def test_only_reads_are_allowed(air):
    assert Client().post("/catalog").status_code == 405
