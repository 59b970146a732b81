"""The developer portal in a real browser: a partner creates a sandbox application, copies
its secret and a key, sees its usage; an agent shares a dataset. Pages pass axe-core and
fit a phone."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.territory.catalogue import services as catalogue
from alzette.territory.catalogue.models import Dataset, Organisation
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
DB = "territory"


def test_a_partner_creates_an_app_and_a_key_and_calls_the_api(page, live_server, developer, axe):
    log_in(page, live_server, developer, "/developers/")
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("main a[href='/developers/apps/new/']")
    page.fill("#id_name", "Tableau de bord")
    page.check("input[name=scopes][value='datasets:read']")
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    secret = page.input_value("#client-secret")
    assert len(secret) > 30
    with page.expect_navigation():
        page.click("main form[action$='/keys/'] button[type=submit]")
    key = page.input_value("#new-key")
    assert key.startswith("alzp_")
    answer = Client().get("/api/v1/partners/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.json()["application"] == "Tableau de bord"
    page.goto(page.url.removesuffix("keys/"))  # the app's page: the key is not shown again
    assert page.locator("#new-key").count() == 0
    assert page.locator(".dev-chart rect.dev-served").count() == 14
    assert wcag_violations(axe, page) == []


@pytest.mark.parametrize("page", [{"viewport": (390, 844)}], indirect=True)
def test_an_agent_shares_a_dataset_on_a_phone(page, live_server, agent_epci, developer, axe):
    ccphva = Organisation.objects.using(DB).create(
        slug="ccphva", name="CCPHVA", kind=Organisation.Kind.PUBLIC
    )
    catalogue.publish(
        ccphva, "bacs", title={"fr": "Bacs"}, licence="etalab-2.0", source="communes",
        source_options={}, access=Dataset.Access.COMMUNITY,
    )  # fmt: skip
    log_in_agent(page, live_server, agent_epci, "/developers/sharing/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert wcag_violations(axe, page) == []
    page.select_option("#id_subject", "dataset:bacs")
    page.select_option("#id_grantee", "organisation:lorraine-data")
    page.fill("#id_purpose", "Optimiser les tournées")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "Optimiser les tournées" in page.locator("main table").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert wcag_violations(axe, page) == []


def test_an_agent_uploads_a_file_and_reads_what_to_correct(page, live_server, agent_epci, axe,
                                                          tmp_path):  # fmt: skip
    from tests.test_catalogue_uploads import SCHEMA, places

    ccphva = Organisation.objects.using(DB).create(
        slug="ccphva", name="CCPHVA", kind=Organisation.Kind.PUBLIC
    )
    catalogue.publish(
        ccphva, "covoiturage", title={"fr": "Covoiturage"}, licence="etalab-2.0",
        source="uploaded-file", source_options={"schema": SCHEMA},
    )  # fmt: skip
    wrong = tmp_path / "lieux.csv"
    wrong.write_bytes(places({"insee": "x"}))
    log_in_agent(page, live_server, agent_epci, "/data/covoiturage/upload/")
    assert wcag_violations(axe, page) == []
    page.set_input_files("#id_file", str(wrong))
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator("[role=alert]").count() == 1
    assert "insee" in page.locator("main table").inner_text()
    assert wcag_violations(axe, page) == []
