"""/catalog: landing pages, download sizes and checksums, and the APIs as
dcat:DataService (docs/opendata-dcat.md), checked against the DCAT-AP 3.0.1 shapes;
the same sizes in the CKAN API's resources (docs/opendata-ckan.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.test import Client
from pyshacl import validate
from rdflib import RDF, Graph, Literal, Namespace, URIRef, namespace
from rdflib.namespace import DCTERMS, FOAF

from alzette.territory.catalogue import digests, services
from alzette.territory.catalogue.models import Dataset, Organisation

pytestmark = [
    pytest.mark.django_db(databases="__all__"),
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
]

DCAT, XSD = (Namespace(str(ns)) for ns in (namespace.DCAT, namespace.XSD))
SPDX = Namespace("http://spdx.org/rdf/terms#")
PUBLIC = "https://data.example.org"
CATALOG = f"{PUBLIC}/catalog"
SHAPES = Path("/work/shared/reference/dcat-ap")
PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld",
           "application/rdf+xml": "xml"}  # fmt: skip
SERVICE_KEYS = ("platform-api", "ogc-api-features", "ckan-api", "ngsi-ld")
PLATFORM, OGC, CKAN, NGSI = (URIRef(f"{CATALOG}#service-{key}") for key in SERVICE_KEYS)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    graph = Graph()
    for name in ("dcat-ap-3.0.1-shapes.ttl", "dcat-ap-3.0.1-range.ttl"):
        graph.parse(SHAPES / name, format="turtle")
    return graph


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ALZETTE_PUBLIC_URL = PUBLIC


@pytest.fixture
def organisation() -> Organisation:
    return Organisation.objects.using("territory").create(slug="ccphva", name="CCPHVA")


def publish(organisation: Organisation, identifier: str, **fields) -> Dataset:
    values = {"title": {"fr": f"Titre {identifier}"}, "licence": "etalab-2.0",
              "source": "communes", "source_options": {}}  # fmt: skip
    values.update(fields)
    return services.publish(organisation, identifier, **values)


@pytest.fixture
def communes(organisation, territory) -> Dataset:
    """A spatial dataset with a snapshot: its downloads can be measured."""
    dataset = publish(organisation, "communes")
    assert services.refresh(dataset)
    return dataset


@pytest.fixture
def procedures(organisation) -> Dataset:
    """Not spatial, never refreshed: read live, so no size is known."""
    return publish(organisation, "procedures", source="procedure-statistics")


@pytest.fixture
def bins(organisation) -> Dataset:
    from tests.ngsild_helpers import NgsiLd

    bin_ = {"id": "urn:ngsi-ld:WasteContainer:1", "type": "WasteContainer",
            "fillingLevel": {"type": "Property", "value": 0.5},
            "location": {"type": "GeoProperty",
                         "value": {"type": "Point", "coordinates": [5.98, 49.47]}}}  # fmt: skip
    assert NgsiLd().post("/entityOperations/create", [bin_]).status_code == 201
    return publish(organisation, "bins", source="ngsild-entities",
                   source_options={"type": "WasteContainer"})  # fmt: skip


def graph_of(path: str, accept: str = "text/turtle") -> Graph:
    response = Client(HTTP_ACCEPT=accept).get(path)
    assert response.status_code == 200, response.content
    return Graph().parse(data=response.content, format=PARSERS[accept])


def assert_conforms(graph: Graph, shapes: Graph) -> None:
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text


def download(identifier: str, fmt: str) -> bytes:
    response = Client().get(f"/api/v1/territory/datasets/{identifier}/data.{fmt}")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def distribution(identifier: str, key: str) -> URIRef:
    return URIRef(f"{CATALOG}/datasets/{identifier}/distributions/{key}")


# --- Validity ------------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", list(PARSERS))
def test_services_sizes_and_landing_pages_conform(communes, procedures, bins, shapes,
                                                  media_type):  # fmt: skip
    graph_of("/catalog/datasets/communes")  # measures the downloads of communes
    graph = graph_of("/catalog", media_type)
    assert (distribution("communes", "csv"), DCAT.byteSize, None) in graph
    assert set(graph.objects(URIRef(CATALOG), DCAT.service)) == {PLATFORM, OGC, CKAN, NGSI}
    assert_conforms(graph, shapes)
    for path in ("/catalog/datasets/communes", "/catalog/datasets/bins/distributions/ngsi-ld"):
        assert_conforms(graph_of(path, media_type), shapes)


def test_the_shapes_catch_a_broken_checksum_and_service(communes, shapes):
    graph = graph_of("/catalog/datasets/communes")
    checksum = URIRef(f"{distribution('communes', 'csv')}#sha256")
    value = graph.value(checksum, SPDX.checksumValue)
    graph.remove((checksum, SPDX.checksumValue, value))
    graph.add((checksum, SPDX.checksumValue, Literal(str(value))))  # a plain string
    graph.remove((OGC, DCAT.endpointURL, None))
    conforms, report, _ = validate(graph, shacl_graph=shapes, inference="none")
    assert not conforms
    paths = {str(p) for p in report.objects(None, URIRef("http://www.w3.org/ns/shacl#resultPath"))}
    assert {str(SPDX.checksumValue), str(DCAT.endpointURL)} <= paths


# --- Landing pages -------------------------------------------------------------------------


def test_a_dataset_has_its_page_as_landing_page(procedures):
    graph = graph_of("/catalog")
    page = graph.value(URIRef(f"{CATALOG}/datasets/procedures"), DCAT.landingPage)
    assert page == URIRef(f"{PUBLIC}/data/procedures/")
    assert (page, RDF.type, FOAF.Document) in graph
    assert Client().get("/data/procedures/").status_code == 200


# --- Sizes and checksums -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "geojson"])
def test_a_snapshot_download_has_its_size_and_sha256(communes, fmt):
    graph = graph_of("/catalog/datasets/communes")
    node = distribution("communes", fmt)
    body = download("communes", fmt)
    size = graph.value(node, DCAT.byteSize)
    assert size.datatype == XSD.nonNegativeInteger and size.toPython() == len(body) > 0
    checksum = graph.value(node, SPDX.checksum)
    assert (checksum, RDF.type, SPDX.Checksum) in graph
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    value = graph.value(checksum, SPDX.checksumValue)
    assert value.datatype == XSD.hexBinary
    assert str(value) == hashlib.sha256(body).hexdigest()


def test_a_live_dataset_has_no_size_rather_than_zero(procedures):
    graph = graph_of("/catalog/datasets/procedures")
    for fmt in ("csv", "json"):
        assert graph.value(distribution("procedures", fmt), DCAT.byteSize) is None
        assert graph.value(distribution("procedures", fmt), SPDX.checksum) is None
    assert not list(graph.subject_objects(DCAT.byteSize))


def _forget_measures() -> None:
    """As if the refresh had not measured (a snapshot over its limit, an evicted cache)."""
    from django.core.cache import cache

    cache.clear()


def test_a_refresh_measures_the_new_snapshot_at_once(communes):
    assert set(digests.known(communes)) == {"csv", "json", "geojson"}
    node = distribution("communes", "csv")
    assert graph_of("/catalog").value(node, DCAT.byteSize) is not None


def test_a_failing_measure_never_fails_the_refresh(communes, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(digests, "measure", broken)
    assert services.refresh(communes)
    assert any("measuring the downloads" in r.getMessage() for r in caplog.records)


def test_a_page_gives_only_sizes_measured_before(communes):
    _forget_measures()
    node = distribution("communes", "csv")
    assert graph_of("/catalog").value(node, DCAT.byteSize) is None
    graph_of("/catalog/datasets/communes")
    assert graph_of("/catalog").value(node, DCAT.byteSize) is not None


def test_a_new_snapshot_is_measured_again(communes):
    first = graph_of("/catalog/datasets/communes").value(distribution("communes", "csv"),
                                                         DCAT.byteSize)  # fmt: skip
    _forget_measures()
    assert services.refresh(communes)
    assert set(digests.known(communes)) == {"csv", "json", "geojson"}  # the new snapshot's
    again = graph_of("/catalog/datasets/communes").value(distribution("communes", "csv"),
                                                         DCAT.byteSize)  # fmt: skip
    assert again == first  # the same rows give the same bytes


def test_a_large_snapshot_is_not_measured_during_a_request(communes, monkeypatch):
    _forget_measures()
    monkeypatch.setattr(digests, "MEASURE_MAX_BYTES", 0)
    graph = graph_of("/catalog/datasets/communes")
    assert not list(graph.subject_objects(DCAT.byteSize))
    assert not list(graph.subject_objects(SPDX.checksum))


# --- Data services -------------------------------------------------------------------------


def test_downloads_are_served_by_the_platform_api(communes):
    graph = graph_of("/catalog/datasets/communes")
    dataset = URIRef(f"{CATALOG}/datasets/communes")
    for fmt in ("csv", "json", "geojson"):
        assert graph.value(distribution("communes", fmt), DCAT.accessService) == PLATFORM
    assert (PLATFORM, RDF.type, DCAT.DataService) in graph
    assert graph.value(PLATFORM, DCAT.endpointURL) == URIRef(f"{PUBLIC}/api/v1/")
    openapi = graph.value(PLATFORM, DCAT.endpointDescription)
    assert openapi == URIRef(f"{PUBLIC}/api/v1/openapi.json")
    assert Client().get("/api/v1/openapi.json").status_code == 200
    assert graph.value(PLATFORM, DCTERMS.title) is not None
    assert (PLATFORM, DCAT.servesDataset, dataset) in graph
    # CKAN serves the metadata, not the rows: it is no distribution's access service.
    assert (CKAN, DCAT.servesDataset, dataset) in graph
    assert not list(graph.subjects(DCAT.accessService, CKAN))
    assert graph.value(CKAN, DCAT.endpointURL) == URIRef(f"{PUBLIC}/api/3/action/")


def test_a_spatial_dataset_has_its_ogc_collection(communes):
    graph = graph_of("/catalog/datasets/communes")
    node = distribution("communes", "ogc-features")
    url = graph.value(node, DCAT.accessURL)
    assert url == URIRef(f"{PUBLIC}/ogc/collections/communes")
    assert Client().get("/ogc/collections/communes").status_code == 200
    assert graph.value(node, DCAT.downloadURL) is None
    assert graph.value(node, DCAT.byteSize) is None  # an API's answers have no one size
    assert graph.value(node, DCAT.accessService) == OGC
    assert graph.value(OGC, DCAT.endpointURL) == URIRef(f"{PUBLIC}/ogc")
    assert graph.value(OGC, DCAT.endpointDescription) == URIRef(f"{PUBLIC}/ogc/api")
    assert Client().get("/ogc/api").status_code == 200
    assert (OGC, DCAT.servesDataset, URIRef(f"{CATALOG}/datasets/communes")) in graph
    assert graph.value(node, DCTERMS.identifier) == Literal(
        str(communes.distribution_id("ogc-features"))
    )
    assert graph_of("/catalog/datasets/communes/distributions/ogc-features") is not None


def test_a_dataset_without_geometry_has_no_ogc_collection(procedures):
    graph = graph_of("/catalog")
    assert not list(graph.subjects(DCAT.accessService, OGC))
    assert (OGC, RDF.type, DCAT.DataService) not in graph
    assert OGC not in set(graph.objects(URIRef(CATALOG), DCAT.service))
    assert Client().get("/catalog/datasets/procedures/distributions/ogc-features").status_code \
        == 404  # fmt: skip


def test_context_data_is_served_by_the_ngsi_ld_api(bins):
    graph = graph_of("/catalog/datasets/bins")
    node = distribution("bins", "ngsi-ld")
    assert graph.value(node, DCAT.accessService) == NGSI
    url = str(graph.value(node, DCAT.accessURL))
    assert url.startswith(f"{PUBLIC}/ngsi-ld/v1/entities?type=")
    found = Client().get(url.removeprefix(PUBLIC), HTTP_ACCEPT="application/json")
    assert found.status_code == 200
    assert [e["id"] for e in json.loads(found.content)] == ["urn:ngsi-ld:WasteContainer:1"]
    assert graph.value(NGSI, DCAT.endpointURL) == URIRef(f"{PUBLIC}/ngsi-ld/v1/")
    assert graph.value(NGSI, DCAT.endpointDescription) is not None
    assert (NGSI, DCAT.servesDataset, URIRef(f"{CATALOG}/datasets/bins")) in graph


def test_no_ngsi_ld_distribution_when_the_broker_needs_a_key(bins, settings):
    settings.ALZETTE_NGSILD_PUBLIC_READ = False
    graph = graph_of("/catalog/datasets/bins")
    assert graph.value(distribution("bins", "ngsi-ld"), RDF.type) is None
    assert (NGSI, RDF.type, DCAT.DataService) not in graph


def test_other_sources_have_no_ngsi_ld_distribution(communes):
    graph = graph_of("/catalog")
    assert (NGSI, RDF.type, DCAT.DataService) not in graph


# --- CKAN ----------------------------------------------------------------------------------


def ckan(action: str, **params) -> dict:
    response = Client().get(f"/api/3/action/{action}", params)
    assert response.status_code == 200
    return json.loads(response.content)["result"]


def test_package_show_gives_size_and_hash_of_measured_downloads(communes):
    resources = ckan("package_show", id="communes")["resources"]
    for resource in resources:
        body = download("communes", resource["url"].rsplit(".", 1)[1])
        assert resource["size"] == len(body)
        assert resource["hash"] == hashlib.sha256(body).hexdigest()


def test_package_show_of_a_live_dataset_has_null_size_and_hash(procedures):
    for resource in ckan("package_show", id="procedures")["resources"]:
        assert resource["size"] is None and resource["hash"] is None


def test_package_search_gives_the_sizes_measured_before(communes):
    def sizes() -> list:
        found = ckan("package_search", q="")["results"]
        return [r["size"] for r in found[0]["resources"]]

    _forget_measures()
    assert sizes() == [None, None, None]
    ckan("package_show", id="communes")
    assert all(isinstance(size, int) and size > 0 for size in sizes())
