"""The dashboard pages: display, the edit mode without JavaScript, its JSON variant, refusals."""

from __future__ import annotations

import copy
import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from alzette.personal.accounts.models import Role
from alzette.personal.dashboard import registry
from alzette.personal.dashboard.models import DashboardLayout
from alzette.personal.dashboard.widget import Widget
from alzette.personal.identity.models import FederatedIdentity, Provider
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

INDEX, EDIT = "/dashboard/", "/dashboard/edit/"
ADD, REMOVE, MOVE = "/dashboard/edit/add/", "/dashboard/edit/remove/", "/dashboard/edit/move/"
RESIZE, RESET = "/dashboard/edit/resize/", "/dashboard/edit/reset/"
POST_ENDPOINTS = [ADD, REMOVE, MOVE, RESIZE, RESET]
DEFAULT_SLUGS = ["territory", "account-security", "ledger-receipts", "connected-services"]
PERSONAS = ["citizen", "agent_audun", "partner", "administrator"]
JSON = {"HTTP_ACCEPT": "application/json"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.reload()
    yield
    registry.reload()


@pytest.fixture
def persona(request):
    return request.getfixturevalue(request.param)


def _logged_in(user, client: Client | None = None) -> Client:
    client = client or Client()
    client.force_login(user)
    return client


def _slugs(user) -> list[str]:
    return [slug for slug, _size in DashboardLayout.objects.get(user=user).entries()]


def _shown(html: str) -> list[str]:
    return re.findall(r'<section id="widget-([a-z0-9-]+)"', html)


class PseudonymWidget(Widget):
    """A widget another app could register: the person's own pseudonym, for citizens."""

    slug = "test-pseudonym"
    title = "Test pseudonym"
    description = "The random identifier the territory data use for you."
    template_name = "dashboard_tests/pseudonym.html"
    in_default_layout = False
    scripts = ("leaflet/leaflet.js",)

    def available(self, user):
        return user.role == Role.CITIZEN

    def context(self, user, request):
        return {"pseudonym": user.pseudonym}


@pytest.fixture
def test_widget(settings):
    """PseudonymWidget registered through the setting, its template from memory."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["APP_DIRS"] = False
    templates[0]["OPTIONS"]["loaders"] = [
        (
            "django.template.loaders.locmem.Loader",
            {"dashboard_tests/pseudonym.html": '<p class="test-pseudonym">{{ pseudonym }}</p>'},
        ),
        "django.template.loaders.app_directories.Loader",
    ]
    settings.TEMPLATES = templates
    settings.ALZETTE_DASHBOARD_WIDGETS = [
        *registry.DASHBOARD_WIDGETS,
        "tests.test_dashboard_pages.PseudonymWidget",
    ]


# --- Who may see what --------------------------------------------------------


@pytest.mark.parametrize("path", [INDEX, EDIT])
def test_anonymous_visitors_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_anonymous_changes_are_sent_to_the_login_page(client, path):
    response = client.post(path, {"widget": "territory"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not DashboardLayout.objects.exists()


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_changes_refuse_get(citizen, path):
    client = _logged_in(citizen)
    assert client.get(path, {"widget": "territory"}).status_code == 405
    assert not DashboardLayout.objects.exists()


@pytest.mark.parametrize("path", [INDEX, EDIT])
def test_pages_refuse_post(citizen, path):
    assert _logged_in(citizen).post(path).status_code == 405


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_each_persona_gets_their_own_default_dashboard(persona, territory):
    response = _logged_in(persona).get(INDEX, **EN)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    html = response.content.decode()
    assert _shown(html) == DEFAULT_SLUGS
    assert _slugs(persona) == DEFAULT_SLUGS
    assert "<h1>My dashboard</h1>" in html
    assert 'href="/dashboard/edit/"' in html
    # The security widget is about this person.
    security = html.split('id="widget-account-security"')[1].split("</section>")[0]
    assert persona.email in security
    if persona.requires_second_factor:
        assert "Authenticator app set up" in security and 'href="/accounts/2fa/"' in security
    else:
        assert "Not set up" in security and 'href="/accounts/2fa/totp/activate/"' in security
    assert "confirmed" in security and 'href="/accounts/email/"' in security
    assert 'name="next" value="/dashboard/"' in security
    if persona.role in (Role.AGENT, Role.ADMINISTRATOR):
        assert 'action="/accounts/franceconnect/login/"' not in security
        assert 'action="/accounts/proconnect/login/"' in security
    else:
        assert 'action="/accounts/franceconnect/login/"' in security
        assert 'action="/accounts/proconnect/login/"' not in security


def test_a_linked_proconnect_identity_is_not_offered_again(agent_audun):
    FederatedIdentity.objects.create(user=agent_audun, provider=Provider.PROCONNECT, sub="b" * 64)
    html = _logged_in(agent_audun).get(INDEX, **EN).content.decode()
    security = html.split('id="widget-account-security"')[1].split("</section>")[0]
    assert "<li>ProConnect</li>" in security
    assert 'action="/accounts/proconnect/login/"' not in security


def test_no_link_button_for_a_provider_that_is_not_offered(settings, citizen):
    settings.ALZETTE_DEV_IDP = False  # no simulator, and no real FranceConnect configured
    settings.ALZETTE_FRANCECONNECT_ISSUER = ""
    html = _logged_in(citizen).get(INDEX, **EN).content.decode()
    security = html.split('id="widget-account-security"')[1].split("</section>")[0]
    assert "No identity linked." in security
    assert "/login/" not in security


def test_the_security_widget_shows_what_is_missing_and_what_is_linked(citizen):
    EmailAddress.objects.filter(user=citizen).update(verified=False)
    FederatedIdentity.objects.create(
        user=citizen, provider=Provider.FRANCECONNECT, sub="a" * 64, last_login=timezone.now()
    )
    html = _logged_in(citizen).get(INDEX, **EN).content.decode()
    security = html.split('id="widget-account-security"')[1].split("</section>")[0]
    assert "not confirmed" in security
    assert "FranceConnect, last sign-in on" in security
    # Already linked: no button to link it again.
    assert 'action="/accounts/franceconnect/login/"' not in security
    assert "No identity linked." not in security


def test_the_territory_widget_draws_the_communes_without_tiles(citizen, territory):
    html = _logged_in(citizen).get(INDEX, **EN).content.decode()
    assert 'id="territory-map"' in html and 'data-tile-url=""' in html
    script = re.search(
        r'<script id="territory-features" type="application/json">(.*?)</script>', html
    )
    features = json.loads(script[1])
    assert len(features["features"]) == 8
    assert "Audun-le-Tiche" in html and "Villerupt" in html
    # Leaflet and the home page's map script, each once, in order.
    assert html.count("leaflet/leaflet.js") == 1 and html.count("leaflet/leaflet.css") == 1
    assert html.index("leaflet/leaflet.js") < html.index("alzette/map.js")
    assert "dashboard/dashboard.css" in html


def test_the_territory_widget_says_when_no_commune_is_loaded(citizen):
    html = _logged_in(citizen).get(INDEX, **EN).content.decode()
    assert 'id="territory-map"' not in html
    assert "The communes have not been loaded yet" in html


def test_the_receipts_widget_lists_the_latest_receipts(citizen, partner):
    from alzette.personal.mydata import services as mydata

    client = _logged_in(citizen)
    html = client.get(INDEX, **EN).content.decode()
    receipts = html.split('id="widget-ledger-receipts"')[1].split("</section>")[0]
    assert "No receipt yet." in receipts

    stored = [
        mydata.record_receipt(citizen, "personal_data.exported", f"personal_data:{n}", {"n": n})
        for n in range(6)
    ]
    mydata.record_receipt(partner, "personal_data.exported", "personal_data:p", {})
    html = client.get(INDEX, **EN).content.decode()
    receipts = html.split('id="widget-ledger-receipts"')[1].split("</section>")[0]
    links = re.findall(r'href="/my-data/receipts/([0-9a-f-]+)\.json"', receipts)
    assert links == [str(s.pk) for s in reversed(stored)][:5]
    assert receipts.count("Export of my data") == 5
    assert 'href="/my-data/#category-receipts"' in receipts


def test_the_connected_services_widget_has_an_empty_state_then_lists_services(citizen):
    from oauth2_provider.models import get_application_model

    from alzette.personal.sso.services import give_consent

    client = _logged_in(citizen)
    html = client.get(INDEX, **EN).content.decode()
    connected = html.split('id="widget-connected-services"')[1].split("</section>")[0]
    assert "You have not activated any service yet" in connected
    assert 'href="/services/"' in connected

    Application = get_application_model()
    application = Application.objects.create(
        name="Réseau de bus Alzette",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://bus.example.org/callback",
    )
    give_consent(citizen, application, ["openid"])
    html = client.get(INDEX, **EN).content.decode()
    connected = html.split('id="widget-connected-services"')[1].split("</section>")[0]
    assert "Réseau de bus Alzette" in connected and "since" in connected
    assert 'href="/o/services/"' in connected


def test_a_person_sees_only_their_own_dashboard(citizen, partner):
    _logged_in(partner).post(REMOVE, {"widget": "territory"})
    client = _logged_in(citizen)
    # Naming another account changes nothing: there is no such parameter.
    client.post(REMOVE, {"widget": "connected-services", "user": partner.pk})
    assert _slugs(citizen) == ["territory", "account-security", "ledger-receipts"]
    assert _slugs(partner) == ["account-security", "ledger-receipts", "connected-services"]
    html = client.get(INDEX).content.decode()
    assert partner.email not in html


# --- The edit mode without JavaScript -----------------------------------------


def test_the_edit_page_offers_a_form_for_every_change(citizen):
    client = _logged_in(citizen)
    client.post(REMOVE, {"widget": "connected-services"})
    html = client.get(EDIT, **EN).content.decode()
    assert html.count('action="/dashboard/edit/move/"') == 4  # no "up" first, no "down" last
    assert html.count('name="direction" value="up"') == 2
    assert html.count('name="direction" value="down"') == 2
    assert html.count('action="/dashboard/edit/remove/"') == 3
    assert html.count('action="/dashboard/edit/resize/"') == 3
    assert re.findall(r'id="add-([a-z0-9-]+)"', html) == [
        "connected-services",
        "my-procedures",
        "recycling-centres",
    ]
    assert 'action="/dashboard/edit/reset/"' in html
    assert html.count("csrfmiddlewaretoken") >= 3 + 4 + 3 + 1 + 1
    assert "Position 1 of 3" in html and "dashboard/dashboard.js" in html


def test_add_move_resize_remove_reset_without_javascript(citizen):
    client = _logged_in(citizen)
    client.get(INDEX)
    response = client.post(REMOVE, {"widget": "ledger-receipts"}, **EN)
    assert response.status_code == 303 and response["Location"] == EDIT
    assert _slugs(citizen) == ["territory", "account-security", "connected-services"]
    page = client.get(response["Location"], **EN).content.decode()
    assert "“My ledger receipts” was removed from your dashboard." in page

    response = client.post(ADD, {"widget": "ledger-receipts"}, **EN, follow=True)
    assert response.redirect_chain == [(EDIT, 303)]
    assert "“My ledger receipts” was added at the end of your dashboard." in (
        response.content.decode()
    )
    assert _slugs(citizen)[-1] == "ledger-receipts"

    response = client.post(
        MOVE, {"widget": "ledger-receipts", "direction": "up"}, **EN, follow=True
    )
    assert "“My ledger receipts” is now in position 3 of 4." in response.content.decode()
    assert _slugs(citizen) == [
        "territory",
        "account-security",
        "ledger-receipts",
        "connected-services",
    ]
    client.post(MOVE, {"widget": "territory", "direction": "down"})
    assert _slugs(citizen)[:2] == ["account-security", "territory"]

    response = client.post(RESIZE, {"widget": "territory", "size": "normal"}, **EN, follow=True)
    assert "“My territory” is now of normal width on large screens." in response.content.decode()
    assert dict(DashboardLayout.objects.get(user=citizen).entries())["territory"] == "normal"
    client.post(RESIZE, {"widget": "account-security", "size": "wide"})
    html = client.get(INDEX).content.decode()
    assert (
        'class="dashboard-widget dashboard-size-wide"'
        in html.split('id="widget-account-security"')[1][:80]
    )

    response = client.post(RESET, **EN, follow=True)
    assert "Your dashboard is back to the default layout." in response.content.decode()
    assert _slugs(citizen) == DEFAULT_SLUGS


def test_the_layout_persists_across_sessions(citizen):
    client = _logged_in(citizen)
    client.post(MOVE, {"widget": "connected-services", "direction": "up"})
    client.post(REMOVE, {"widget": "territory"})
    client.logout()
    html = _logged_in(citizen).get(INDEX).content.decode()
    assert _shown(html) == ["account-security", "connected-services", "ledger-receipts"]


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (ADD, {"widget": "no-such-widget"}, "This widget does not exist."),
        (ADD, {}, "This widget does not exist."),
        (ADD, {"widget": "territory"}, "“My territory” is already on your dashboard."),
        (ADD, {"widget": "test-pseudonym"}, "This widget is not available to you."),
        (REMOVE, {"widget": "<script>"}, "This widget does not exist."),
        (MOVE, {"widget": "territory", "direction": "up"}, "“My territory” is already first."),
        (MOVE, {"widget": "connected-services", "direction": "down"}, "is already last."),
        (MOVE, {"widget": "territory", "direction": "sideways"}, "A widget moves up or down"),
        (MOVE, {"widget": "territory"}, "A widget moves up or down"),
        (RESIZE, {"widget": "territory", "size": "huge"}, "This size does not exist."),
    ],
)
def test_bad_changes_are_refused_with_a_message_and_change_nothing(
    partner, test_widget, path, data, message
):
    client = _logged_in(partner)
    client.get(INDEX)
    before = DashboardLayout.objects.get(user=partner).widgets
    response = client.post(path, data, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    alert = html.split('id="dashboard-alert" role="alert">')[1].split("</div>")[0]
    assert message in alert.replace("&#x27;", "'")
    assert "<script>" not in alert
    assert 'id="dashboard-editor"' in html  # the edit page, to try again
    assert DashboardLayout.objects.get(user=partner).widgets == before


def test_a_refused_first_change_leaves_the_default_layout(citizen):
    response = _logged_in(citizen).post(ADD, {"widget": "nope"})
    assert response.status_code == 400
    # The edit page shown with the refusal is the person's first visit.
    assert _slugs(citizen) == DEFAULT_SLUGS


def test_changes_need_the_csrf_token(citizen):
    client = _logged_in(citizen, Client(enforce_csrf_checks=True))
    html = client.get(EDIT).content.decode()
    before = _slugs(citizen)
    for path, data in [
        (REMOVE, {"widget": "territory"}),
        (MOVE, {"widget": "territory", "direction": "down"}),
        (RESIZE, {"widget": "territory", "size": "normal"}),
        (ADD, {"widget": "territory"}),
        (RESET, {}),
    ]:
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "Le formulaire a expiré" in response.content.decode()  # the site's own page
        assert _slugs(citizen) == before
    # With the form's token, the same change goes through.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    response = client.post(REMOVE, {"widget": "territory", "csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert "territory" not in _slugs(citizen)


# --- The same changes from JavaScript (JSON answers) ---------------------------


def test_changes_answer_json_with_the_new_editor(citizen):
    client = _logged_in(citizen)
    response = client.post(MOVE, {"widget": "account-security", "direction": "up"}, **JSON, **EN)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"] == "“My account security” is now in position 1 of 4."
    assert body["html"].index('id="edit-account-security"') < body["html"].index(
        'id="edit-territory"'
    )
    assert "<html" not in body["html"]
    # No message is left for the next page: the script showed it already.
    assert "is now in position" not in client.get(EDIT, **EN).content.decode()
    assert _slugs(citizen)[0] == "account-security"


def test_refusals_answer_json_too(citizen):
    client = _logged_in(citizen)
    client.get(INDEX)
    response = client.post(MOVE, {"widget": "territory", "direction": "up"}, **JSON, **EN)
    assert response.status_code == 400
    assert response.json() == {"error": "“My territory” is already first."}
    assert _slugs(citizen) == DEFAULT_SLUGS


# --- A widget registered by another app (through the setting) ------------------


def test_a_widget_registered_through_the_setting(citizen, partner, test_widget):
    client = _logged_in(citizen)
    assert _shown(client.get(INDEX).content.decode()) == DEFAULT_SLUGS  # not in the default
    edit = client.get(EDIT, **EN).content.decode()
    assert 'id="add-test-pseudonym"' in edit and "The random identifier" in edit

    client.post(ADD, {"widget": "test-pseudonym"})
    html = client.get(INDEX).content.decode()
    assert _shown(html) == [*DEFAULT_SLUGS, "test-pseudonym"]
    assert f'<p class="test-pseudonym">{citizen.pseudonym}</p>' in html
    assert html.count("leaflet/leaflet.js") == 1  # asked for by two widgets, included once

    # Not for partners: not offered, not shown even if it were stored.
    assert 'id="add-test-pseudonym"' not in _logged_in(partner).get(EDIT).content.decode()
    DashboardLayout.objects.filter(user=partner).update(
        widgets=DashboardLayout.objects.get(user=citizen).widgets
    )
    assert "test-pseudonym" not in _shown(_logged_in(partner).get(INDEX).content.decode())


def test_an_empty_dashboard_says_how_to_fill_it(citizen):
    client = _logged_in(citizen)
    for slug in DEFAULT_SLUGS:
        client.post(REMOVE, {"widget": slug})
    html = client.get(INDEX, **EN).content.decode()
    assert _shown(html) == []
    assert (
        "Your dashboard is empty." in html and 'href="/dashboard/edit/#dashboard-add-title"' in html
    )
    edit = client.get(EDIT, **EN).content.decode()
    assert re.findall(r'id="add-([a-z0-9-]+)"', edit) == [
        *DEFAULT_SLUGS,
        "my-procedures",
        "recycling-centres",
    ]


def test_a_new_person_after_an_erased_one_starts_afresh(citizen):
    other = UserFactory(email="another.citizen@example.org")
    _logged_in(citizen).post(REMOVE, {"widget": "territory"})
    _logged_in(other).get(INDEX)
    assert _slugs(other) == DEFAULT_SLUGS


class BrokenWidget(Widget):
    """A widget whose data source fails (a service down, a bug)."""

    slug = "test-broken"
    title = "Test broken"
    template_name = "dashboard/widgets/receipts.html"
    scripts = ("test/never-included.js",)

    def context(self, user, request):
        raise RuntimeError("the source is down")


def test_a_failing_widget_does_not_take_the_dashboard_down(settings, citizen, caplog):
    settings.DEBUG = False
    settings.ALZETTE_DASHBOARD_WIDGETS = [
        "alzette.personal.dashboard.widgets.security.AccountSecurityWidget",
        "tests.test_dashboard_pages.BrokenWidget",
    ]
    response = _logged_in(citizen).get(INDEX, **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert _shown(html) == ["account-security", "test-broken"]
    broken = html.split('id="widget-test-broken"')[1].split("</section>")[0]
    assert "This widget cannot be shown right now." in broken
    assert "test/never-included.js" not in html
    assert "Dashboard widget 'test-broken' failed" in caplog.text

    settings.DEBUG = True  # developers see the error itself
    with pytest.raises(RuntimeError, match="the source is down"):
        _logged_in(citizen).get(INDEX)
