"""Every error under /api is problem+json, and bad input never writes anything."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.territory.geo import services
from alzette.territory.geo.models import TerritorialUnit
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PROBLEM = "application/problem+json"
LOCATE = "/api/v1/territory/locate"


def _assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


def test_unknown_route(api_client):
    body = _assert_problem(api_client.get("/api/v1/no/such/thing"), 404)
    assert body["instance"] == "/api/v1/no/such/thing"


def test_unknown_route_outside_versions(api_client):
    _assert_problem(api_client.get("/api/v2/territory/units"), 404)


def test_wrong_method(api_client):
    body = _assert_problem(api_client.delete(LOCATE), 405)
    assert "DELETE" in body["detail"]


def test_malformed_json(api_client):
    body = _assert_problem(
        api_client.post(LOCATE, "{not json", content_type="application/json"), 400
    )
    assert "Malformed JSON" in body["detail"] and "line 1" in body["detail"]


def test_body_not_utf8(api_client):
    _assert_problem(api_client.post(LOCATE, b"\xff\xfe{}", content_type="application/json"), 400)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type(api_client, content_type):
    response = api_client.post(LOCATE, '{"geometry": {}}', content_type=content_type)
    body = _assert_problem(response, 415)
    assert "application/json" in body["detail"]


def test_oversized_body(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = '{"geometry": {"type": "Point", "coordinates": [1, 2]}, "pad": "' + "x" * 2000 + '"}'
    _assert_problem(api_client.post(LOCATE, payload, content_type="application/json"), 413)


def test_validation_error_lists_fields(api_client):
    body = _assert_problem(
        api_client.post(LOCATE, {"crs": 5}, content_type="application/json"), 422
    )
    locations = [error["location"] for error in body["errors"]]
    assert ["body", "payload", "geometry"] in locations


def test_unexpected_error_is_500_without_stack_trace(monkeypatch, territory):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services, "locate", explode)
    client = Client(raise_request_exception=False)
    response = client.post(
        LOCATE,
        {"geometry": {"type": "Point", "coordinates": [6, 49.4]}},
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-42",
    )
    body = _assert_problem(response, 500)
    text = response.content.decode()
    assert "secret internal detail" not in text and "Traceback" not in text
    assert body["request_id"] == "req-42"


def test_bad_input_writes_nothing(api_client, territory):
    before = list(TerritorialUnit.objects.order_by("code").values_list("code", "updated_at"))
    for payload, content_type in [
        ("{", "application/json"),
        ("{}", "text/plain"),
        ('{"geometry": 1}', "application/json"),
    ]:
        assert api_client.post(LOCATE, payload, content_type=content_type).status_code >= 400
    after = list(TerritorialUnit.objects.order_by("code").values_list("code", "updated_at"))
    assert before == after


def test_errors_outside_the_api_stay_html(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "problem+json" not in response["Content-Type"]


def test_body_too_big_discovered_while_reading_is_413(api_client, monkeypatch):
    """A body whose size is only known once read (chunked) is refused, not a 500."""
    from django.core.exceptions import RequestDataTooBig

    def too_big(*args, **kwargs):
        raise RequestDataTooBig("too big")

    monkeypatch.setattr(services, "locate", too_big)
    response = api_client.post(
        LOCATE,
        {"geometry": {"type": "Point", "coordinates": [6, 49.4]}},
        content_type="application/json",
    )
    _assert_problem(response, 413)
