"""`alzette ngsild`: keys, device mappings and the background rounds from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from alzette.territory.ngsild.models import ApiKey, DeviceMapping
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("ngsild", *args, stdout=out)
    return out.getvalue()


def test_issue_list_and_revoke_a_key(settings):
    settings.ALZETTE_NGSILD_OPEN = False
    key = run("issue-key", "Syndicat des eaux", "water").strip().rsplit(" ", 1)[-1]
    assert key.startswith("ngsild_")
    row = ApiKey.objects.get()
    assert key.split("_")[2] not in row.secret_hash
    entity = {"id": "urn:ngsi-ld:Meter:1", "type": "Meter", "volume": 3}
    assert NgsiLd(key=key, tenant="water").post("/entities", entity).status_code == 201
    assert f"{row.prefix}  write" in run("keys")
    run("revoke-key", row.prefix)
    assert "revoked" in run("keys")
    assert NgsiLd(key=key, tenant="water").post("/entities", entity).status_code == 401
    with pytest.raises(CommandError):
        run("revoke-key", row.prefix)


def test_read_only_keys(settings):
    settings.ALZETTE_NGSILD_OPEN = False
    run("issue-key", "Reuser", "--read-only")
    assert "read" in run("keys")


def test_define_and_list_mappings():
    output = run("map", "bins", "alzette/*/fill", "WasteContainer",
                 "urn:ngsi-ld:WasteContainer:{ae}", "fillingLevel", "--value-path", "level",
                 "--unit-code", "P1")  # fmt: skip
    assert "alzette/*/fill -> urn:ngsi-ld:WasteContainer:{ae}" in output
    assert DeviceMapping.objects.get().unit_code == "P1"
    assert "bins" in run("mappings")
    with pytest.raises(CommandError, match="invalid mapping"):
        run("map", "bad", "alzette/*/fill", "Bin", "not a uri", "fill")
    with pytest.raises(CommandError, match="not JSON"):
        run("map", "bad", "alzette/*/fill", "Bin", "urn:x:{ae}", "fill", "--context", "{nope")


def test_rounds(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"
    assert "0 delivered, 0 failed" in run("deliver")
    assert "0 periodic notifications queued" in run("periodic")
    assert "history retention applied" in run("retention")


def test_jobs_are_registered():
    from alzette.core.jobs import jobs

    names = {job.name for job in jobs()}
    assert {"ngsild-notifications", "ngsild-periodic", "ngsild-retention"} <= names
