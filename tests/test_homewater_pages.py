"""/water/ pages, the /api/v1/water/me API and "my data": a household's water is
seen by its members only; agents allocate meters without reading consumption."""

from __future__ import annotations

import numbers
import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.personal.homewater import services
from alzette.personal.homewater.models import DailyUse, MeterAllocation, Reading, Warning
from alzette.personal.households.services import create_household
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


# The home fixture's daily uses and meter index: none may reach an agent's page.
_CONSUMPTION = {str(250 + n) for n in range(1, 31)} | {"123456", "123 456", "123\u202f456"}


def _visible_numbers(html: str) -> set[str]:
    """Numbers a reader sees: attributes (ids, tokens) and tags stripped."""
    text = re.sub(r"<[^>]*>", " ", html)
    return set(re.findall(r"\d+(?:[ \u202f]\d{3})*", text))


def _json_numbers(data: object) -> list[object]:
    """Every number in a JSON-like structure (ids and timestamps are strings)."""
    if isinstance(data, dict):
        return [n for value in data.values() for n in _json_numbers(value)]
    if isinstance(data, (list, tuple)):
        return [n for value in data for n in _json_numbers(value)]
    return [data] if isinstance(data, numbers.Number) and not isinstance(data, bool) else []


def _client(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def home(citizen, territory):
    household = create_household("57038", "AUD-0001", members=[citizen])
    services.allocate_meter(household, "W26-000001", "system:test",
                            starts_on=date(2026, 1, 1), persons=2)  # fmt: skip
    today = timezone.localdate()
    for n in range(1, 31):
        DailyUse.objects.create(household=household, day=today - timedelta(days=n), litres=250 + n)
    Reading.objects.create(household=household, serial="W26-000001", at=timezone.now(),
                           index_litres=123456, litres=12)  # fmt: skip
    services.raise_warning(household, "leak", timezone.now() - timedelta(hours=26),
                           {"min_litres_per_hour": 5.0}, serial="W26-000001")  # fmt: skip
    return household


@pytest.fixture
def neighbour(territory):
    household = create_household("54580", "VIL-0001", members=[UserFactory(email="n@example.org")])
    services.allocate_meter(household, "W26-000002", "system:test", starts_on=date(2026, 1, 1))
    DailyUse.objects.create(household=household, day=timezone.localdate(), litres=4242)
    warning = services.raise_warning(household, "abnormal", timezone.now(), {"litres": 4242})
    return household, warning


def test_anonymous_visitors_are_sent_to_log_in(territory):
    for path in ("/water/", "/water/agents/"):
        response = _client().get(path)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_citizen_sees_their_own_consumption_only(citizen, home, neighbour):
    response = _client(citizen).get("/water/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-serial="W26-000001"' in html
    assert html.count('<rect class="hw-bar"') == 30 + 12
    assert 'data-kind="leak"' in html and 'data-open="1"' in html
    assert "W26-000002" not in html and "4242" not in _visible_numbers(html)
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_citizen_without_meter_or_household_is_told_why(citizen, territory):
    response = _client(citizen).get("/water/")
    assert 'id="hw-none"' in response.content.decode()
    create_household("57038", "AUD-0009", members=[citizen])
    response = _client(citizen).get("/water/")
    assert 'id="hw-no-meter"' in response.content.decode()


def test_agents_do_not_read_consumption(agent_audun, home):
    assert _client(agent_audun).get("/water/").status_code == 403


def test_marking_a_warning_seen(citizen, home, neighbour):
    warning = Warning.objects.get(household=home)
    client = _client(citizen)
    assert client.post(f"/water/warnings/{warning.pk}/seen/").status_code == 302
    warning.refresh_from_db()
    assert warning.seen_at is not None
    other = neighbour[1]
    assert client.post(f"/water/warnings/{other.pk}/seen/").status_code == 404
    other.refresh_from_db()
    assert other.seen_at is None


def test_an_agent_allocates_a_meter_in_their_commune_only(agent_audun, home, neighbour):
    client = _client(agent_audun)
    listing = client.get("/water/agents/")
    assert listing.status_code == 200 and "AUD-0001" in listing.content.decode()
    assert "VIL-0001" not in listing.content.decode()
    page = client.get(f"/water/agents/{home.pk}/")
    assert page.status_code == 200
    assert not _CONSUMPTION.intersection(_visible_numbers(page.content.decode()))  # no consumption
    bad = client.post(f"/water/agents/{home.pk}/", {"serial": "nope", "persons": 2})
    assert bad.status_code == 400
    ok = client.post(f"/water/agents/{home.pk}/", {"serial": "W26-000050", "persons": 3,
                                                    "starts_on": "2026-06-01"})  # fmt: skip
    assert ok.status_code == 302
    assert services.current_meter(home).serial == "W26-000050"
    assert client.get(f"/water/agents/{neighbour[0].pk}/").status_code == 404
    assert (
        client.post(
            f"/water/agents/{neighbour[0].pk}/", {"serial": "W26-000051", "persons": 1}
        ).status_code
        == 404
    )
    assert MeterAllocation.objects.filter(serial="W26-000051").count() == 0


def test_citizens_cannot_use_the_agents_pages(citizen, home):
    assert _client(citizen).get("/water/agents/").status_code == 403
    assert _client(citizen).get(f"/water/agents/{home.pk}/").status_code == 403


# --- API --------------------------------------------------------------------------------


def test_api_me_returns_the_households_own_data(citizen, home, neighbour):
    response = _client(citizen, HTTP_ACCEPT="application/json").get("/api/v1/water/me")
    assert response.status_code == 200
    data = response.json()
    assert data["meter"]["serial"] == "W26-000001"
    assert len(data["days"]) == 30 and len(data["months"]) == 12
    assert data["comparison"]["litres_per_person_day"] is not None
    assert [w["kind"] for w in data["warnings"]] == ["leak"]
    assert 4242 not in _json_numbers(data)


def test_api_me_without_meter_is_a_404_problem(citizen, territory):
    response = _client(citizen).get("/api/v1/water/me")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_api_refuses_agents_and_anonymous(agent_audun, administrator, home):
    assert _client(agent_audun).get("/api/v1/water/me").status_code == 403
    assert _client(administrator).get("/api/v1/water/me").status_code == 403
    assert _client().get("/api/v1/water/me").status_code == 401


def test_api_marks_only_the_households_own_warnings_seen(citizen, home, neighbour):
    client = _client(citizen)
    mine = Warning.objects.get(household=home)
    response = client.post(f"/api/v1/water/me/warnings/{mine.pk}/seen")
    assert response.status_code == 200 and response.json()["seen_at"]
    other = neighbour[1]
    assert client.post(f"/api/v1/water/me/warnings/{other.pk}/seen").status_code == 404
    assert client.post("/api/v1/water/me/warnings/not-a-uuid/seen").status_code in (404, 422)


# --- My data ----------------------------------------------------------------------------


def test_my_data_exports_the_water_and_erasure_removes_it(citizen, home, neighbour):
    from alzette.personal.mydata import services as mydata

    data = mydata.collect(citizen)
    assert data["water_meters"][0]["serial"] == "W26-000001"
    assert len(data["water_daily_use"]) == 30
    assert data["water_readings"][0]["index_litres"] == 123456
    assert data["water_warnings"][0]["kind"] == "leak"
    assert 4242 not in _json_numbers(data)
    mydata.erase_account(citizen)
    assert not DailyUse.objects.filter(household_id=home.pk).exists()
    assert not Reading.objects.filter(household_id=home.pk).exists()
    assert not Warning.objects.filter(household_id=home.pk).exists()
    assert DailyUse.objects.filter(household=neighbour[0]).exists()


def test_the_dashboard_widget(citizen, home):
    from alzette.personal.homewater.widgets import MyWaterWidget

    widget = MyWaterWidget()
    assert widget.available(citizen)
    context = widget.context(citizen, None)
    assert context["week"] == sum(250 + n for n in range(1, 8))
    assert [w.kind for w in context["open"]] == ["leak"]
    assert not widget.available(UserFactory(email="nobody@example.org"))
