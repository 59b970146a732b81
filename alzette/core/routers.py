"""Database router: each app goes to exactly one repository, and never across."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from alzette.core.repositories import repository_of


def _alias_for(model: type[models.Model] | models.Model) -> str:
    # Works for classes and instances alike, including lazy objects such as request.user.
    alias = repository_of(model._meta.app_label)
    if alias is None:
        raise ImproperlyConfigured(
            f"App '{model._meta.app_label}' stores models but is not assigned to a repository: "
            "add it to APP_REPOSITORY in alzette/core/repositories.py."
        )
    return alias


class RepositoryRouter:
    """Route reads, writes and migrations by the app's repository."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        return _alias_for(model)

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        return _alias_for(model)

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        # Returning False (not None) makes Django refuse the relation outright.
        return _alias_for(obj1) == _alias_for(obj2)

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        alias = repository_of(app_label)
        if db == "default":
            # "default" is the personal connection under another name (see db.py).
            db = "personal"
        return alias is not None and alias == db
