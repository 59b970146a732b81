"""The developer portal's pages: registering, applications and their credentials, sharing,
the access log and communities, each with the right and the wrong person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.personal.accounts.models import PartnerOrganisation, Role
from alzette.territory.catalogue import services as catalogue
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners import services
from alzette.territory.partners.models import AccessLog, App, Community, Credential, Grant
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"


@pytest.fixture
def ccphva():
    return Organisation.objects.using(DB).create(
        slug="ccphva", name="CCPHVA", kind=Organisation.Kind.PUBLIC
    )


@pytest.fixture
def shared(ccphva):
    return catalogue.publish(
        ccphva,
        "bacs",
        title={"fr": "Bacs"},
        licence="etalab-2.0",
        source="communes",
        source_options={},
        access=Dataset.Access.COMMUNITY,
    )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _app(slug="lorraine-data", name="Tableau"):
    org = Organisation.objects.using(DB).get(slug=slug)
    return services.register_app(org, name, scopes=["datasets:read"])[0]


def test_the_portal_asks_to_sign_in():
    response = Client().get("/developers/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_citizen_registers_an_organisation_and_becomes_its_partner(citizen):
    client = _client(citizen)
    assert 'href="/developers/register/"' in client.get("/developers/").content.decode()
    response = client.post(
        "/developers/register/",
        {
            "name": "Mobi'Lab",
            "kind": "startup",
            "siret": "",
            "description": "Covoiturage",
            "url": "",
            "contact_email": "contact@mobilab.example",
        },
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.role == Role.PARTNER
    assert citizen.partner_organisation.organisation_slug == "mobilab"
    assert Organisation.objects.using(DB).get(slug="mobilab").kind == "startup"
    assert client.get("/developers/register/").status_code == 403  # once


def test_a_bad_registration_is_refused_and_nothing_is_written(citizen):
    response = _client(citizen).post(
        "/developers/register/", {"name": "X", "kind": "public", "siret": "123"}
    )
    assert response.status_code == 400
    assert not Organisation.objects.using(DB).exists()
    assert not PartnerOrganisation.objects.exists()


def test_agents_do_not_register_organisations(agent_epci):
    assert _client(agent_epci).get("/developers/register/").status_code == 403


def test_an_app_is_created_with_its_secret_shown_once(developer):
    client = _client(developer)
    response = client.post(
        "/developers/apps/new/",
        {"name": "Tableau", "environment": "sandbox", "scopes": ["datasets:read", "context:read"]},
    )
    assert response.status_code == 201
    app = App.objects.using(DB).get()
    page = response.content.decode()
    assert app.client_id in page
    secret = response.context["secret"]
    assert secret in page and secret not in app.client_secret_hash
    assert secret not in client.get(f"/developers/apps/{app.pk}/").content.decode()


def test_a_bad_app_is_refused(developer):
    response = _client(developer).post(
        "/developers/apps/new/", {"name": "", "environment": "x", "scopes": ["everything"]}
    )
    assert response.status_code == 400
    assert not App.objects.using(DB).exists()


def test_keys_are_issued_shown_once_and_revoked(developer):
    app = _app()
    client = _client(developer)
    response = client.post(f"/developers/apps/{app.pk}/keys/", {"label": "serveur"})
    assert response.status_code == 201
    token = response.context["new_key"]
    assert token.startswith("alzp_") and token in response.content.decode()
    key = Credential.objects.using(DB).get(app=app)
    assert token not in client.get(f"/developers/apps/{app.pk}/").content.decode()
    client.post(f"/developers/apps/{app.pk}/keys/{key.prefix}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_app_page_charts_its_usage(developer):
    app = _app()
    _, token = services.issue_key(app)
    Client().get("/api/v1/territory/datasets", HTTP_AUTHORIZATION=f"Bearer {token}")
    page = _client(developer).get(f"/developers/apps/{app.pk}/")
    assert page.context["usage"][-1][1] == 1
    assert "<svg" in page.content.decode()


def test_secret_rotation_and_revocation(developer):
    app = _app()
    client = _client(developer)
    old = app.client_secret_hash
    assert client.post(f"/developers/apps/{app.pk}/secret/").status_code == 200
    app.refresh_from_db()
    assert app.client_secret_hash != old
    assert client.post(f"/developers/apps/{app.pk}/revoke/").status_code == 302
    app.refresh_from_db()
    assert app.revoked_at is not None
    assert client.post(f"/developers/apps/{app.pk}/keys/").status_code == 403


def test_someone_elses_app_does_not_exist(developer, citizen):
    app = _app()
    other = _client(citizen)
    assert other.get(f"/developers/apps/{app.pk}/").status_code == 404
    assert other.post(f"/developers/apps/{app.pk}/keys/").status_code == 404
    assert other.post(f"/developers/apps/{app.pk}/revoke/").status_code == 404
    assert not Credential.objects.using(DB).exists()
    assert other.get("/developers/apps/new/").status_code == 403


def test_an_agent_shares_a_dataset_with_a_partner(agent_epci, developer, shared):
    client = _client(agent_epci)
    assert client.get("/developers/sharing/").status_code == 200
    today = timezone.localdate()
    response = client.post(
        "/developers/sharing/",
        {
            "subject": "dataset:bacs",
            "grantee": "organisation:lorraine-data",
            "purpose": "Optimiser les tournées",
            "starts": today.isoformat(),
            "ends": (today + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    grant = Grant.objects.using(DB).get()
    assert (grant.dataset_id, grant.organisation.slug) == (shared.pk, "lorraine-data")
    assert grant.actor == agent_epci.pseudonym
    assert "Optimiser" in _client(developer).get("/developers/").content.decode()
    assert client.post(f"/developers/sharing/{grant.pk}/revoke/").status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_a_bad_share_is_refused(agent_epci, developer, shared):
    today = timezone.localdate()
    response = _client(agent_epci).post(
        "/developers/sharing/",
        {
            "subject": "dataset:bacs",
            "grantee": "organisation:lorraine-data",
            "purpose": "",
            "starts": today.isoformat(),
            "ends": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert not Grant.objects.using(DB).exists()


def test_a_partner_cannot_share_or_revoke_the_epcis_data(agent_epci, developer, shared):
    today = timezone.localdate()
    response = _client(developer).post(
        "/developers/sharing/",
        {
            "subject": "dataset:bacs",
            "grantee": "organisation:ccphva",
            "purpose": "x",
            "starts": today.isoformat(),
            "ends": today.isoformat(),
        },
    )
    assert response.status_code == 400  # not among the choices it is offered
    grant = services.share(
        Organisation.objects.using(DB).get(slug="ccphva"),
        dataset=shared,
        organisation=Organisation.objects.using(DB).get(slug="lorraine-data"),
        purpose="Étude",
        ends_at=timezone.now() + timedelta(days=2),
    )
    assert _client(developer).post(f"/developers/sharing/{grant.pk}/revoke/").status_code == 404
    assert _client(UserFactory(role=Role.CITIZEN)).get("/developers/sharing/").status_code == 403


def test_owners_see_who_accessed_their_data(agent_epci, developer, shared):
    ccphva = Organisation.objects.using(DB).get(slug="ccphva")
    services.share(
        ccphva,
        dataset=shared,
        purpose="Étude",
        organisation=Organisation.objects.using(DB).get(slug="lorraine-data"),
        ends_at=timezone.now() + timedelta(days=2),
    )
    _, token = services.issue_key(_app())
    Client().get("/api/v1/territory/datasets/bacs", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert AccessLog.objects.using(DB).count() == 1
    page = _client(agent_epci).get("/developers/accesses/", {"subject": "bacs"})
    assert page.status_code == 200
    assert "Lorraine Data (Tableau)" in page.content.decode()
    mine = _client(developer).get("/developers/accesses/")  # its own organisation's data only
    assert "Tableau" not in mine.content.decode()


def test_agents_run_communities(agent_epci, developer, citizen):
    client = _client(agent_epci)
    response = client.post(
        "/developers/communities/",
        {"slug": "mobilite", "name": "Mobilité", "members": ["lorraine-data"]},
    )
    assert response.status_code == 302
    community = Community.objects.using(DB).get()
    assert [o.slug for o in community.members.all()] == ["lorraine-data"]
    client.post("/developers/communities/", {"slug": "mobilite", "name": "Mobilité"})
    assert community.members.count() == 0
    assert client.post("/developers/communities/", {"slug": "bad slug!"}).status_code == 400
    assert _client(developer).get("/developers/communities/").status_code == 403
    assert _client(citizen).post("/developers/communities/", {"slug": "x"}).status_code == 403


def test_the_demo_links_the_partner_and_shares_a_dataset(territory, monkeypatch):
    from alzette.personal.accounts.services import DEMO_PARTNER
    from alzette.personal.developers.demo import link_demo_partner
    from alzette.territory.partners import demo, sandbox

    Organisation.objects.using(DB).create(slug="ccphva", name="CCPHVA")
    PartnerOrganisation.objects.create(name=DEMO_PARTNER)
    real_seed = sandbox.seed
    monkeypatch.setattr(sandbox, "seed", lambda: real_seed(hours=1))
    assert demo.ensure_demo_partners() == 4 * sandbox.PER_THEME
    assert demo.ensure_demo_partners() == 0
    assert link_demo_partner() == 1
    assert PartnerOrganisation.objects.get(name=DEMO_PARTNER).organisation_slug == demo.SLUG
    grant = Grant.objects.using(DB).get()
    assert (grant.dataset.identifier, grant.community.slug) == (demo.SHARED, demo.COMMUNITY)
    assert grant.dataset.access == Dataset.Access.COMMUNITY


def test_an_agent_acting_for_several_bodies_says_which_shares_a_scope(
    agent_epci, developer, shared
):
    Organisation.objects.using(DB).create(slug="sandbox", name="Bac à sable", kind="public")
    client = _client(agent_epci)
    today = timezone.localdate()
    data = {"subject": "scope:context:read", "grantee": "organisation:lorraine-data",
            "purpose": "Tableau de bord", "starts": today.isoformat(),
            "ends": (today + timedelta(days=3)).isoformat()}  # fmt: skip
    assert client.post("/developers/sharing/", data).status_code == 400
    assert client.post("/developers/sharing/", {**data, "on_behalf": "ccphva"}).status_code == 302
    assert Grant.objects.using(DB).get().granted_by.slug == "ccphva"
