"""The map picker of the broken-light report's form, server side: the field naming a
streetlight offers it (hidden until JavaScript shows it), with the public source of
candidates the bridge registered; other fields and kinds stay plain text fields; the form
still works without it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from alzette.personal.procedures import presenters, schema
from alzette.personal.procedures.models import Dossier
from tests.conftest import ALL_DATABASES
from tests.test_lighting_repairs import make_lamp

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def start(client: Client, slug: str) -> str:
    started = client.post(f"/procedures/{slug}/start/")
    assert started.status_code == 302, started.content
    return started["Location"]


def test_the_lamp_field_offers_the_map_picker(procedures, territory):
    client = Client()
    page = client.get(start(client, "signalement-eclairage"))
    html = page.content.decode()
    assert page.status_code == 200
    picker = re.search(r'<div class="pr-picker" id="id-f-lamp-picker"[^>]*>', html, re.S)
    assert picker is not None
    tag = picker.group(0)
    assert 'data-input="id-f-lamp"' in tag and 'data-source="/api/v1/lighting/poles"' in tag
    assert re.search(r"\shidden>$", tag)  # shown by the script only: no JavaScript, no button
    assert 'data-bbox="5.85,49.33,6.08,49.53"' in tag
    assert 'aria-controls="id-f-lamp-picker-panel"' in html
    assert "procedures/picker.js" in html
    # The text field itself is unchanged: the picker is an addition.
    assert re.search(r'<input type="text"[^>]*id="id-f-lamp" name="f-lamp"', html)
    assert html.count('class="pr-picker"') == 1  # the other fields have none


def test_without_javascript_the_number_is_typed_and_filed(
    procedures, territory, django_capture_on_commit_callbacks
):
    make_lamp()
    client = Client()
    url = start(client, "signalement-eclairage")
    with django_capture_on_commit_callbacks(execute=True):
        filed = client.post(url, {"f-lamp": "57038-001", "f-problem": "off", "action": "submit"})
    assert filed.status_code == 302
    assert Dossier.objects.get().answers["lamp"] == "57038-001"


def test_a_kind_without_a_registered_source_keeps_a_plain_field():
    field = {"key": "bin", "type": "text", "label": {"fr": "Bac"},
             "validation": {"asset": "WasteContainer"}}  # fmt: skip
    assert "WasteContainer" not in schema.ASSET_PICKERS
    assert presenters.asset_picker(field) == ""
    assert presenters.asset_picker({**field, "validation": {}}) == ""
    lamp = {**field, "validation": {"asset": "Streetlight"}}
    assert presenters.asset_picker(lamp) == "/api/v1/lighting/poles"
    view = presenters.field_views([lamp], {}, {}, {})[0]
    assert view["picker"] == "/api/v1/lighting/poles"
