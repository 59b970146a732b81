"""The service store's pages: good input, bad input and the wrong role for each."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.sso.models import Consent
from alzette.personal.store.models import Activation, Service, Status
from tests.conftest import ALL_DATABASES
from tests.factories import store_provider, store_service
from tests.test_sso import _sso_settings, register, sso_signing_key

SHARED_FIXTURES = (_sso_settings, sso_signing_key)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user=None, **options) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def labs(units, partner):
    return store_provider(
        "labs", "private_general_interest", organisation=partner.partner_organisation
    )


@pytest.fixture
def covoiturage(labs):
    registration = register("https://covoit.example.org", "Covoiturage")
    return store_service(
        labs,
        "covoiturage",
        application=registration.application,
        redirect_uris="https://covoit.example.org/oidc/callback",
        name={"fr": "Covoiturage frontalier", "de": "Fahrgemeinschaften"},
    )


def _form(provider, **overrides) -> dict:
    data = {
        "provider": str(provider.pk),
        "slug": "velos-partages",
        "name_fr": "Vélos partagés",
        "name_de": "Leihfahrräder",
        "summary_fr": "Des vélos en libre-service.",
        "description_fr": "Stations dans les huit communes.",
        "theme": "mobility",
        "web_url": "https://velos.example.org/",
        "redirect_uris": "https://velos.example.org/oidc/callback",
        "scopes": ["profile"],
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Browsing ---------------------------------------------------------------------


def test_anyone_browses_searches_and_filters(covoiturage, labs):
    store_service(labs, "cache", status=Status.DRAFT)
    html = _client().get("/services/?q=frontalier&theme=mobility", **EN).content.decode()
    assert "Covoiturage frontalier" in html and "1 service" in html and "cache" not in html
    german = _client().get("/services/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Fahrgemeinschaften" in german
    filtered = _client().get("/services/?commune=57038", **EN).content.decode()
    assert "Covoiturage frontalier" in filtered  # a whole-territory service


@pytest.mark.parametrize("query", ["commune=99999", "theme=astrology", "q=" + "x" * 101])
def test_a_bad_filter_is_a_400_that_says_what_is_wrong(covoiturage, query):
    response = _client().get(f"/services/?{query}", **EN)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()


def test_a_service_outside_the_store_is_a_404_except_for_its_provider(labs, partner, citizen):
    store_service(labs, "draft", status=Status.DRAFT)
    assert _client(citizen).get("/services/draft/").status_code == 404
    assert _client().get("/services/draft/").status_code == 404
    page = _client(partner).get("/services/draft/", **EN)
    assert page.status_code == 200 and "Not in the store" in page.content.decode()


def test_the_provider_page_showcases_a_private_provider(covoiturage, labs):
    html = _client().get("/services/providers/labs/", **EN).content.decode()
    assert "store-showcase" in html and "Covoiturage frontalier" in html
    assert _client().get("/services/providers/nobody/").status_code == 404


# --- Activation ----------------------------------------------------------------------


def test_activation_lists_the_scopes_then_consents(citizen, covoiturage):
    anonymous = _client().get("/services/covoiturage/activate/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client = _client(citizen)
    page = client.get("/services/covoiturage/activate/", **EN).content.decode()
    assert 'data-scope="profile"' in page and 'data-scope="email"' in page
    response = client.post("/services/covoiturage/activate/")
    assert response.status_code == 302
    assert Consent.objects.get(user=citizen).scopes == ["openid", "profile", "email"]
    detail = client.get("/services/covoiturage/", **EN).content.decode()
    assert "Activated for you" in detail and "Deactivate" in detail
    client.post("/services/covoiturage/deactivate/")
    assert not Consent.objects.filter(user=citizen).exists()
    assert list(StoredReceipt.objects.values_list("kind", flat=True).order_by("created_at")) == [
        "consent.given",
        "consent.withdrawn",
    ]


def test_activation_needs_csrf_and_post(citizen, covoiturage):
    client = _client(citizen, enforce_csrf_checks=True)
    assert client.post("/services/covoiturage/activate/").status_code == 403
    assert client.get("/services/covoiturage/deactivate/").status_code == 405
    assert not Consent.objects.exists()


def test_an_unpublished_service_cannot_be_activated(citizen, labs):
    store_service(labs, "draft", status=Status.DRAFT)
    assert _client(citizen).post("/services/draft/activate/").status_code == 404
    assert not Activation.objects.exists()


# --- Providers --------------------------------------------------------------------------


def test_a_partner_proposes_a_service_with_a_logo(settings, tmp_path, partner, labs):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    logo = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(logo, format="PNG")
    logo.name = "logo.png"
    logo.seek(0)
    client = _client(partner)
    assert client.get("/services/manage/new/", **EN).status_code == 200
    response = client.post("/services/manage/new/", {**_form(labs), "logo_file": logo})
    assert response.status_code == 302
    service = Service.objects.get(slug="velos-partages")
    assert service.status == Status.DRAFT
    assert service.name == {"fr": "Vélos partagés", "de": "Leihfahrräder"}
    assert service.requested_scopes == "profile" and not service.signs_in
    assert client.get(f"/services/logos/{service.logo}")["Content-Type"] == "image/png"
    client.post("/services/manage/velos-partages/submit/")
    service.refresh_from_db()
    assert service.status == Status.SUBMITTED and service.submitted_by == partner


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name_fr": ""}, "name_fr"),
        ({"redirect_uris": "javascript:alert(1)"}, "redirect_uris"),
        ({"redirect_uris": "", "scopes": ["email"]}, "redirect_uris"),
        ({"slug": "manage"}, "slug"),
        ({"slug": "Pas Un Slug"}, "slug"),
        ({"web_url": "", "android_url": "", "ios_url": ""}, None),
        ({"theme": "astrology"}, "theme"),
    ],
)
def test_a_bad_proposal_says_what_is_wrong_and_writes_nothing(partner, labs, overrides, field):
    response = _client(partner).post("/services/manage/new/", _form(labs, **overrides), **EN)
    assert response.status_code == 400
    form = response.context["form"]
    assert (field in form.errors) if field else form.non_field_errors()
    assert not Service.objects.exists()


def test_a_logo_that_is_not_an_image_is_refused(partner, labs):
    upload = io.BytesIO(b"<svg onload='alert(1)'/>")
    upload.name = "logo.svg"
    response = _client(partner).post("/services/manage/new/", {**_form(labs), "logo_file": upload})
    assert response.status_code == 400 and "logo_file" in response.context["form"].errors
    assert not Service.objects.exists()


def test_a_partner_cannot_propose_for_another_provider(units, partner, labs):
    epci = store_provider("ccphva", "epci", unit_code="CCPHVA")
    response = _client(partner).post("/services/manage/new/", _form(epci))
    assert response.status_code == 400 and "provider" in response.context["form"].errors


@pytest.mark.parametrize("persona", ["citizen", "agent_villerupt"])
def test_people_who_provide_nothing_get_a_403(request, persona, labs):
    user = request.getfixturevalue(persona)
    client = _client(user)
    assert client.get("/services/manage/").status_code == 403
    assert client.get("/services/manage/new/").status_code == 403


def test_someone_else_s_service_cannot_be_edited_submitted_or_re_keyed(citizen, covoiturage, labs):
    store_service(labs, "draft", status=Status.DRAFT)
    client = _client(citizen)
    assert client.get("/services/manage/draft/edit/").status_code in (403, 404)
    assert client.post("/services/manage/draft/submit/").status_code == 404
    assert client.post("/services/manage/covoiturage/credentials/").status_code == 403
    assert Service.objects.get(slug="draft").status == Status.DRAFT


def test_the_provider_gets_a_new_client_secret_once(partner, covoiturage):
    response = _client(partner).post("/services/manage/covoiturage/credentials/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response.context["client_id"] == covoiturage.application.client_id
    assert len(response.context["secret"]) > 30


# --- Moderation ---------------------------------------------------------------------------


@pytest.fixture
def submitted(labs, partner):
    return store_service(
        labs,
        "soumis",
        status=Status.SUBMITTED,
        submitted_by=partner,
        redirect_uris="https://soumis.example.org/cb",
        requested_scopes="profile",
    )


def test_an_epci_agent_publishes_a_submission(agent_epci, submitted):
    client = _client(agent_epci)
    queue = client.get("/services/moderation/", **EN).content.decode()
    assert 'href="/services/moderation/soumis/"' in queue
    assert client.get("/services/moderation/soumis/").status_code == 200
    response = client.post("/services/moderation/soumis/", {"decision": "approve", "note": ""})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.PUBLISHED and submitted.signs_in
    assert submitted.moderated_by == agent_epci


def test_rejecting_without_a_note_is_refused(agent_epci, submitted):
    response = _client(agent_epci).post("/services/moderation/soumis/", {"decision": "reject"})
    assert response.status_code == 400 and "note" in response.context["form"].errors
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("persona", "queue", "review"),
    [("citizen", 403, 404), ("partner", 403, 403), ("agent_audun", 200, 404)],
)
def test_only_a_covering_moderator_reviews(request, submitted, persona, queue, review):
    client = _client(request.getfixturevalue(persona))
    assert client.get("/services/moderation/").status_code == queue
    response = client.post("/services/moderation/soumis/", {"decision": "approve"})
    assert response.status_code == review
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


@pytest.mark.parametrize(
    "name", ["../settings.py", "store/logos/x.png", "store/logos/" + "a" * 32 + ".png"]
)
def test_logo_names_are_checked(name):
    assert _client().get(f"/services/logos/{name}").status_code == 404
