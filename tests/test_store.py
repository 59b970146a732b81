"""The service store's domain: catalogue, abilities, activation, moderation, logos."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import translation
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from PIL import Image

from alzette.core.translated import pick, validate_translations
from alzette.personal.dashboard.widgets.connected import connected_services
from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.sso import services as sso
from alzette.personal.sso.models import Consent
from alzette.personal.store import services
from alzette.personal.store.models import Activation, Status
from tests.conftest import ALL_DATABASES
from tests.factories import store_provider, store_service
from tests.test_sso import _sso_settings, register, sso_signing_key

SHARED_FIXTURES = (_sso_settings, sso_signing_key)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def providers(units, partner):
    return {
        "epci": store_provider("ccphva", "epci", unit_code="CCPHVA"),
        "audun": store_provider("audun", "commune", unit_code="57038"),
        "labs": store_provider(
            "labs", "private_general_interest", organisation=partner.partner_organisation
        ),
    }


@pytest.fixture
def sso_service(providers):
    registration = register("https://covoit.example.org", "Covoiturage")
    return store_service(
        providers["labs"],
        "covoiturage",
        application=registration.application,
        redirect_uris="https://covoit.example.org/oidc/callback",
        requested_scopes="profile",
    )


@pytest.fixture
def link_service(providers):
    return store_service(providers["epci"], "dechets", theme="waste")


def _kinds(user) -> list[str]:
    return list(
        StoredReceipt.objects.filter(user=user)
        .order_by("created_at")
        .values_list("kind", flat=True)
    )


# --- Translated texts ------------------------------------------------------------


def test_pick_falls_back_to_french_then_to_any_language():
    texts = {"fr": "Déchets", "de": "Abfall"}
    assert pick(texts, "de") == "Abfall"
    assert pick(texts, "pt") == "Déchets"
    assert pick({"en": "Only English", "fr": "  "}, "lb") == "Only English"
    assert pick({}, "fr") == "" and pick(None) == ""
    with translation.override("de"):
        assert pick(texts) == "Abfall"


@pytest.mark.parametrize(
    "value",
    [["fr"], {"fr": "Oui", "xx": "?"}, {"de": "Nur Deutsch"}, {"fr": 3}, {"fr": "   "}],
)
def test_translations_need_french_and_known_languages(value):
    with pytest.raises(ValidationError):
        validate_translations(value)


# --- Catalogue -----------------------------------------------------------------


def test_search_ignores_accents_and_language_and_hides_unpublished(providers, link_service):
    store_service(
        providers["audun"],
        "mediatheque",
        theme="culture",
        communes=["57038"],
        name={"fr": "Médiathèque", "de": "Mediathek"},
    )
    store_service(providers["labs"], "brouillon", status=Status.DRAFT)
    store_service(providers["labs"], "soumis", status=Status.SUBMITTED)
    assert [s.slug for s in services.catalogue("MEDIATHEQUE")] == ["mediatheque"]
    assert [s.slug for s in services.catalogue("mediathek")] == ["mediatheque"]
    assert [s.slug for s in services.catalogue("service dechets")] == ["dechets"]
    assert services.catalogue("nothing like this") == []
    assert {s.slug for s in services.catalogue()} == {"dechets", "mediatheque"}
    assert [s.slug for s in services.catalogue(theme="waste")] == ["dechets"]


def test_the_commune_filter_keeps_whole_territory_services(providers, link_service):
    from alzette.personal.accounts.models import OrganisationalUnit

    store_service(providers["audun"], "audun-only", communes=["57038"])
    audun = OrganisationalUnit.objects.get(code="57038")
    villerupt = OrganisationalUnit.objects.get(code="54580")
    assert {s.slug for s in services.catalogue(commune=audun)} == {"dechets", "audun-only"}
    assert {s.slug for s in services.catalogue(commune=villerupt)} == {"dechets"}


# --- Abilities -------------------------------------------------------------------------


def test_providers_people_manage_their_services_and_no_one_else_s(
    providers, citizen, partner, agent_audun, agent_villerupt, agent_epci, administrator
):
    draft = store_service(providers["audun"], "draft", status=Status.DRAFT, communes=["57038"])
    labs = store_service(providers["labs"], "labs-draft", status=Status.DRAFT)
    assert draft.get_abilities(agent_audun)["edit"]
    assert draft.get_abilities(agent_epci)["edit"]  # the EPCI's scope covers its communes
    assert draft.get_abilities(administrator)["edit"]
    for outsider in (agent_villerupt, partner, citizen):
        assert draft.get_abilities(outsider) == dict.fromkeys(draft.get_abilities(outsider), False)
    assert labs.get_abilities(partner)["submit"]
    assert not labs.get_abilities(agent_audun)["view"]
    assert not labs.get_abilities(citizen)["activate"]


def test_moderators_cover_the_communes_served_and_never_moderate_their_own(
    providers, partner, agent_audun, agent_villerupt, agent_epci
):
    whole = store_service(providers["labs"], "whole", status=Status.SUBMITTED, submitted_by=partner)
    audun = store_service(
        providers["labs"],
        "audun",
        status=Status.SUBMITTED,
        communes=["57038"],
        submitted_by=partner,
    )
    assert whole.get_abilities(agent_epci)["moderate"]
    assert not whole.get_abilities(agent_audun)["moderate"]
    assert audun.get_abilities(agent_audun)["moderate"]
    assert not audun.get_abilities(agent_villerupt)["moderate"]
    assert not audun.get_abilities(partner)["moderate"]
    own = store_service(providers["epci"], "own", status=Status.SUBMITTED, submitted_by=agent_epci)
    assert not own.get_abilities(agent_epci)["moderate"]


# --- Activation ---------------------------------------------------------------------


def test_activating_a_single_sign_on_service_is_consenting_to_its_scopes(citizen, sso_service):
    services.activate(citizen, sso_service)
    consent = Consent.objects.get(user=citizen, application=sso_service.application)
    assert consent.scopes == ["openid", "profile", "email"]  # what the client is allowed
    assert services.is_active(citizen, sso_service)
    assert _kinds(citizen) == ["consent.given"]
    assert [item["name"] for item in connected_services(citizen)] == ["Service covoiturage"]


def test_deactivating_withdraws_the_consent_and_revokes_the_tokens(citizen, sso_service):
    services.activate(citizen, sso_service)
    application = sso_service.application
    access = get_access_token_model().objects.create(
        user=citizen, application=application, token="at", expires="2099-01-01T00:00Z"
    )
    get_refresh_token_model().objects.create(
        user=citizen, application=application, token="rt", access_token=access
    )
    assert services.deactivate(citizen, sso_service) is True
    assert not Consent.objects.filter(user=citizen).exists()
    assert not get_access_token_model().objects.filter(user=citizen).exists()
    assert get_refresh_token_model().objects.get(token="rt").revoked is not None
    assert _kinds(citizen) == ["consent.given", "consent.withdrawn"]
    assert services.deactivate(citizen, sso_service) is False


def test_a_link_service_is_kept_at_hand_once_and_recorded(citizen, link_service):
    services.activate(citizen, link_service)
    services.activate(citizen, link_service)
    assert Activation.objects.filter(user=citizen).count() == 1
    assert _kinds(citizen) == ["service.activated"]
    assert services.deactivate(citizen, link_service) is True
    assert not services.is_active(citizen, link_service)
    assert _kinds(citizen) == ["service.activated", "service.deactivated"]


def test_a_service_outside_the_store_is_refused(citizen, providers):
    draft = store_service(providers["labs"], "draft", status=Status.DRAFT)
    with pytest.raises(PermissionDenied):
        services.activate(citizen, draft)
    assert not Activation.objects.exists() and not StoredReceipt.objects.exists()


def test_my_services_lists_consents_given_outside_the_store(citizen, link_service):
    outside = register("https://piscine.example.net", "Piscine du Val")
    sso.give_consent(citizen, outside.application, ["openid"])
    services.activate(citizen, link_service)
    listed = connected_services(citizen)
    assert [(item["name"], bool(item["page"])) for item in listed] == [
        ("Piscine du Val", False),
        ("Service dechets", True),
    ]


# --- Submission and moderation ----------------------------------------------------------


def test_a_partner_submits_and_an_epci_agent_publishes_with_a_client(
    providers, partner, agent_epci, citizen
):
    service = store_service(
        providers["labs"],
        "nouveau",
        status=Status.DRAFT,
        redirect_uris="https://nouveau.example.org/cb",
        requested_scopes="email",
    )
    services.submit(partner, service)
    assert service.status == Status.SUBMITTED and service.submitted_by == partner
    services.approve(agent_epci, service, "Bienvenue")
    service.refresh_from_db()
    assert service.status == Status.PUBLISHED and service.signs_in
    assert sso.allowed_scopes(service.application) == ["openid", "email"]
    assert service.application.redirect_uris == "https://nouveau.example.org/cb"
    assert _kinds(agent_epci) == ["store_service.published"]
    secret = services.new_client_secret(partner, service)
    service.application.refresh_from_db()
    assert len(secret) > 30 and service.application.client_secret != secret  # hashed at rest
    with pytest.raises(PermissionDenied):
        services.new_client_secret(citizen, service)


def test_rejecting_needs_a_reason_and_only_a_moderator_decides(providers, partner, agent_epci):
    service = store_service(providers["labs"], "x", status=Status.SUBMITTED, submitted_by=partner)
    with pytest.raises(ValidationError):
        services.reject(agent_epci, service, "  ")
    with pytest.raises(PermissionDenied):
        services.approve(partner, service)
    services.reject(agent_epci, service, "Logo manquant")
    service.refresh_from_db()
    assert service.status == Status.REJECTED and service.moderation_note == "Logo manquant"
    assert service.get_abilities(partner)["edit"]
    services.submit(partner, service)
    assert service.moderation_note == ""


def test_the_provider_withdraws_a_published_service(providers, partner, citizen):
    service = store_service(providers["labs"], "old")
    with pytest.raises(PermissionDenied):
        services.withdraw(citizen, service)
    services.withdraw(partner, service)
    assert service.status == Status.WITHDRAWN
    assert services.catalogue() == []
    assert _kinds(partner) == ["store_service.withdrawn"]


# --- Logos -------------------------------------------------------------------------------


def _image(fmt: str, size=(800, 400)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0b5d4b").save(buffer, format=fmt)
    buffer.seek(0)
    return buffer


def test_a_logo_is_re_encoded_as_a_small_png(settings, tmp_path, providers):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    png = services.logo_png(_image("JPEG"))
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and max(image.size) == services.LOGO_SIZE
    provider = providers["labs"]
    services.replace_logo(provider, png)
    assert default_storage.exists(provider.logo)


@pytest.mark.parametrize(
    "payload",
    [
        io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        io.BytesIO(b"not an image at all"),
        io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * (services.LOGO_MAX_BYTES + 1)),
    ],
    ids=["svg", "garbage", "too-large"],
)
def test_bad_logos_are_refused(payload):
    with pytest.raises(ValidationError):
        services.logo_png(payload)


def test_a_bmp_is_readable_but_not_accepted():
    with pytest.raises(ValidationError, match="PNG, JPEG"):
        services.logo_png(_image("BMP", (10, 10)))


def test_my_data_lists_the_services_kept_at_hand(citizen, link_service):
    from alzette.personal.mydata import services as mydata

    services.activate(citizen, link_service)
    rows = mydata.collect(citizen)["store_services"]
    assert [(row["service"], row["provider"]) for row in rows] == [("Service dechets", "Ccphva")]
