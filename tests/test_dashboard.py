"""The dashboard's domain: the widget registry, the layouts and the changes to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils import timezone, translation

from alzette.personal.accounts.models import Role
from alzette.personal.dashboard import registry, services
from alzette.personal.dashboard.apps import check_widget_registry
from alzette.personal.dashboard.models import DashboardLayout, Size
from alzette.personal.dashboard.widget import Widget
from alzette.personal.dashboard.widgets import receipts as receipts_widget
from alzette.personal.dashboard.widgets.connected import connected_services
from tests.conftest import ALL_DATABASES


@pytest.fixture(autouse=True)
def _english():
    # Refusals are translated; these tests read them in English.
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

DEFAULT_SLUGS = ["territory", "account-security", "ledger-receipts", "connected-services"]
#: Offered in "add a widget", not in the default layout.
OPTIONAL_SLUGS = ["my-procedures", "my-bin-lifts", "my-water", "recycling-centres"]
#: What a citizen without a household may add (my-bin-lifts and my-water need one).
ADDABLE_SLUGS = ["my-procedures", "recycling-centres"]


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.reload()
    yield
    registry.reload()


# Widgets used to check the registry's refusals (and one extra, for availability).


class CitizensOnlyWidget(Widget):
    slug = "citizens-only"
    title = "Citizens only"
    template_name = "dashboard/widgets/receipts.html"
    in_default_layout = False

    def available(self, user):
        return user.role == Role.CITIZEN


class SameSlugWidget(CitizensOnlyWidget):
    pass


class BadSlugWidget(Widget):
    slug = "Bad Slug"
    title = "Bad"
    template_name = "x.html"


class NoTemplateWidget(Widget):
    slug = "no-template"
    title = "No template"


class BadSizeWidget(Widget):
    slug = "bad-size"
    title = "Bad size"
    template_name = "x.html"
    default_size = "huge"


class NotAWidget:
    slug = "not-a-widget"


HERE = "tests.test_dashboard"


def _layout_json(user) -> list[dict]:
    return DashboardLayout.objects.get(user=user).widgets


def _layout(user) -> list[tuple[str, str]]:
    return DashboardLayout.objects.get(user=user).entries()


# --- The registry ------------------------------------------------------------


def test_the_registry_lists_the_shipped_widgets_in_order():
    widgets = registry.widgets()
    assert list(widgets) == [*DEFAULT_SLUGS, *OPTIONAL_SLUGS]
    for widget in widgets.values():
        assert isinstance(widget, Widget)
        assert str(widget.title) and str(widget.description) and widget.template_name
    assert registry.get("territory").default_size == Size.WIDE
    assert registry.get("nope") is None
    assert check_widget_registry() == []


def test_the_setting_replaces_the_list(settings):
    settings.ALZETTE_DASHBOARD_WIDGETS = [
        "alzette.personal.dashboard.widgets.security.AccountSecurityWidget",
        f"{HERE}.CitizensOnlyWidget",
    ]
    assert list(registry.widgets()) == ["account-security", "citizens-only"]
    del settings.ALZETTE_DASHBOARD_WIDGETS
    assert list(registry.widgets()) == [*DEFAULT_SLUGS, *OPTIONAL_SLUGS]


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["tests.test_dashboard.Missing"], "cannot be imported"),
        (["no.such.module.Widget"], "cannot be imported"),
        ([f"{HERE}.NotAWidget"], "is not a Widget subclass"),
        ([f"{HERE}.BadSlugWidget"], "invalid slug"),
        ([f"{HERE}.NoTemplateWidget"], "no template_name"),
        ([f"{HERE}.BadSizeWidget"], "unknown default size"),
        ([f"{HERE}.CitizensOnlyWidget", f"{HERE}.SameSlugWidget"], "already taken"),
    ],
)
def test_a_bad_registry_is_refused_and_the_check_says_so(settings, paths, message):
    settings.ALZETTE_DASHBOARD_WIDGETS = paths
    with pytest.raises(ImproperlyConfigured, match=message):
        registry.widgets()
    errors = check_widget_registry()
    assert [error.id for error in errors] == ["dashboard.E001"]
    assert message in errors[0].msg


def test_availability_depends_on_the_person(settings, citizen, partner):
    settings.ALZETTE_DASHBOARD_WIDGETS = [*registry.DASHBOARD_WIDGETS, f"{HERE}.CitizensOnlyWidget"]
    assert "citizens-only" in registry.available_to(citizen)
    assert "citizens-only" not in registry.available_to(partner)
    assert set(DEFAULT_SLUGS) <= set(registry.available_to(partner))


def test_the_receipts_widget_is_unavailable_without_the_my_data_model(monkeypatch, citizen):
    assert receipts_widget.stored_receipt_model() is not None
    assert registry.get("ledger-receipts").available(citizen)

    monkeypatch.setattr(receipts_widget, "MODELS_MODULE", "alzette.personal.mydata.no_such_module")
    registry.reload()
    assert not registry.get("ledger-receipts").available(citizen)
    assert "ledger-receipts" not in registry.available_to(citizen)

    monkeypatch.setattr(receipts_widget, "MODELS_MODULE", "alzette.personal.mydata.models")
    monkeypatch.setattr(receipts_widget, "MODEL", "NoSuchModel")
    registry.reload()
    assert not registry.get("ledger-receipts").available(citizen)

    monkeypatch.setattr(receipts_widget, "MODEL", "StoredReceipt")
    monkeypatch.setattr(receipts_widget, "APP", "alzette.personal.not_installed")
    registry.reload()
    assert not registry.get("ledger-receipts").available(citizen)


# --- Layouts -----------------------------------------------------------------


def test_the_first_visit_creates_the_default_layout_once(citizen):
    widgets = registry.widgets()
    assert not DashboardLayout.objects.filter(user=citizen).exists()
    layout = services.layout_for(citizen, widgets)
    assert layout.entries() == [
        ("territory", "wide"),
        ("account-security", "normal"),
        ("ledger-receipts", "normal"),
        ("connected-services", "normal"),
    ]
    assert services.layout_for(citizen, widgets).pk == layout.pk
    assert DashboardLayout.objects.filter(user=citizen).count() == 1


def test_the_default_layout_leaves_out_what_the_person_may_not_have(settings, citizen):
    settings.ALZETTE_DASHBOARD_WIDGETS = [*registry.DASHBOARD_WIDGETS, f"{HERE}.CitizensOnlyWidget"]
    # Available, but not part of the first-visit layout.
    assert "citizens-only" not in dict(services.layout_for(citizen, registry.widgets()).entries())


@pytest.mark.parametrize(
    "value",
    [
        "territory",
        [{"slug": "territory"}],
        [{"slug": "territory", "size": "huge"}],
        [{"slug": "Territory", "size": "normal"}],
        [{"slug": "territory", "size": "normal"}, {"slug": "territory", "size": "wide"}],
        [{"slug": "territory", "size": "normal", "extra": 1}],
        [{"slug": f"w{n}", "size": "normal"} for n in range(101)],
    ],
)
def test_a_malformed_layout_cannot_be_saved(citizen, value):
    with pytest.raises(ValidationError):
        DashboardLayout.objects.create(user=citizen, widgets=value)
    assert not DashboardLayout.objects.filter(user=citizen).exists()


def test_add_remove_move_resize_reset(settings, citizen):
    settings.ALZETTE_DASHBOARD_WIDGETS = [*registry.DASHBOARD_WIDGETS, f"{HERE}.CitizensOnlyWidget"]
    widgets = registry.widgets()
    services.layout_for(citizen, widgets)

    placed = services.add(citizen, "citizens-only", widgets)
    assert (placed.position, placed.count, placed.size) == (5, 5, "normal")
    assert _layout(citizen)[-1] == ("citizens-only", "normal")

    placed = services.move(citizen, "citizens-only", services.UP, widgets)
    assert (placed.position, placed.count) == (4, 5)
    assert [slug for slug, _ in _layout(citizen)][3:] == ["citizens-only", "connected-services"]
    services.move(citizen, "territory", services.DOWN, widgets)
    assert [slug for slug, _ in _layout(citizen)][:2] == ["account-security", "territory"]

    assert services.resize(citizen, "territory", Size.NORMAL, widgets).size == "normal"
    assert dict(_layout(citizen))["territory"] == "normal"

    removed = services.remove(citizen, "ledger-receipts", widgets)
    assert removed.slug == "ledger-receipts"
    assert "ledger-receipts" not in dict(_layout(citizen))
    assert [
        w.slug
        for w in services.addable(DashboardLayout.objects.get(user=citizen), citizen, widgets)
    ] == ["ledger-receipts", *ADDABLE_SLUGS]

    services.reset(citizen, widgets)
    assert [slug for slug, _ in _layout(citizen)] == DEFAULT_SLUGS


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda user, w: services.add(user, "no-such-widget", w), "This widget does not exist."),
        (lambda user, w: services.add(user, "", w), "This widget does not exist."),
        (lambda user, w: services.add(user, "territory", w), "is already on your dashboard"),
        (lambda user, w: services.add(user, "citizens-only", w), "not available to you"),
        (lambda user, w: services.remove(user, "no-such-widget", w), "does not exist"),
        (lambda user, w: services.remove(user, "citizens-only", w), "not available to you"),
        (lambda user, w: services.move(user, "territory", "up", w), "is already first"),
        (lambda user, w: services.move(user, "connected-services", "down", w), "already last"),
        (lambda user, w: services.move(user, "territory", "left", w), "moves up or down"),
        (lambda user, w: services.move(user, "no-such-widget", "up", w), "does not exist"),
        (lambda user, w: services.resize(user, "territory", "huge", w), "size does not exist"),
        (lambda user, w: services.resize(user, "no-such-widget", "wide", w), "does not exist"),
    ],
)
def test_refused_changes_leave_the_layout_unchanged(settings, partner, change, reason):
    settings.ALZETTE_DASHBOARD_WIDGETS = [*registry.DASHBOARD_WIDGETS, f"{HERE}.CitizensOnlyWidget"]
    widgets = registry.widgets()
    before = services.layout_for(partner, widgets).entries()
    with pytest.raises(services.LayoutRefused, match=reason):
        change(partner, widgets)
    assert _layout(partner) == before


def test_removing_a_widget_that_is_not_on_the_dashboard_is_refused(citizen):
    widgets = registry.widgets()
    services.layout_for(citizen, widgets)
    services.remove(citizen, "territory", widgets)
    before = _layout(citizen)
    with pytest.raises(services.LayoutRefused, match="is not on your dashboard"):
        services.remove(citizen, "territory", widgets)
    with pytest.raises(services.LayoutRefused, match="is not on your dashboard"):
        services.move(citizen, "territory", services.DOWN, widgets)
    assert _layout(citizen) == before


def test_entries_not_shown_are_kept_and_stepped_over(settings, citizen):
    DashboardLayout.objects.create(
        user=citizen,
        widgets=[
            {"slug": "territory", "size": "wide"},
            {"slug": "retired-widget", "size": "normal"},
            {"slug": "citizens-only", "size": "normal"},
            {"slug": "account-security", "size": "normal"},
        ],
    )
    widgets = registry.widgets()  # without CitizensOnlyWidget: not registered
    layout = DashboardLayout.objects.get(user=citizen)
    assert [p.widget.slug for p in services.shown(layout, citizen, widgets)] == [
        "territory",
        "account-security",
    ]
    placed = services.move(citizen, "account-security", services.UP, widgets)
    assert (placed.position, placed.count) == (1, 2)
    assert [slug for slug, _ in _layout(citizen)] == [
        "account-security",
        "retired-widget",
        "citizens-only",
        "territory",
    ]
    with pytest.raises(services.LayoutRefused, match="does not exist"):
        services.remove(citizen, "retired-widget", widgets)


def test_each_person_has_their_own_layout(citizen, partner):
    widgets = registry.widgets()
    services.layout_for(partner, widgets)
    services.remove(citizen, "territory", widgets)
    assert "territory" not in dict(_layout(citizen))
    assert "territory" in dict(_layout(partner))


def test_the_layout_goes_with_the_account():
    # Erasing an account ("my data") deletes what cascades from it.
    field = DashboardLayout._meta.get_field("user")
    assert field.remote_field.on_delete is models.CASCADE


# --- "My data" ---------------------------------------------------------------


def test_my_data_shows_and_exports_the_layout(citizen):
    from alzette.personal.mydata import services as mydata

    assert "dashboard" in mydata.DATA_SOURCES
    assert mydata.collect(citizen)["dashboard"] == []
    services.layout_for(citizen, registry.widgets())
    DashboardLayout.objects.filter(user=citizen).update(
        widgets=[*_layout_json(citizen), {"slug": "retired-widget", "size": "normal"}]
    )
    with translation.override("en"):
        rows = mydata.collect(citizen)["dashboard"]
    assert rows[0] == {"position": 1, "widget": "My territory", "size": "wide"}
    assert [row["widget"] for row in rows] == [
        "My territory",
        "My account security",
        "My ledger receipts",
        "My services",
        "retired-widget",
    ]
    assert list(mydata.DATA_SOURCES["dashboard"].columns) == ["position", "widget", "size"]


# --- The widgets' data -------------------------------------------------------


def _application(name: str):
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://service.example.org/callback",
    )


def _access_token(user, application, *, expires_in: timedelta, token: str):
    from oauth2_provider.models import get_access_token_model

    return get_access_token_model().objects.create(
        user=user,
        application=application,
        token=token,
        expires=timezone.now() + expires_in,
        scope="openid",
    )


def test_connected_services_are_the_consents_of_the_person(citizen, partner):
    from alzette.personal.sso.services import give_consent, withdraw_consent

    assert connected_services(citizen) == []
    bus = _application("Réseau de bus Alzette")
    library = _application("Médiathèque")
    give_consent(citizen, bus, ["openid"])
    consent = give_consent(citizen, library, ["openid", "profile"])
    give_consent(partner, _application("Outil partenaire"), ["openid"])
    services_ = connected_services(citizen)
    assert [service["name"] for service in services_] == ["Médiathèque", "Réseau de bus Alzette"]
    assert services_[0]["since"] == consent.created_at
    # Tokens alone do not make a service connected: the consent does.
    _access_token(citizen, _application("Ancien portail"), expires_in=timedelta(hours=1), token="t")
    withdraw_consent(citizen, consent.pk)
    assert [service["name"] for service in connected_services(citizen)] == ["Réseau de bus Alzette"]
    assert [service["name"] for service in connected_services(partner)] == ["Outil partenaire"]
