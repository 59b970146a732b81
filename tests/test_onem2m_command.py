"""`alzette onem2m`: keys, expiry and delivery rounds from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from alzette.territory.onem2m.models import Credential
from tests.conftest import ALL_DATABASES
from tests.onem2m_helpers import M2M, rsc

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("onem2m", *args, stdout=out)
    return out.getvalue()


def test_issue_list_and_revoke_a_key(settings):
    settings.ALZETTE_ONEM2M_OPEN = False
    output = run("issue-key", "Collectes Lorraine", "Cbins-*")
    key = output.strip().splitlines()[-1]
    assert key.startswith("m2m_")
    credential = Credential.objects.get()
    secret = key.split("_", 2)[2]  # the secret may hold "_" itself
    assert credential.secret_hash not in output and secret not in credential.secret_hash
    assert M2M(key=key).retrieve("alzette", origin="Cbins-1").status_code == 200
    assert f"{credential.prefix}  live" in run("keys")
    run("revoke-key", credential.prefix)
    assert rsc(M2M(key=key).retrieve("alzette", origin="Cbins-1")) == 4107
    assert "revoked" in run("keys")
    with pytest.raises(CommandError):
        run("revoke-key", credential.prefix)


def test_mqtt_needs_a_broker_url(settings):
    settings.ALZETTE_ONEM2M_MQTT_URL = ""
    with pytest.raises(CommandError, match="ALZETTE_ONEM2M_MQTT_URL"):
        run("mqtt")


def test_expire_and_deliver_rounds(settings):
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"
    assert "0 expired" in run("expire")
    assert "0 delivered, 0 failed" in run("deliver")


def test_oversized_body_is_a_oneM2M_error(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = M2M().create("alzette", 2, {"m2m:ae": {"api": "N" + "x" * 200, "rr": False}})
    assert rsc(response) == 4000


def test_jobs_are_registered():
    from alzette.core.jobs import jobs

    names = {job.name for job in jobs()}
    assert {"onem2m-notifications", "onem2m-expiry"} <= names
