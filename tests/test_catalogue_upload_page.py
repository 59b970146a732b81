"""The page where a dataset's publisher sends a new file: checked, explained row by row
when refused, and only for the publisher's people."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from alzette.territory.catalogue import services
from alzette.territory.catalogue.models import DatasetFile, Organisation
from tests.conftest import ALL_DATABASES
from tests.test_catalogue_uploads import SCHEMA, places

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"


@pytest.fixture
def carpooling():
    ccphva = Organisation.objects.using(DB).create(slug="ccphva", name="CCPHVA", kind="public")
    return services.publish(
        ccphva, "covoiturage", title={"fr": "Lieux de covoiturage"}, licence="etalab-2.0",
        themes=["TRAN"], source="uploaded-file", source_options={"schema": SCHEMA},
    )  # fmt: skip


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _send(client, data: bytes, name: str = "lieux.csv"):
    return client.post("/data/covoiturage/upload/",
                       {"file": SimpleUploadedFile(name, data, "text/csv")})  # fmt: skip


def test_an_agent_publishes_a_valid_file(agent_epci, carpooling):
    client = _client(agent_epci)
    assert 'href="/data/covoiturage/upload/"' in client.get("/data/covoiturage/").content.decode()
    assert client.get("/data/covoiturage/upload/").status_code == 200
    response = _send(client, places({}, {"id_local": "AUD-02"}))
    assert response.status_code == 302
    stored = DatasetFile.objects.using(DB).get()
    assert (stored.row_count, stored.actor) == (2, agent_epci.pseudonym)
    page = client.get("/data/covoiturage/upload/").content.decode()
    assert "lieux.csv" in page


def test_a_refused_file_is_explained_and_changes_nothing(agent_epci, carpooling):
    client = _client(agent_epci)
    _send(client, places())
    response = _send(client, places({"insee": "not-a-code"}, {"nbre_pl": "-3"}), "faux.csv")
    assert response.status_code == 400
    problems = response.context["problems"]
    assert {p["field"] for p in problems} >= {"insee"}
    assert "insee" in response.content.decode()
    assert DatasetFile.objects.using(DB).get().filename == "lieux.csv"  # the previous one stays


def test_only_the_publishers_people_upload(citizen, developer, carpooling):
    for user in (citizen, developer):
        assert _client(user).get("/data/covoiturage/upload/").status_code == 404
        assert _send(_client(user), places()).status_code == 404
    assert "/upload/" not in _client(citizen).get("/data/covoiturage/").content.decode()
    assert Client().get("/data/covoiturage/upload/").status_code == 302  # sign in first
    assert not DatasetFile.objects.using(DB).exists()


def test_other_datasets_take_no_file(agent_epci, carpooling):
    services.publish(Organisation.objects.using(DB).get(slug="ccphva"), "communes",
                     title={"fr": "Communes"}, licence="etalab-2.0", source="communes",
                     source_options={})  # fmt: skip
    assert _client(agent_epci).get("/data/communes/upload/").status_code == 404
