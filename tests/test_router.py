"""The router sends each app to one repository and refuses anything across them."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import router

from alzette.core.repositories import APP_REPOSITORY, PERSONAL, TERRITORY
from alzette.core.routers import RepositoryRouter
from alzette.personal.accounts.models import User
from alzette.territory.geo.models import TerritorialUnit


def test_every_app_with_models_has_exactly_one_repository():
    for config in apps.get_app_configs():
        if list(config.get_models()):
            assert config.label in APP_REPOSITORY, config.label


def test_reads_and_writes_go_to_the_app_repository():
    assert router.db_for_read(User) == PERSONAL
    assert router.db_for_write(User) == PERSONAL
    assert router.db_for_read(TerritorialUnit) == TERRITORY
    assert router.db_for_write(TerritorialUnit) == TERRITORY


def test_relations_across_repositories_are_refused():
    user, unit = User(email="a@example.org"), TerritorialUnit(code="X")
    assert RepositoryRouter().allow_relation(user, unit) is False
    assert RepositoryRouter().allow_relation(unit, TerritorialUnit(code="Y")) is True


@pytest.mark.parametrize(
    ("db", "app_label", "allowed"),
    [
        ("personal", "accounts", True),
        ("territory", "accounts", False),
        ("territory", "geo", True),
        ("personal", "geo", False),
        ("territory", "sessions", False),
        ("territory", "auth", False),
        ("default", "accounts", True),
        ("default", "geo", False),
        ("personal", "not_an_app", False),
    ],
)
def test_migrations_only_run_in_their_repository(db, app_label, allowed):
    assert RepositoryRouter().allow_migrate(db, app_label) is allowed


def test_unmapped_app_is_an_error_not_a_silent_default():
    class Stray:
        class _meta:
            app_label = "stray"

    with pytest.raises(Exception, match="not assigned to a repository"):
        RepositoryRouter().db_for_write(Stray)


def test_default_alias_is_the_personal_connection():
    from django.db import connections

    assert connections["default"] is connections[PERSONAL]


def test_relations_through_lazy_objects_are_judged_by_the_wrapped_model():
    from django.utils.functional import SimpleLazyObject

    lazy_user = SimpleLazyObject(lambda: User(email="b@example.org"))
    assert RepositoryRouter().allow_relation(lazy_user, User(email="c@example.org")) is True
    assert RepositoryRouter().allow_relation(lazy_user, TerritorialUnit(code="Z")) is False
