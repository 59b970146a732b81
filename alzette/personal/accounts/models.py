"""Accounts of natural persons: citizens, agents, partners and administrators."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_pseudonym() -> str:
    """A random opaque id: the only way the territory repository may refer to a person.

    It is random rather than derived from any attribute, so nothing about the
    person can be recomputed from it.
    """
    return secrets.token_hex(16)


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    AGENT = "agent", _("Municipal agent")
    PARTNER = "partner", _("Partner developer")
    ADMINISTRATOR = "administrator", _("Administrator")


class UserManager(BaseUserManager["User"]):
    """Users are identified by their e-mail address; there is no username."""

    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMINISTRATOR)
        return self._create(email, password, **fields)


class User(AbstractUser):
    """A person with an account. Lives only in the personal repository."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CITIZEN)
    unit_code = models.CharField(
        _("organisational unit"),
        max_length=16,
        blank=True,
        help_text=_("Code of the EPCI or commune an agent works for (INSEE code for a commune)."),
    )
    pseudonym = models.CharField(
        _("pseudonym"), max_length=32, unique=True, default=new_pseudonym, editable=False
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def get_abilities(self, actor: User) -> dict[str, bool]:
        """What ``actor`` may do with this account: the one source of truth for pages and APIs."""
        is_self = actor.is_authenticated and actor.pk == self.pk
        is_admin = actor.is_authenticated and actor.role == Role.ADMINISTRATOR
        return {"view": is_self or is_admin, "update": is_self or is_admin, "delete": is_self}
