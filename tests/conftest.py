"""Shared fixtures: the personas every permission test uses, and the territory."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from alzette.personal.accounts.models import Role
from alzette.territory.geo.services import load_reference_units
from tests.factories import UserFactory

pytest_plugins = ["tests.browser"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for an `alzette` subprocess: none of this session's settings
    (ALZETTE_*, and the browser fixture's async override)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALZETTE_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(extra)
    return env


def run_alzette(data_dir, *args: str, timeout: int = 300, **env: str):
    """Run the `alzette` console script in a clean environment on ``data_dir``."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "alzette.cli", *args],
        env=clean_env(ALZETTE_DATA_DIR=str(data_dir), **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Tests touch both repositories; "default" is the personal connection itself,
# so it must always be listed with it (see alzette/core/db.py).
ALL_DATABASES = "__all__"


@pytest.fixture(scope="session")
def ledger_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


@pytest.fixture(autouse=True)
def _ledger_key(settings, ledger_key_pem):
    # A key of the test session's own, never one left in a data directory.
    settings.ALZETTE_LEDGER_SIGNING_KEY = ledger_key_pem


@pytest.fixture(autouse=True)
def _default_language():
    # A request through the test client leaves its language active in the thread;
    # every test starts in the interface's default language instead of the last one.
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _catalogue_dir(settings, tmp_path):
    # Catalogue snapshots and uploaded files of the test's own, never the data dir's.
    settings.ALZETTE_CATALOGUE_DIR = tmp_path / "catalogue"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashers are slow on purpose; tests check behaviour, not hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def citizen():
    return UserFactory(email="camille.citoyenne@example.org", role=Role.CITIZEN)


@pytest.fixture
def units(territory):
    """Organisational units mirrored from the territory: EPCI, communes, services."""
    from alzette.personal.accounts.services import sync_organisational_units

    sync_organisational_units()


def _unit(code: str):
    from alzette.personal.accounts.models import OrganisationalUnit

    return OrganisationalUnit.objects.get(code=code)


@pytest.fixture
def agent_audun(units):
    return UserFactory(
        email="agent@audun-le-tiche.example.org", role=Role.AGENT, unit=_unit("57038")
    )


@pytest.fixture
def agent_villerupt(units):
    return UserFactory(email="agent@villerupt.example.org", role=Role.AGENT, unit=_unit("54580"))


@pytest.fixture
def agent_epci(units):
    return UserFactory(email="agent@ccphva.example.org", role=Role.AGENT, unit=_unit("CCPHVA"))


@pytest.fixture
def partner():
    from alzette.personal.accounts.models import PartnerOrganisation

    organisation = PartnerOrganisation.objects.create(name="Lorraine Data", siret="12345678901234")
    return UserFactory(
        email="dev@partner.example.org", role=Role.PARTNER, partner_organisation=organisation
    )


@pytest.fixture
def developer(partner):
    """The partner, managing its organisation on the territory side (docs/partners.md)."""
    from alzette.territory.catalogue.models import Organisation

    Organisation.objects.using("territory").create(
        slug="lorraine-data", name="Lorraine Data", kind=Organisation.Kind.COMPANY
    )
    partner.partner_organisation.organisation_slug = "lorraine-data"
    partner.partner_organisation.save()
    return partner


@pytest.fixture
def administrator():
    return UserFactory(
        email="admin@ccphva.example.org", role=Role.ADMINISTRATOR, is_staff=True, is_superuser=True
    )


@pytest.fixture
def procedures(agent_audun, agent_villerupt):
    """The six demo procedures, with instructor groups for Audun-le-Tiche and Villerupt."""
    from alzette.personal.procedures.demo import ensure_demo_procedures
    from alzette.personal.procedures.models import Procedure

    ensure_demo_procedures()
    return {procedure.slug: procedure for procedure in Procedure.objects.all()}


@pytest.fixture
def territory():
    """The EPCI and its 8 communes, loaded from the reference GeoJSON."""
    load_reference_units()


@pytest.fixture
def ledger_log():
    """Ten entries: three single appends, then a batch of seven (four signed heads)."""
    from alzette.ledger import services
    from alzette.ledger.entries import Entry, commit

    for n in range(3):
        services.append(
            Entry(
                1_790_000_000_000 + n,
                "dataset.published",
                "system:opendata",
                f"dataset:{n}",
                commit({"n": n}).digest,
            )
        )
    services.append_many(
        [
            Entry(
                1_790_000_001_000 + n,
                "sharing.granted",
                "ab" * 16,
                f"grant:{n}",
                commit({"n": n}).digest,
            )
            for n in range(7)
        ]
    )


@pytest.fixture
def api_client() -> Client:
    return Client(HTTP_ACCEPT="application/json")


@pytest.fixture
def m2m():
    """A oneM2M HTTP client (tests/onem2m_helpers.py), originator CAdmin by default."""
    from tests.onem2m_helpers import M2M

    return M2M()


@pytest.fixture
def lamp(m2m):
    """A oneM2M AE with a container "data", as a streetlight registers; its AE-ID."""
    ae = m2m.register("lamp")
    m2m.container("alzette/lamp", "data", ae["aei"])
    return ae["aei"]
