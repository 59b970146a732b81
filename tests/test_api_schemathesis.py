"""Property-based API tests from the OpenAPI description (schemathesis).

Every operation is called with generated valid and invalid input: no 5xx, and
every response matches its documented status, content type and schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _load_schema():
    # pytest-django has set Django up before collection; the description itself
    # needs no database, the calls below do (the territory fixture).
    from alzette.conf.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


schema = _load_schema()


@pytest.fixture
def keep_test_connections():
    """Calls go through the real WSGI handler, which closes database connections at the
    end of each request; that would end the test's transaction (as Django's test client
    also prevents)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_description(case, territory, ledger_log, keep_test_connections):
    # A schema-valid geometry may still be geometrically invalid (a self-crossing
    # ring), which JSON Schema cannot express: such input is rightly answered 422.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_openapi_description_is_3_1(api_client):
    description = api_client.get("/api/v1/openapi.json").json()
    assert description["openapi"].startswith("3.1")
    assert "/api/v1/territory/locate" in description["paths"]
    responses = description["paths"]["/api/v1/territory/locate"]["post"]["responses"]
    assert set(responses) >= {"200", "400", "413", "415", "422", "500"}
    assert "application/problem+json" in responses["422"]["content"]


def test_interactive_docs_are_served_without_a_cdn(api_client):
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html
