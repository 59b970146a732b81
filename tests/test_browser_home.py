"""The home page in a real browser: the map draws the communes, languages switch."""

from __future__ import annotations

import pytest

from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

# The tile server is unreachable here: the communes must still be drawn.
BLOCKED_TILES = "**/tile.openstreetmap.org/**"


def _open_home(page, live_server):
    page.route(BLOCKED_TILES, lambda route: route.abort())
    page.goto(live_server.url + "/")
    page.wait_for_selector("#territory-map[data-communes-drawn]")


def test_home_map_draws_the_eight_communes(page, live_server, territory):
    _open_home(page, live_server)
    assert page.get_attribute("#territory-map", "data-communes-drawn") == "8"
    assert page.locator("#territory-map path.leaflet-interactive").count() == 8
    assert page.get_attribute("html", "lang") == "fr"


def test_switching_language_changes_the_page(page, live_server, territory):
    _open_home(page, live_server)
    french_title = page.locator("h1").inner_text()
    page.select_option("#language-select", "de")
    with page.expect_navigation():
        page.click(".language-switcher button[type=submit]")
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator("h1").inner_text() != french_title
    assert page.locator("label[for=language-select]").inner_text() == "Sprache"
    page.wait_for_selector("#territory-map[data-communes-drawn='8']")


@pytest.mark.parametrize(
    ("page", "expected"),
    [({"locale": "de-DE"}, "de"), ({"locale": "pt-PT"}, "pt"), ({"locale": "es-ES"}, "fr")],
    indirect=["page"],
)
def test_browser_language_is_honoured_and_french_is_the_fallback(
    page, live_server, territory, expected
):
    _open_home(page, live_server)
    assert page.get_attribute("html", "lang") == expected


@pytest.mark.parametrize("page", [{"viewport": (375, 740)}], indirect=True)
def test_home_fits_a_phone_screen(page, live_server, territory):
    _open_home(page, live_server)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375, "the page scrolls sideways on a phone"
    assert page.locator("#territory-map").bounding_box()["width"] <= 375


def test_skip_link_is_first_and_reaches_the_content(page, live_server, territory):
    _open_home(page, live_server)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
