"""The street lighting energy page, API and board widget: good input, bad input and
the wrong role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from alzette.territory.hypervision import widgets
from alzette.territory.lighting.energy import services
from alzette.territory.lighting.energy.models import CabinetNight, LampNight
from alzette.territory.lighting.energy.widgets import EnergySavedWidget
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
PAGE = "/hypervision/lighting/energy/"
API = "/api/v1/lighting/energy"


@pytest.fixture
def nights(territory):
    """Two lamps of Audun-le-Tiche and one of Villerupt, last night; a metered cabinet."""
    night = timezone.localdate() - timedelta(days=1)
    rows = LampNight.objects.using("territory")
    for lamp, commune, wh, rating in (("57038-001", "57038", 400.0, 50.0),
                                      ("57038-002", "57038", 300.0, 50.0),
                                      ("54580-001", "54580", 1200.0, 100.0)):  # fmt: skip
        rows.create(lamp_id=f"urn:ngsi-ld:Streetlight:streetlight-{lamp}", commune=commune,
                    night=night, energy_wh=wh, hours_on=14, covered_hours=14, reports=60,
                    rating_w=rating, night_hours=14.0, reference_wh=rating * 14)  # fmt: skip
    CabinetNight.objects.using("territory").create(
        cabinet_id="urn:ngsi-ld:StreetlightControlCabinet:cabinet-57038-1", commune="57038",
        night=night, energy_kwh=0.75, readings=60,
    )  # fmt: skip
    return night


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The page ------------------------------------------------------------------------------


def test_agents_see_the_savings(agent_villerupt, nights):
    response = _client(agent_villerupt).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="hv-nav"' in html
    assert 'id="energy-chart-title"' in html and "<svg" in html
    assert html.count('class="le-saved"') == 1  # one month with data
    # The territory: 1.9 kWh used, 2.8 kWh at full power.
    assert 'data-figure="saved-kwh"' in html
    month = f"{nights:%Y-%m}"
    assert f'<tr data-month="{month}" data-saved-kwh="0.9"' in html
    assert 'data-commune="57038" data-saved-kwh="0.7"' in html
    assert 'data-commune="54580" data-saved-kwh="0.2"' in html
    assert 'id="energy-communes-total"' in html


def test_the_filter_by_commune_and_month(agent_audun, nights):
    month = f"{nights:%Y-%m}"
    response = _client(agent_audun).get(PAGE, {"commune": "57038", "months": "6",
                                               "month": month})  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr data-month=") == 6
    assert f'<tr data-month="{month}" data-saved-kwh="0.7"' in html
    assert response.context["totals"].metered_kwh == 0.75


@pytest.mark.parametrize("query", [{"commune": "99999"}, {"months": "7"}, {"month": "2026-13"},
                                   {"month": "1999-01"}])  # fmt: skip
def test_a_bad_filter_is_explained(agent_audun, nights, query):
    response = _client(agent_audun).get(PAGE, query)
    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()


def test_citizens_and_partners_are_refused(citizen, partner, nights):
    assert _client(citizen).get(PAGE).status_code == 403
    assert _client(partner).get(PAGE).status_code == 403


def test_visitors_are_sent_to_log_in(nights):
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The API -------------------------------------------------------------------------------


def test_the_api_gives_months_with_figures(agent_audun, nights):
    response = _client(agent_audun).get(API, {"months": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["commune"], body["eur_per_kwh"], body["kg_co2_per_kwh"]) == ("", 0.2, 0.052)
    assert [m["month"] for m in body["months"]] == [
        f"{services.month_start(timezone.localdate(), 1):%Y-%m}",
        f"{timezone.localdate():%Y-%m}",
    ]
    month = next(m for m in body["months"] if m["month"] == f"{nights:%Y-%m}")
    assert month["actual_kwh"] == 1.9 and month["full_kwh"] == 2.8
    assert month["saved_kwh"] == pytest.approx(0.9) and month["saved_eur"] == pytest.approx(0.18)
    assert (month["lamps"], month["nights"], month["cabinets"]) == (3, 3, 1)
    assert (month["coverage"], month["low_coverage"]) == (1.0, False)
    assert (month["covered_hours"], month["night_hours"]) == (42.0, 42.0)
    one = _client(agent_audun).get(API, {"commune": "54580", "months": 1})
    assert one.status_code == 200, one.content
    one = one.json()
    assert one["commune"] == "54580" and one["months"][0]["actual_kwh"] in (0, 1.2)


@pytest.mark.parametrize("query", [{"months": 0}, {"months": 37}, {"months": "x"},
                                   {"commune": "5703"}, {"commune": "99999"}])  # fmt: skip
def test_the_api_refuses_bad_parameters(agent_audun, nights, query):
    response = _client(agent_audun).get(API, query)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_api_is_for_agents(citizen, nights):
    assert _client(citizen).get(API).status_code == 403
    assert Client().get(API).status_code == 401


def test_a_night_of_low_coverage_is_counted_and_flagged(agent_audun, territory):
    """A lamp that reported 3 h of a 14 h night: counted over those 3 h only, and the page,
    the API and the widget say the figures describe part of the night."""
    night = timezone.localdate() - timedelta(days=1)
    LampNight.objects.using("territory").create(
        lamp_id="urn:ngsi-ld:Streetlight:streetlight-57038-001", commune="57038", night=night,
        energy_wh=75.0, hours_on=3, covered_hours=3.0, reports=12, rating_w=50.0,
        night_hours=14.0, reference_wh=150.0,
    )  # fmt: skip
    month = f"{night:%Y-%m}"
    html = _client(agent_audun).get(PAGE, {"month": month}).content.decode()
    assert 'data-figure="coverage" data-low-coverage="true"' in html
    assert f'<tr data-month="{month}" data-saved-kwh="0.075" data-coverage="0.2143" ' in html
    assert 'data-commune="57038" data-saved-kwh="0.075" data-coverage="0.2143" ' in html
    assert 'class="le-partial"' in html
    body = _client(agent_audun).get(API, {"months": 2, "commune": "57038"}).json()
    [row] = [m for m in body["months"] if m["month"] == month]
    assert (row["saved_kwh"], row["full_kwh"], row["coverage"]) == (0.075, 0.15, 0.2143)
    assert (row["covered_hours"], row["night_hours"], row["low_coverage"]) == (3.0, 14.0, True)
    data = EnergySavedWidget().context(None, {"months": "6"})
    assert data["total"].low_coverage and data["total"].coverage == pytest.approx(3 / 14, abs=1e-4)
    widget = render_to_string(EnergySavedWidget.template_name, {"data": data, "n": 1})
    assert 'data-figure="coverage" data-low-coverage="true"' in widget


# --- The widget ----------------------------------------------------------------------------


def test_the_widget_draws_the_savings(settings, nights):
    widget = EnergySavedWidget()
    assert widget.theme == "lighting" and widget.clean_options({}) == {"months": "12"}
    widgets.reload()
    assert "lighting-energy-saved" in widgets.widgets()  # shipped in the default registry
    data = widget.context(None, {"months": "6"})
    assert data["total"].saved_kwh == pytest.approx(0.9)
    html = render_to_string(widget.template_name, {"data": data, "n": 3})
    assert 'id="hv-le3-svg-title"' in html and 'data-figure="saved-kwh"' in html
    assert html.count("<tr data-month=") == 6


def test_month_bounds():
    assert services.month_start(date(2026, 1, 15), 1) == date(2025, 12, 1)
    assert services.month_start(date(2026, 12, 15), -1) == date(2027, 1, 1)
