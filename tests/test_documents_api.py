"""/api/v1/territory/documents and /api/v1/territory/search: every endpoint with good
input, bad input and the wrong persona."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from alzette.territory.documents import services
from alzette.territory.documents.models import Document, DocumentLink
from tests import test_documents_samples as samples
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

BASE = "/api/v1/territory/documents"
PROBLEM = "application/problem+json"
AUDUN, VILLERUPT = "57038", "54580"
BUILDING = "urn:ngsi-ld:Building:12"


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    return samples.use_document_store(settings, tmp_path)


def client_for(user=None, **kwargs) -> Client:
    client = Client(HTTP_ACCEPT="application/json", **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def form(content=None, name="plan.pdf", **fields):
    content = samples.pdf("Plan de rénovation énergétique") if content is None else content
    data = {"licence": "etalab-2.0", "language": "fr", "communes": [AUDUN], **fields}
    data["file"] = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return data


def publish(actor, content=None, name="doc.pdf", **metadata):
    metadata.setdefault("licence", "etalab-2.0")
    metadata.setdefault("language", "fr")
    metadata.setdefault("communes", [AUDUN])
    content = samples.pdf("Rapport d'activité") if content is None else content
    return services.publish(io.BytesIO(content), name, actor=actor, **metadata)


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if code:
        assert body["code"] == code
        assert body["type"].endswith("/documents/" + code.replace("_", "-"))
    return body


# --- Upload ---------------------------------------------------------------------------------


def test_an_agent_uploads_a_document(agent_audun, store):
    response = client_for(agent_audun).post(
        BASE,
        form(
            title="Plan de rénovation",
            description="Écoles et gymnases",
            author="Service technique",
            publisher="Mairie d'Audun-le-Tiche",
            issued="2026-03-01",
            public="false",
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    document = Document.objects.get()
    assert body["id"] == str(document.pk)
    assert body["urn"] == f"urn:ngsi-ld:Document:{document.pk}"
    assert body["media_type"] == "application/pdf" and body["format"] == "PDF"
    assert body["licence"] == "etalab-2.0"
    assert body["licence_url"] == "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    assert body["communes"] == [AUDUN]
    assert body["issued"] == "2026-03-01" and body["public"] is False
    assert body["technical"]["page_count"] == 1
    assert body["download_url"] == f"{BASE}/{document.pk}/file"
    assert body["abilities"] == {
        "view": True,
        "download": True,
        "update": True,
        "delete": True,
        "link": True,
    }
    assert len(samples.stored_files(store)) == 1


def test_communes_may_come_as_one_comma_separated_field(agent_epci):
    response = client_for(agent_epci).post(BASE, form(communes=f"{AUDUN}, {VILLERUPT}"))
    assert response.status_code == 201
    assert response.json()["communes"] == [VILLERUPT, AUDUN]


@pytest.mark.parametrize(
    ("content", "name", "status", "code"),
    [
        (b"", "vide.pdf", 422, "empty"),
        (b"<html></html>", "page.html", 415, "unsupported_type"),
        (samples.image("PNG"), "photo.pdf", 422, "type_mismatch"),
        (samples.corrupt_pdf(), "casse.pdf", 422, "corrupt"),
        (samples.encrypted_pdf(), "secret.pdf", 422, "encrypted"),
    ],
)
def test_bad_files_are_problems_and_leave_nothing(agent_audun, store, content, name, status, code):
    response = client_for(agent_audun).post(BASE, form(content, name), HTTP_ACCEPT_LANGUAGE="en")
    assert_problem(response, status, code)
    assert Document.objects.count() == 0
    assert samples.stored_files(store) == []


def test_too_large_is_413(agent_audun, settings, store):
    settings.ALZETTE_DOCUMENTS_MAX_BYTES = 100
    response = client_for(agent_audun).post(BASE, form())
    assert_problem(response, 413, "too_large")
    assert samples.stored_files(store) == []


def test_a_duplicate_is_409_and_names_the_existing_document(agent_audun):
    client = client_for(agent_audun)
    first = client.post(BASE, form()).json()
    body = assert_problem(client.post(BASE, form()), 409, "duplicate")
    assert body["document"] == first["id"]


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"licence": "WTFPL"}, ["form", "licence"]),
        ({"language": "es"}, ["form", "language"]),
        ({"issued": "yesterday"}, ["form", "issued"]),
        ({"title": "x" * 301}, ["form", "title"]),
        ({"title": "a\x00b"}, ["form", "title"]),
        ({"communes": ["99999"]}, ["form", "communes"]),
    ],
)
def test_bad_metadata_is_422_with_the_field(agent_audun, store, fields, location):
    response = client_for(agent_audun).post(BASE, form(**fields))
    body = assert_problem(response, 422)
    assert location in [error["location"][-2:] for error in body["errors"]]
    assert samples.stored_files(store) == []


def test_a_missing_file_or_licence_is_422(agent_audun):
    client = client_for(agent_audun)
    data = form()
    del data["file"]
    assert_problem(client.post(BASE, data), 422)
    data = form()
    del data["licence"]
    assert_problem(client.post(BASE, data), 422)


def test_upload_needs_a_writer(citizen, partner, agent_audun, store):
    assert_problem(client_for().post(BASE, form()), 401)
    for persona in (citizen, partner):
        assert_problem(client_for(persona).post(BASE, form()), 403)
    # An agent of Audun-le-Tiche may not publish for Villerupt.
    assert_problem(client_for(agent_audun).post(BASE, form(communes=[VILLERUPT])), 403)
    assert samples.stored_files(store) == []


def test_upload_with_a_session_needs_the_csrf_token(agent_audun):
    client = client_for(agent_audun, enforce_csrf_checks=True)
    assert_problem(client.post(BASE, form()), 403)
    assert Document.objects.count() == 0


# --- Reading ---------------------------------------------------------------------------------


@pytest.fixture
def documents(agent_audun, agent_epci):
    return {
        "public": publish(
            agent_audun, samples.pdf("Conseil municipal"), "conseil.pdf", title="Conseil municipal"
        ),
        "private": publish(
            agent_epci,
            samples.docx("Note interne"),
            "note.docx",
            title="Note interne",
            public=False,
            communes=[],
        ),
        "german": publish(
            agent_epci,
            samples.odt("Windpark"),
            "wind.odt",
            language="de",
            licence="CC-BY-4.0",
            title="Windpark",
            communes=[VILLERUPT],
        ),
    }


def titles(response):
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["results"])


def test_listing_shows_public_documents_to_all_and_the_rest_to_agents(
    documents, citizen, agent_villerupt
):
    assert titles(client_for().get(BASE)) == ["Conseil municipal", "Windpark"]
    assert titles(client_for(citizen).get(BASE)) == ["Conseil municipal", "Windpark"]
    assert titles(client_for(agent_villerupt).get(BASE)) == [
        "Conseil municipal",
        "Note interne",
        "Windpark",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"language": "de"}, ["Windpark"]),
        ({"licence": "CC-BY-4.0"}, ["Windpark"]),
        ({"commune": AUDUN}, ["Conseil municipal"]),
        ({"media_type": "application/pdf"}, ["Conseil municipal"]),
        ({"limit": 1, "offset": 5}, []),
    ],
)
def test_listing_filters(documents, params, expected):
    assert titles(client_for().get(BASE, params)) == expected


def test_listing_by_linked_entity(documents, agent_audun):
    services.link(documents["public"], BUILDING, "refRenovationFile", actor=agent_audun)
    response = client_for().get(BASE, {"entity": BUILDING})
    assert titles(response) == ["Conseil municipal"]
    [link] = response.json()["results"][0]["links"]
    assert (link["entity"], link["relationship"]) == (BUILDING, "refRenovationFile")
    assert titles(client_for().get(BASE, {"relationship": "refPermit"})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"language": "xx"},
        {"licence": "MIT"},
        {"commune": "123"},
        {"media_type": "text/html"},
        {"entity": "not a uri"},
        {"relationship": "bad name"},
        {"limit": 0},
        {"limit": 1000},
        {"offset": -1},
    ],
)
def test_listing_refuses_bad_filters(params):
    assert_problem(client_for().get(BASE, params), 422)


def test_one_documents_metadata(documents, citizen, agent_audun, agent_villerupt):
    public, private = documents["public"], documents["private"]
    body = client_for().get(f"{BASE}/{public.pk}").json()
    assert body["title"] == "Conseil municipal"
    assert body["abilities"] == dict.fromkeys(
        ("view", "download", "update", "delete", "link"), False
    ) | {"view": True, "download": True}
    assert "text" not in body
    assert (
        client_for(agent_villerupt).get(f"{BASE}/{public.pk}").json()["abilities"]["update"]
        is False
    )
    assert client_for(agent_audun).get(f"{BASE}/{public.pk}").json()["abilities"]["update"]
    # Non-public: the same 404 as no document at all, except for agents.
    assert_problem(client_for(citizen).get(f"{BASE}/{private.pk}"), 404)
    assert client_for(agent_villerupt).get(f"{BASE}/{private.pk}").status_code == 200
    assert_problem(client_for().get(f"{BASE}/00000000-0000-0000-0000-000000000000"), 404)
    assert client_for().get(f"{BASE}/not-a-uuid").status_code == 404


def test_download_streams_the_file_with_its_type_and_name(documents, agent_audun):
    document = documents["public"]
    response = client_for().get(f"{BASE}/{document.pk}/file")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == services.open_file(document).read()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(document.size)
    assert response["Content-Disposition"] == (
        "attachment; filename=\"conseil.pdf\"; filename*=UTF-8''conseil.pdf"
    )
    assert response["ETag"] == f'"{document.sha256}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("public")
    inline = client_for().get(f"{BASE}/{document.pk}/file", {"disposition": "inline"})
    assert inline["Content-Disposition"].startswith("inline;")
    again = client_for().get(
        f"{BASE}/{document.pk}/file", HTTP_IF_NONE_MATCH=f'"{document.sha256}"'
    )
    assert again.status_code == 304


def test_download_of_a_private_document(documents, citizen, agent_villerupt):
    url = f"{BASE}/{documents['private'].pk}/file"
    assert_problem(client_for(citizen).get(url), 404)
    response = client_for(agent_villerupt).get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert_problem(client_for().get(url, {"disposition": "attachment; x"}), 422)


# --- Changing and deleting ----------------------------------------------------------------------


def test_an_agent_changes_metadata(documents, agent_audun):
    document = documents["public"]
    response = client_for(agent_audun).patch(
        f"{BASE}/{document.pk}",
        {"title": "Conseil du 3 mars", "licence": "CC-BY-SA-4.0", "issued": None},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["licence"], body["issued"]) == (
        "Conseil du 3 mars",
        "CC-BY-SA-4.0",
        None,
    )
    assert body["language"] == "fr"  # untouched


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": None},
        {"licence": "MIT"},
        {"language": "es"},
        {"unknown": 1},
        {"communes": ["99999"]},
        {"public": "perhaps"},
    ],
)
def test_bad_changes_are_422(documents, agent_audun, body):
    document = documents["public"]
    response = client_for(agent_audun).patch(
        f"{BASE}/{document.pk}", body, content_type="application/json"
    )
    assert_problem(response, 422)
    document.refresh_from_db()
    assert document.title == "Conseil municipal"


def test_changes_need_the_right_agent(documents, citizen, agent_villerupt):
    url = f"{BASE}/{documents['public'].pk}"
    body = {"title": "x"}
    assert_problem(client_for().patch(url, body, content_type="application/json"), 401)
    assert_problem(client_for(citizen).patch(url, body, content_type="application/json"), 403)
    assert_problem(
        client_for(agent_villerupt).patch(url, body, content_type="application/json"), 403
    )
    private = f"{BASE}/{documents['private'].pk}"
    assert_problem(client_for(citizen).patch(private, body, content_type="application/json"), 404)


def test_delete(documents, citizen, agent_villerupt, agent_audun):
    url = f"{BASE}/{documents['public'].pk}"
    assert_problem(client_for().delete(url), 401)
    assert_problem(client_for(citizen).delete(url), 403)
    assert_problem(client_for(agent_villerupt).delete(url), 403)
    assert client_for(agent_audun).delete(url).status_code == 204
    assert_problem(client_for(agent_audun).delete(url), 404)
    assert_problem(client_for().get(url), 404)


# --- Links ---------------------------------------------------------------------------------------


def test_link_and_unlink(documents, agent_audun, agent_villerupt, citizen):
    document = documents["public"]
    url = f"{BASE}/{document.pk}/links"
    body = {"entity": BUILDING, "relationship": "refRenovationFile"}
    assert_problem(client_for().post(url, body, content_type="application/json"), 401)
    assert_problem(client_for(citizen).post(url, body, content_type="application/json"), 403)
    assert_problem(
        client_for(agent_villerupt).post(url, body, content_type="application/json"), 403
    )
    client = client_for(agent_audun)
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["entity"], created["relationship"]) == (BUILDING, "refRenovationFile")
    assert_problem(client.post(url, body, content_type="application/json"), 409, "link_exists")
    link_url = f"{url}/{created['id']}"
    assert_problem(client_for(agent_villerupt).delete(link_url), 403)
    assert client.delete(link_url).status_code == 204
    assert_problem(client.delete(link_url), 404)
    assert not DocumentLink.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"entity": "not a uri", "relationship": "refPermit"},
        {"entity": BUILDING, "relationship": "9lives"},
        {"entity": BUILDING, "relationship": "type"},
        {"entity": BUILDING},
        {"entity": "urn:x:" + "y" * 300, "relationship": "refPermit"},
    ],
)
def test_bad_links_are_422(documents, agent_audun, body):
    url = f"{BASE}/{documents['public'].pk}/links"
    response = client_for(agent_audun).post(url, body, content_type="application/json")
    assert_problem(response, 422)


# --- Search ---------------------------------------------------------------------------------------


def test_document_search(documents, citizen, agent_audun):
    response = client_for().get(f"{BASE}/search", {"q": "conseil"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [hit] = body["results"]
    assert hit["document"]["title"] == "Conseil municipal"
    assert "<mark>" in hit["snippet"] and 0 < hit["score"] < 1
    assert client_for(citizen).get(f"{BASE}/search", {"q": "note interne"}).json()["count"] == 0
    response = client_for(agent_audun).get(f"{BASE}/search", {"q": "note interne"})
    assert response.json()["count"] == 1
    response = client_for().get(f"{BASE}/search", {"q": "windpark", "lang": "de"})
    assert response.json()["count"] == 1
    response = client_for().get(f"{BASE}/search", {"q": "windpark", "language": "fr"})
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "x" * 201}, {"q": "a\x00b"}, {"q": "x", "lang": "es"}, {"q": "   "}],
)
def test_bad_searches_are_422(params):
    assert_problem(client_for().get(f"{BASE}/search", params), 422)


def test_unified_search(documents):
    response = client_for().get("/api/v1/territory/search", {"q": "conseil windpark or"})
    assert response.status_code == 200
    body = response.json()
    assert body["failed_sources"] == []
    response = client_for().get("/api/v1/territory/search", {"q": "windpark", "limit": 5})
    [hit] = response.json()["hits"]
    document = documents["german"]
    assert hit == {
        "source": "documents",
        "type": "Document",
        "id": document.urn,
        "title": "Windpark",
        "snippet": hit["snippet"],
        "score": hit["score"],
        "url": f"{BASE}/{document.pk}",
    }
    assert client_for().get(hit["url"]).status_code == 200
    # Non-public documents never appear, whoever asks.
    assert client_for().get("/api/v1/territory/search", {"q": "note"}).json()["hits"] == []
    for params in ({"q": ""}, {"q": "x", "limit": 0}, {"q": "x", "lang": "xx"}):
        assert_problem(client_for().get("/api/v1/territory/search", params), 422)


def test_the_api_description_documents_the_endpoints(api_client):
    paths = api_client.get("/api/v1/openapi.json").json()["paths"]
    upload = paths[BASE]["post"]
    assert set(upload["responses"]) >= {"201", "401", "403", "409", "413", "415", "422"}
    assert "multipart/form-data" in upload["requestBody"]["content"]
    download = paths[BASE + "/{document_id}/file"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
    assert "/api/v1/territory/search" in paths
