"""The agents' repairs pages in a real browser at 360 px: the map draws the open
repairs, the repair page plans and closes, both pass axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alzette.territory.lighting.repairs import services
from alzette.territory.lighting.repairs.models import Repair
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_lighting_repairs import make_lamp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def test_the_repairs_pages_at_360_px(page, live_server, agent_audun, axe):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.set_viewport_size({"width": 360, "height": 740})
    make_lamp()
    repair = services.report_by_agent("57038-001", "lampOut", actor=services.Actor(agent=True))
    log_in_agent(page, live_server, agent_audun, "/hypervision/lighting/repairs/")
    page.wait_for_selector("#repairs-map[data-features-drawn]")
    assert page.get_attribute("#repairs-map", "data-features-drawn") == "1"
    assert page.locator("#open-repairs tbody tr[data-source=agent]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []

    page.click(f"#open-repairs a[href$='/{repair.pk}/']")
    page.wait_for_selector("#plan-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []
    page.fill("#id_team", "Équipe éclairage")
    page.fill("#id_planned_for", (timezone.localdate() + timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    assert page.get_attribute("#repair", "data-status") == "scheduled"
    page.select_option("#id_outcome", "lamp_replaced")
    with page.expect_navigation():
        page.click("#close-form button[type=submit]")
    assert page.get_attribute("#repair", "data-status") == "repaired"
    assert Repair.objects.using("territory").get().status == "repaired"
    assert wcag_violations(axe, page) == []


# --- The citizens' map picker -------------------------------------------------------------------

NEAR_THE_SECOND = {"latitude": 49.4741, "longitude": 5.9831}


def _open_the_picker(page) -> None:
    page.click("#id-f-lamp-picker-toggle")
    assert page.get_attribute("#id-f-lamp-picker-toggle", "aria-expanded") == "true"
    page.wait_for_selector("#id-f-lamp-picker[data-candidates]")


def _first_choice(page) -> str:
    return page.get_attribute("#id-f-lamp-picker-list li:first-child button", "data-value")


def test_a_citizen_picks_the_lamp_on_the_map_at_360_px(
    page, live_server, procedures, axe, django_capture_on_commit_callbacks
):
    from alzette.personal.procedures.models import Dossier
    from alzette.territory.events.models import TerritoryEvent
    from tests.test_browser_procedures import _start

    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.set_viewport_size({"width": 360, "height": 740})
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(NEAR_THE_SECOND)
    make_lamp()
    make_lamp("57038-002", lon=5.9830, lat=49.4740)
    _start(page, live_server, "signalement-eclairage")
    # The field is there as ever; the picker is an addition the script shows.
    assert page.is_visible("#id-f-lamp") and page.is_visible("#id-f-lamp-picker-toggle")
    assert page.is_hidden("#id-f-lamp-picker-panel")
    assert wcag_violations(axe, page) == []

    _open_the_picker(page)
    # Centred on the reader's position: the lamp next to them comes first in the list.
    page.wait_for_function(
        "document.querySelector('#id-f-lamp-picker-list li button')?.dataset.value === '57038-002'"
    )
    assert page.locator("#id-f-lamp-picker-map path.pr-picker-marker").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []

    # The keyboard route: a button of the list of the nearest.
    page.focus("#id-f-lamp-picker-list button[data-value='57038-002']")
    page.keyboard.press("Enter")
    assert page.input_value("#id-f-lamp") == "57038-002"
    assert page.is_hidden("#id-f-lamp-picker-panel")
    assert page.evaluate("document.activeElement.id") == "id-f-lamp-picker-toggle"
    assert "57038-002" in page.text_content("#id-f-lamp-picker-status")

    # Changing one's mind on the map: a marker.
    _open_the_picker(page)
    page.locator("#id-f-lamp-picker-map path.pr-picker-marker[data-value='57038-001']").click()
    assert page.input_value("#id-f-lamp") == "57038-001"

    page.select_option("#id-f-problem", "off")
    with django_capture_on_commit_callbacks(execute=True), page.expect_navigation():
        page.click("button[name=action][value=submit]")
    dossier = Dossier.objects.get()
    assert dossier.status == "submitted" and dossier.answers["lamp"] == "57038-001"
    event = TerritoryEvent.objects.using("territory").get()
    assert event.asset_ref == "urn:ngsi-ld:Streetlight:streetlight-57038-001"
    repair = Repair.objects.using("territory").get()
    assert (repair.source, repair.event_id) == ("citizen", event.pk)


def test_without_the_position_the_map_shows_the_territory(page, live_server, procedures, axe):
    from tests.test_browser_procedures import _start

    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.set_viewport_size({"width": 360, "height": 740})
    make_lamp()
    _start(page, live_server, "signalement-eclairage")  # geolocation not granted
    _open_the_picker(page)
    assert _first_choice(page) == "57038-001"
    assert page.get_attribute("#id-f-lamp-picker", "data-candidates") == "1"
    # Escape closes the map and gives the focus back to its button.
    page.focus("#id-f-lamp-picker-list button")
    page.keyboard.press("Escape")
    assert page.is_hidden("#id-f-lamp-picker-panel")
    assert page.evaluate("document.activeElement.id") == "id-f-lamp-picker-toggle"
    assert page.input_value("#id-f-lamp") == ""
