"""Server-rendered pages: the home page and the language switcher."""

from __future__ import annotations

import pytest

from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_home_lists_the_communes(client, territory):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Audun-le-Tiche", "Villerupt", "Thil", "Russange", "Rédange"):
        assert name in html
    assert 'id="territory-features"' in html and "leaflet/leaflet.js" in html
    assert len(response.context["communes"]) == 8


def test_home_defaults_to_french(client, territory):
    html = client.get("/").content.decode()
    assert '<html lang="fr">' in html


@pytest.mark.parametrize("language", ["de", "lb", "en", "pt"])
def test_switching_language(client, territory, language):
    response = client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert f'<html lang="{language}">' in html


def test_home_without_territory_data_explains_what_to_do(client):
    html = client.get("/").content.decode()
    assert "alzette demo" in html


def test_home_refuses_post(client):
    assert client.post("/").status_code == 405


def test_login_page_uses_the_site_layout(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'class="language-switcher"' in html and 'href="#main"' in html
