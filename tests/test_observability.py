"""Probes, request ids, structured logs and metrics."""

from __future__ import annotations

import json
import logging

import pytest

from alzette.core import health
from alzette.core.logging import RequestIdFilter, logging_config
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_both_repositories(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"personal": "ok", "territory": "ok", "ledger": "ok"}


def test_readyz_reports_an_unavailable_repository(client, monkeypatch):
    real = health.repository_status
    monkeypatch.setattr(
        health,
        "repository_status",
        lambda alias: "unavailable" if alias == "territory" else real(alias),
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "personal": "ok",
        "territory": "unavailable",
        "ledger": "ok",
    }


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405


def test_request_id_is_generated_and_echoed(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"


def test_unsafe_request_id_is_replaced(client):
    echoed = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]
    assert echoed != "bad id\nwith newline" and len(echoed) == 32


def test_access_log_is_json_with_the_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="alzette.access")
    client.get("/healthz", HTTP_X_REQUEST_ID="trace-me")
    record = next(r for r in caplog.records if r.name == "alzette.access")
    assert record.status == 200 and record.path == "/healthz"
    from pythonjsonlogger.json import JsonFormatter

    spec = dict(logging_config("INFO", json_logs=True)["formatters"]["default"])
    spec.pop("()")
    line = JsonFormatter(**spec).format(_with_request_id(record))
    assert json.loads(line)["request_id"] == "trace-me"


def _with_request_id(record):
    # The filter reads the context variable, reset after the request: emulate it.
    from alzette.core.logging import request_id_var

    token = request_id_var.set("trace-me")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    return record


def test_metrics_exposition(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_metrics_token(client, settings):
    settings.ALZETTE_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.parametrize("header", ["s3cret-token", "Basic s3cret-token", "Bearer  wrong"])
def test_metrics_token_needs_the_bearer_scheme(client, settings, header):
    settings.ALZETTE_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401


def test_request_id_with_a_trailing_newline_is_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc\n")["X-Request-ID"] != "abc\n"
