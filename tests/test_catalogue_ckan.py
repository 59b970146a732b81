"""/api/3/action/: the catalogue as a CKAN Action API, as national portals harvest it.

Every answer is CKAN's envelope; only published open data is ever seen; searches
read q, fq, sort, rows, start and facets the way CKAN clients send them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from alzette.territory.catalogue import ckan, services
from alzette.territory.catalogue.models import Dataset, Organisation
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PUBLIC = "https://data.example.org"
API = "/api/3/action/"
DB = "territory"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.ALZETTE_PUBLIC_URL = PUBLIC


@pytest.fixture
def client() -> Client:
    return Client()


def organisation(slug: str = "ville-test", name: str = "Ville de Test") -> Organisation:
    return Organisation.objects.using(DB).create(
        slug=slug, name=name, contact_email="mairie@example.org"
    )


def publish(publisher: Organisation, identifier: str, **overrides) -> Dataset:
    fields = {
        "title": {"fr": "Collecte des déchets", "en": "Waste collection"},
        "description": {"fr": "Tournées de collecte.", "de": "Müllabfuhr-Touren."},
        "themes": ["ENVI"], "keywords": ["déchets"], "licence": "etalab-2.0",
        "contact_email": "open@example.org", "communes": ["57041"], "frequency": "DAILY",
        "source": "communes", "source_options": {},
    }  # fmt: skip
    fields.update(overrides)
    return services.publish(publisher, identifier, **fields)


def modified(dataset: Dataset, when: datetime) -> None:
    Dataset.objects.using(DB).filter(pk=dataset.pk).update(updated_at=when)


@pytest.fixture
def catalogue() -> dict[str, Dataset]:
    """Four open datasets of two publishers, and two nobody may see."""
    town, bus = organisation(), organisation("bus-co", "Bus Company")
    found = {
        "dechets": publish(town, "dechets"),
        "qualite-air": publish(
            town, "qualite-air",
            title={"fr": "Qualité de l'air", "en": "Air quality"},
            description={"fr": "Mesures horaires de l'air."}, themes=["ENVI", "HEAL"],
            keywords=["Air", "pollution"], licence="odbl-1.0", frequency="HOURLY",
            source="ngsild-entities", source_options={"type": "AirQualityObserved"},
        ),
        "demarches": publish(
            town, "demarches", title={"fr": "Démarches en ligne"},
            description={"fr": "Démarches déposées par commune et par mois."},
            themes=["GOVE"], keywords=["services publics"], licence="cc-by-4.0",
            source="procedure-statistics",
        ),
        "arrets-bus": publish(
            bus, "arrets-bus", title={"fr": "Arrêts de bus", "en": "Bus stops"},
            description={"fr": "Les arrêts du réseau."}, themes=["TRAN"],
            keywords=["transport", "bus"], source="territory-events",
            source_options={"kind": "bus-stop"},
        ),
        "restreint": publish(town, "restreint", title={"fr": "Déchets restreints"},
                             access="restricted", licence="other-closed"),
        "brouillon": publish(town, "brouillon", title={"fr": "Déchets en brouillon"},
                             published=False),
    }  # fmt: skip
    base = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    for days, name in enumerate(["dechets", "qualite-air", "demarches", "arrets-bus"]):
        modified(found[name], base + timedelta(days=days))
    return found


def call(client: Client, action: str, **params):
    return client.get(API + action, params)


def ok(response) -> object:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json;charset=utf-8"
    body = response.json()
    assert set(body) == {"help", "success", "result"}
    assert body["success"] is True
    return body["result"]


def failed(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"help", "success", "error"}
    assert body["success"] is False
    assert body["error"]["__type"] == kind
    assert body["error"]["message"]
    return body["error"]


def search(client: Client, **params) -> dict:
    return ok(call(client, "package_search", **params))


def names(result: dict) -> list[str]:
    return [package["name"] for package in result["results"]]


# --- Envelope, unknown actions, methods -------------------------------------------------------


def test_status_show_envelope(client):
    body = client.get(API + "status_show").json()
    assert body["help"] == f"{PUBLIC}/api/3/action/help_show?name=status_show"
    status = ok(client.get(API + "status_show"))
    assert status["site_url"] == PUBLIC
    assert status["ckan_version"].startswith("2.10.")
    assert isinstance(status["extensions"], list)


def test_unknown_action_is_400_as_ckan(client):
    error = failed(call(client, "package_delete"), 400, "Bad Request")
    assert error["message"] == "Bad request - Action name not known: package_delete"


def test_post_with_a_json_body(client, catalogue):
    response = client.post(API + "package_search", json.dumps({"q": "air", "rows": 1}),
                           content_type="application/json")  # fmt: skip
    assert names(ok(response)) == ["qualite-air"]


def test_post_with_query_parameters_and_an_empty_body(client, catalogue):
    # udata's "fix" mode: POST "{}" with the parameters in the URL.
    response = client.post(API + "package_show?id=dechets", "{}",
                           content_type="application/json")  # fmt: skip
    assert ok(response)["name"] == "dechets"


def test_post_with_a_bad_json_body_is_400(client):
    response = client.post(API + "package_search", "{nope", content_type="application/json")
    assert "JSON" in failed(response, 400, "Bad Request")["message"]
    response = client.post(API + "package_search", "[1]", content_type="application/json")
    failed(response, 400, "Bad Request")


def test_get_with_a_json_content_type_header_reads_the_query(client, catalogue):
    # udata sends "Content-Type: application/json" on its GETs too.
    response = client.get(API + "package_show", {"id": "dechets"},
                          CONTENT_TYPE="application/json")  # fmt: skip
    assert ok(response)["name"] == "dechets"


def test_other_methods_are_refused(client):
    assert client.put(API + "package_list").status_code == 405


# --- package_list -------------------------------------------------------------------------------


def test_package_list_only_open_published(client, catalogue):
    assert ok(call(client, "package_list")) == ["arrets-bus", "dechets", "demarches",
                                                "qualite-air"]  # fmt: skip


def test_package_list_paging(client, catalogue):
    assert ok(call(client, "package_list", limit=2, offset=1)) == ["dechets", "demarches"]
    assert ok(call(client, "package_list", offset=3)) == ["qualite-air"]


@pytest.mark.parametrize(
    ("value", "message"), [("abc", "Invalid integer"), ("-1", "Must be a natural number")]
)
def test_package_list_bad_limit_is_a_validation_error(client, value, message):
    error = failed(call(client, "package_list", limit=value), 409, "Validation Error")
    assert error["limit"] == [message]


# --- package_show -------------------------------------------------------------------------------

PACKAGE_KEYS = {
    "id", "name", "title", "title_translated", "notes", "notes_translated", "url", "version",
    "state", "private", "type", "license_id", "license_title", "license_url", "isopen",
    "author", "author_email", "maintainer", "maintainer_email", "creator_user_id",
    "metadata_created", "metadata_modified", "organization", "owner_org", "tags", "num_tags",
    "groups", "extras", "resources", "num_resources", "relationships_as_object",
    "relationships_as_subject",
}  # fmt: skip
RESOURCE_KEYS = {
    "id", "package_id", "name", "description", "format", "mimetype", "mimetype_inner", "url",
    "url_type", "resource_type", "state", "created", "last_modified", "metadata_modified",
    "position", "size", "hash", "cache_url", "cache_last_updated", "datastore_active",
}  # fmt: skip


def test_package_show_full_package(client, catalogue):
    dataset = catalogue["dechets"]
    Dataset.objects.using(DB).filter(pk=dataset.pk).update(extent=[5.9, 49.4, 6.1, 49.5])
    package = ok(call(client, "package_show", id="dechets"))
    assert set(package) == PACKAGE_KEYS
    assert package["id"] == str(dataset.id) and package["name"] == "dechets"
    assert package["title"] == "Collecte des déchets"
    assert package["title_translated"]["en"] == "Waste collection"
    assert package["notes"] == "Tournées de collecte."
    assert (package["state"], package["private"], package["type"]) == ("active", False, "dataset")
    assert package["license_id"] == "etalab-2.0" and package["isopen"] is True
    assert package["license_title"].startswith("Licence Ouverte")
    assert package["license_url"].startswith("https://")
    assert package["maintainer_email"] == "open@example.org"
    assert package["author"] == "Ville de Test"
    assert package["metadata_modified"] == "2026-01-10T12:00:00"
    assert "+" not in package["metadata_created"] and "Z" not in package["metadata_created"]
    assert package["url"] == f"{PUBLIC}/api/v1/territory/datasets/dechets"
    organization = package["organization"]
    assert organization["name"] == "ville-test" and organization["title"] == "Ville de Test"
    assert organization["type"] == "organization" and organization["is_organization"] is True
    assert organization["state"] == "active" and organization["approval_status"] == "approved"
    assert package["owner_org"] == organization["id"]
    assert package["tags"] == [{
        "id": package["tags"][0]["id"], "name": "déchets", "display_name": "déchets",
        "state": "active", "vocabulary_id": None,
    }]  # fmt: skip
    assert package["num_tags"] == 1
    assert [group["name"] for group in package["groups"]] == ["envi"]
    assert package["groups"][0]["title"]
    extras = {extra["key"]: extra["value"] for extra in package["extras"]}
    assert extras["frequency"].endswith("/frequency/DAILY")
    assert extras["communes"] == "57041"
    assert extras["access_rights"].endswith("/access-right/PUBLIC")
    spatial = json.loads(extras["spatial"])
    assert spatial["type"] == "Polygon" and spatial["coordinates"][0][0] == [5.9, 49.4]
    assert all(isinstance(value, str) for value in extras.values())


def test_package_show_resources(client, catalogue):
    dataset = catalogue["dechets"]
    package = ok(call(client, "package_show", id=str(dataset.id)))
    assert package["num_resources"] == 3
    resources = package["resources"]
    assert [r["format"] for r in resources] == ["CSV", "JSON", "GeoJSON"]
    assert [r["position"] for r in resources] == [0, 1, 2]
    csv = resources[0]
    assert set(csv) == RESOURCE_KEYS
    assert csv["id"] == str(dataset.distribution_id("csv"))
    assert csv["package_id"] == str(dataset.id)
    assert csv["url"] == f"{PUBLIC}/api/v1/territory/datasets/dechets/data.csv"
    assert csv["mimetype"] == "text/csv" and csv["url_type"] is None and csv["state"] == "active"
    # A source without geometry has no GeoJSON.
    demarches = ok(call(client, "package_show", id="demarches"))
    assert [r["format"] for r in demarches["resources"]] == ["CSV", "JSON"]


@pytest.mark.parametrize(
    "wanted", ["restreint", "brouillon", "nothing", "3f2a9c4e-8d1b-4b7a-9e55-0c6d2f1a7b38"]
)
def test_package_show_hidden_or_unknown_is_404(client, catalogue, wanted):
    failed(call(client, "package_show", id=wanted), 404, "Not Found Error")


def test_package_show_of_a_hidden_dataset_by_uuid_is_404(client, catalogue):
    hidden = str(catalogue["restreint"].id)
    failed(call(client, "package_show", id=hidden), 404, "Not Found Error")


def test_package_show_without_id_is_a_validation_error(client):
    error = failed(call(client, "package_show"), 409, "Validation Error")
    assert error["id"] == ["Missing value"]


def test_package_matches_udata_ckan_schema(client, catalogue):
    """The keys and types data.gouv.fr's CKAN harvester (udata-ckan) insists on."""
    package = ok(call(client, "package_show", id="qualite-air"))
    for key in ("id", "name", "title", "license_id", "metadata_created", "metadata_modified"):
        assert isinstance(package[key], str)
    assert package["type"] == "dataset" and isinstance(package["private"], bool)
    assert all({"id", "name"} <= set(tag) for tag in package["tags"])
    organization = package["organization"]
    for key in ("id", "description", "created", "title", "name", "revision_timestamp",
                "state", "image_url", "revision_id"):  # fmt: skip
        assert isinstance(organization[key], str), key
    for resource in package["resources"]:
        assert isinstance(resource["description"], str) and isinstance(resource["created"], str)
        assert resource["resource_type"] in (None, "file", "api")
        assert resource["hash"] is None and resource["size"] is None
    assert all(isinstance(e["value"], str) for e in package["extras"])


# --- package_search: text ----------------------------------------------------------------------


@pytest.mark.parametrize("q", ["déchets", "dechets", "DÉCHETS", "Dechet", "waste", "müllabfuhr"])
def test_q_ignores_accents_and_case_in_every_language(client, catalogue, q):
    assert names(search(client, q=q)) == ["dechets"]


def test_q_words_must_all_match(client, catalogue):
    assert names(search(client, q="qualité air")) == ["qualite-air"]
    assert search(client, q="qualité déchets")["count"] == 0


def test_q_never_finds_hidden_datasets(client, catalogue):
    result = search(client, q="déchets", rows=100)
    assert names(result) == ["dechets"] and result["count"] == 1


def test_q_with_fields_is_a_query(client, catalogue):
    assert names(search(client, q="tags:pollution")) == ["qualite-air"]
    assert sorted(names(search(client, q="organization:ville-test AND -tags:déchets"))) == [
        "demarches", "qualite-air"]  # fmt: skip


def test_score_puts_title_matches_first(client, catalogue):
    # "Démarches" is in one title and in another dataset's... nowhere else; "air" is
    # a title word of one dataset and a description word of another.
    dataset = catalogue["demarches"]
    services.change(dataset, description={"fr": "Démarches, y compris la qualité de l'air."})
    assert names(search(client, q="air"))[0] == "qualite-air"
    assert set(names(search(client, q="air"))) == {"qualite-air", "demarches"}


def test_empty_q_finds_everything_visible(client, catalogue):
    for q in ("", "*:*"):
        assert search(client, q=q)["count"] == 4


# --- package_search: fq -----------------------------------------------------------------------


@pytest.mark.parametrize(("fq", "expected"), [
    ("tags:déchets", ["dechets"]),
    ("tags:DECHETS", ["dechets"]),
    ('tags:"services publics"', ["demarches"]),
    ("organization:bus-co", ["arrets-bus"]),
    ("license_id:odbl-1.0", ["qualite-air"]),
    ("res_format:GeoJSON", ["arrets-bus", "dechets", "qualite-air"]),
    ("res_format:geojson -groups:envi", ["arrets-bus"]),
    ("groups:heal", ["qualite-air"]),
    ("groups:(gove OR tran)", ["arrets-bus", "demarches"]),
    ("name:dechets", ["dechets"]),
    ("name:d*", ["dechets", "demarches"]),
    ("title:air", ["qualite-air"]),
    ("organization:bus-co OR organization:nobody", ["arrets-bus"]),
    ("+dataset_type:dataset +state:active capacity:public", ["arrets-bus", "dechets",
                                                             "demarches", "qualite-air"]),
    ("NOT organization:ville-test", ["arrets-bus"]),
    ("*:*", ["arrets-bus", "dechets", "demarches", "qualite-air"]),
])  # fmt: skip
def test_fq_fields(client, catalogue, fq, expected):
    assert names(search(client, fq=fq, sort="name asc")) == expected


def test_fq_owner_org_and_id(client, catalogue):
    dataset = catalogue["arrets-bus"]
    assert names(search(client, fq=f"owner_org:{dataset.organisation_id}")) == ["arrets-bus"]
    assert names(search(client, fq=f"id:{dataset.id}")) == ["arrets-bus"]


def test_fq_list(client, catalogue):
    result = search(client, fq="groups:envi", fq_list=json.dumps(["tags:air"]))
    assert names(result) == ["qualite-air"]


@pytest.mark.parametrize(("fq", "expected"), [
    ("metadata_modified:[2026-01-11T00:00:00Z TO *]", ["arrets-bus", "demarches", "qualite-air"]),
    ("metadata_modified:[* TO 2026-01-11T12:00:00Z]", ["dechets", "qualite-air"]),
    ("metadata_modified:{* TO 2026-01-11T12:00:00Z}", ["dechets"]),
    ("metadata_modified:[2026-01-11T12:00:00.000001Z TO 2026-01-12T12:00:00Z]", ["demarches"]),
    ("metadata_modified:[2026-01-11 TO 2026-01-12]", ["qualite-air"]),
    ("metadata_modified:[2026-01-10T00:00:00Z/DAY+1DAY TO *]", ["arrets-bus", "demarches",
                                                                "qualite-air"]),
    ("metadata_modified:[* TO NOW]", ["arrets-bus", "dechets", "demarches", "qualite-air"]),
    ("metadata_modified:[NOW-1DAY TO NOW]", []),
    ("metadata_created:[NOW-1HOUR TO NOW+1HOUR]", ["arrets-bus", "dechets", "demarches",
                                                   "qualite-air"]),
])  # fmt: skip
def test_fq_metadata_modified_ranges(client, catalogue, fq, expected):
    assert names(search(client, fq=fq, sort="name asc")) == expected


@pytest.mark.parametrize("fq", [
    "tags:(déchets", "metadata_modified:[2026-01-01 TO", "metadata_modified:[2026 TO *]",
    "metadata_modified:[yesterday TO *]", "metadata_modified:[NOW-1FORTNIGHT TO *]",
    "unknown_field:x", "name:[a TO b]", "tags:", "organization:x OR", '"never closed',
    "tags:a)",
])  # fmt: skip
def test_malformed_fq_is_a_search_query_error(client, catalogue, fq):
    error = failed(call(client, "package_search", fq=fq), 400, "Search Query Error")
    assert error["message"].startswith("Search Query is invalid")


# --- package_search: sort, paging, facets -----------------------------------------------------


def test_default_sort_is_score_then_newest(client, catalogue):
    result = search(client)
    assert names(result) == ["arrets-bus", "demarches", "qualite-air", "dechets"]
    assert result["sort"] == "score desc, metadata_modified desc"


@pytest.mark.parametrize(("sort", "expected"), [
    ("name asc", ["arrets-bus", "dechets", "demarches", "qualite-air"]),
    ("name desc", ["qualite-air", "demarches", "dechets", "arrets-bus"]),
    ("metadata_modified asc", ["dechets", "qualite-air", "demarches", "arrets-bus"]),
    ("title_string asc", ["arrets-bus", "dechets", "demarches", "qualite-air"]),
    ("score desc, metadata_modified desc", ["arrets-bus", "demarches", "qualite-air",
                                            "dechets"]),
])  # fmt: skip
def test_sort(client, catalogue, sort, expected):
    assert names(search(client, sort=sort)) == expected


def test_sort_by_id_as_the_ckan_harvester_asks(client, catalogue):
    result = search(client, sort="id asc")
    assert [p["id"] for p in result["results"]] == sorted(p["id"] for p in result["results"])


@pytest.mark.parametrize("sort", ["name", "name up", "colour asc", "name asc,", "name asc x"])
def test_bad_sort_is_a_search_query_error(client, sort):
    error = failed(call(client, "package_search", sort=sort), 400, "Search Query Error")
    assert 'Invalid "sort" parameter' in error["message"]


def test_rows_and_start(client, catalogue):
    first = search(client, sort="name asc", rows=2)
    second = search(client, sort="name asc", rows=2, start=2)
    assert names(first) == ["arrets-bus", "dechets"] and names(second) == [
        "demarches",
        "qualite-air",
    ]
    assert first["count"] == second["count"] == 4
    assert search(client, rows=0) == {**search(client, rows=0), "results": [], "count": 4}
    assert search(client, start=10)["results"] == []


def test_default_rows_is_ten(client, catalogue, monkeypatch):
    monkeypatch.setattr(ckan, "ROWS_DEFAULT", 3)
    assert len(search(client)["results"]) == 3


def test_rows_over_the_maximum_are_capped_as_ckan(client, catalogue, monkeypatch):
    monkeypatch.setattr(ckan, "ROWS_MAX", 2)
    result = search(client, rows=5000)
    assert len(result["results"]) == 2 and result["count"] == 4


@pytest.mark.parametrize(("name", "value", "message"), [
    ("rows", "ten", "Invalid integer"), ("rows", "-1", "Must be a natural number"),
    ("start", "1.5", "Invalid integer"), ("facet.field", "tags", "Could not parse as valid JSON"),
    ("facet.field", '"tags"', "Not a list"), ("facet.limit", "x", "Invalid integer"),
])  # fmt: skip
def test_bad_numbers_are_validation_errors(client, name, value, message):
    error = failed(call(client, "package_search", **{name: value}), 409, "Validation Error")
    assert error[name] == [message]


def test_unknown_search_parameter_is_refused(client):
    error = failed(call(client, "package_search", colour="red"), 400, "Search Query Error")
    assert "colour" in error["message"]


def test_facets(client, catalogue):
    fields = ["tags", "organization", "license_id", "res_format", "groups"]
    result = search(client, rows=0, **{"facet.field": json.dumps(fields)})
    facets = result["search_facets"]
    assert set(facets) == set(fields)
    organizations = {i["name"]: i for i in facets["organization"]["items"]}
    assert organizations["ville-test"] == {"name": "ville-test", "display_name": "Ville de Test",
                                           "count": 3}  # fmt: skip
    formats = {i["name"]: i["count"] for i in facets["res_format"]["items"]}
    assert formats == {"CSV": 4, "JSON": 4, "GeoJSON": 3}
    groups = {i["name"]: i["count"] for i in facets["groups"]["items"]}
    assert groups == {"envi": 2, "heal": 1, "gove": 1, "tran": 1}
    licences = facets["license_id"]["items"]
    assert {i["name"] for i in licences} == {"etalab-2.0", "odbl-1.0", "cc-by-4.0"}
    assert all(i["display_name"] != i["name"] for i in licences)
    assert result["facets"]["res_format"] == formats
    # CKAN orders facet items by display name, descending.
    displays = [i["display_name"] for i in facets["tags"]["items"]]
    assert displays == sorted(displays, reverse=True)


def test_facets_follow_the_filters_and_limits(client, catalogue):
    params = {"fq": "organization:ville-test", "facet.field": '["groups"]', "facet.limit": "1"}
    items = search(client, **params)["search_facets"]["groups"]["items"]
    assert items == [{"name": "envi", "display_name": items[0]["display_name"], "count": 2}]
    params = {"facet.field": '["groups"]', "facet.mincount": "2"}
    assert [i["name"] for i in search(client, **params)["search_facets"]["groups"]["items"]] == [
        "envi"]  # fmt: skip
    assert search(client)["search_facets"] == {}


def test_unknown_facet_field_is_refused(client):
    failed(call(client, "package_search", **{"facet.field": '["colour"]'}), 400,
           "Search Query Error")  # fmt: skip


def test_fl_limits_the_fields(client, catalogue):
    result = search(client, fl="id,name", sort="name asc", rows=1)
    assert result["results"] == [{"id": str(catalogue["arrets-bus"].id), "name": "arrets-bus"}]


def test_search_results_are_full_packages(client, catalogue):
    package = search(client, q="dechets")["results"][0]
    assert package == ok(call(client, "package_show", id="dechets"))


def test_search_follows_catalogue_changes(client, catalogue):
    assert search(client, q="poubelles")["count"] == 0
    services.change(catalogue["dechets"], keywords=["poubelles"])
    assert names(search(client, q="poubelles")) == ["dechets"]
    services.change(catalogue["dechets"], access="restricted")
    assert search(client, q="poubelles")["count"] == 0
    services.withdraw(catalogue["demarches"])
    assert search(client)["count"] == 2
    Organisation.objects.using(DB).filter(slug="bus-co").update(
        name="Transports", updated_at=timezone.now()
    )
    result = search(client, **{"facet.field": '["organization"]'})
    displays = {i["display_name"] for i in result["search_facets"]["organization"]["items"]}
    assert "Transports" in displays


# --- Harvesters --------------------------------------------------------------------------------


def harvest(client: Client, fq_terms: list[str], rows: int = 2) -> list[dict]:
    """Page through package_search as ckanext-harvest's CKAN harvester does."""
    params = {"rows": str(rows), "start": "0", "sort": "id asc"}
    if fq_terms:
        params["fq"] = " ".join(fq_terms)
    packages, seen, previous = [], set(), None
    while True:
        response = client.get(f"{API}package_search?{urlencode(params)}")
        assert response.status_code == 200
        content = response.content
        assert content != previous, "the paging does not move"
        previous = content
        page = json.loads(content).get("result", {}).get("results", [])
        packages.extend(p for p in page if p["id"] not in seen)
        seen |= {p["id"] for p in page}
        if not page:
            return packages
        params["start"] = str(int(params["start"]) + int(params["rows"]))


def test_ckan_harvester_gathers_everything(client, catalogue):
    gathered = harvest(client, [])
    assert sorted(p["name"] for p in gathered) == ok(call(client, "package_list"))


def test_ckan_harvester_gathers_changes_since_its_last_run(client, catalogue):
    last_run = datetime(2026, 1, 12, 13, 0, 0, 123456) - timedelta(hours=1)
    since = f"metadata_modified:[{last_run.isoformat()}Z TO *]"
    assert [p["name"] for p in harvest(client, [since])] == ["arrets-bus"]


def test_ckan_harvester_organisation_filters(client, catalogue):
    include = "organization:bus-co OR organization:other"
    since = "metadata_modified:[2026-01-01T00:00:00Z TO *]"
    assert [p["name"] for p in harvest(client, [include, since])] == ["arrets-bus"]
    excluded = harvest(client, ["-organization:bus-co", "-groups:heal"])
    assert sorted(p["name"] for p in excluded) == ["dechets", "demarches"]


def test_udata_filters_in_q(client, catalogue):
    # udata's CKAN harvester puts its filters in q, joined by AND, rows=1000.
    result = search(client, q="organization:ville-test AND tags:déchets", rows=1000)
    assert names(result) == ["dechets"]


# --- Organisations, groups, licences, help -----------------------------------------------------


def test_organization_list(client, catalogue):
    organisation("empty", "Aaa Empty Publisher")
    assert ok(call(client, "organization_list")) == ["empty", "bus-co", "ville-test"]
    assert ok(call(client, "organization_list", sort="name asc")) == ["bus-co", "empty",
                                                                      "ville-test"]  # fmt: skip
    assert ok(call(client, "organization_list", sort="package_count", limit=1)) == ["ville-test"]


def test_organization_list_all_fields(client, catalogue):
    listed = ok(call(client, "organization_list", all_fields="true"))
    town = next(o for o in listed if o["name"] == "ville-test")
    assert town["package_count"] == 3  # the restricted and unpublished ones are not counted
    assert town["title"] == town["display_name"] == "Ville de Test"
    assert town["is_organization"] is True and town["type"] == "organization"
    assert {"id", "created", "description", "image_url", "state", "approval_status"} <= set(town)


def test_organization_list_bad_input(client):
    failed(call(client, "organization_list", sort="colour"), 409, "Validation Error")
    failed(call(client, "organization_list", all_fields="maybe"), 409, "Validation Error")


def test_organization_show(client, catalogue):
    shown = ok(call(client, "organization_show", id="bus-co"))
    assert shown["title"] == "Bus Company" and shown["package_count"] == 1
    by_id = ok(call(client, "organization_show", id=shown["id"]))
    assert by_id["name"] == "bus-co"
    failed(call(client, "organization_show", id="nobody"), 404, "Not Found Error")


def test_group_list(client, catalogue):
    assert "envi" in ok(call(client, "group_list"))
    groups = {g["name"]: g for g in ok(call(client, "group_list", all_fields="1"))}
    assert groups["envi"]["package_count"] == 2 and groups["agri"]["package_count"] == 0


def test_license_list(client):
    licences = {lic["id"]: lic for lic in ok(call(client, "license_list"))}
    assert licences["etalab-2.0"]["title"].startswith("Licence Ouverte")
    assert licences["etalab-2.0"]["od_conformance"] == "approved"
    assert licences["other-closed"]["is_okd_compliant"] is False
    assert {"id", "title", "url", "status"} <= set(licences["odbl-1.0"])


def test_help_show(client):
    assert "open datasets" in ok(call(client, "help_show", name="package_search")).lower()
    failed(call(client, "help_show", name="package_delete"), 404, "Not Found Error")
    failed(call(client, "help_show"), 409, "Validation Error")


# --- The query language, directly --------------------------------------------------------------


def test_space_binds_looser_than_or():
    node = ckan.parse("organization:a OR organization:b metadata_modified:[* TO NOW]")
    assert isinstance(node, ckan.And) and isinstance(node.nodes[0], ckan.Or)


def test_and_binds_tighter_than_or():
    node = ckan.parse("tags:a AND tags:b OR tags:c")
    assert isinstance(node, ckan.Or) and isinstance(node.nodes[0], ckan.And)


def test_date_math():
    now = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    assert ckan.moment("NOW-1MONTH", now) == datetime(2026, 2, 28, 15, 30, tzinfo=UTC)
    assert ckan.moment("NOW/DAY", now) == datetime(2026, 3, 31, tzinfo=UTC)
    assert ckan.moment("NOW-7DAYS/DAY", now) == datetime(2026, 3, 24, tzinfo=UTC)
    assert ckan.moment("2026-01-01T00:00:00Z+1YEAR", now) == datetime(2027, 1, 1, tzinfo=UTC)
    assert ckan.moment("2026-01-01T10:20:30.1234567Z", now).microsecond == 123456


# --- Scale ------------------------------------------------------------------------------------


def test_five_thousand_datasets_search_quickly(client, django_assert_max_num_queries):
    publisher = organisation()
    now = timezone.now()
    Dataset.objects.using(DB).bulk_create(
        Dataset(
            identifier=f"jeu-{n:04d}", organisation=publisher,
            title={"fr": f"Jeu numéro {n} sur l'énergie", "en": f"Energy set {n}"},
            description={"fr": "Consommation électrique des bâtiments communaux " * 3},
            themes=["ENER"], keywords=["énergie", f"lot-{n % 50}"], licence="etalab-2.0",
            source="communes", issued=now,
        )
        for n in range(5000)
    )  # fmt: skip
    params = {"q": "energie batiments", "fq": "tags:lot-7 metadata_modified:[* TO NOW]",
              "rows": "10", "facet.field": '["tags","res_format"]'}  # fmt: skip
    first = search(client, **params)  # builds the index once
    assert first["count"] == 100
    with django_assert_max_num_queries(2):  # speed itself is measured by bench/opendata.py
        for _ in range(5):
            result = search(client, **params)
    assert result == first
    everything = search(client, q="energie", rows=10)
    assert everything["count"] == 5000
