"""Accounts of natural persons: citizens, agents, partners and administrators."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.mail import language_or_default
from alzette.core.models import BaseModel


def language_choices() -> list[tuple[str, Any]]:
    """The platform's languages (a callable, so that migrations do not copy the list)."""
    return list(settings.LANGUAGES)


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


class UnitKind(models.TextChoices):
    EPCI = "epci", _("Intercommunality (EPCI)")
    COMMUNE = "commune", _("Commune")
    SERVICE = "service", _("Service")


class OrganisationalUnit(BaseModel):
    """Where agents work: the EPCI, a commune, or a service within one of them."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("organisational unit")
        verbose_name_plural = _("organisational units")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name


class PartnerOrganisation(BaseModel):
    """A company, association or public body whose members build on the platform."""

    name = models.CharField(_("name"), max_length=200)
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        unique=True,
        blank=True,
        null=True,
        validators=[RegexValidator(r"^[0-9]{14}$", _("A SIRET number has 14 digits."))],
    )
    # The same body on the territory side (``catalogue.Organisation``), where its
    # datasets, applications and grants live; linked by slug, never by a join.
    organisation_slug = models.SlugField(
        _("organisation on the territory side"),
        max_length=100,
        unique=True,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


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
    unit = models.ForeignKey(
        OrganisationalUnit,
        verbose_name=_("organisational unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agents",
        help_text=_("Where an agent works: the EPCI, a commune or one of their services."),
    )
    partner_organisation = models.ForeignKey(
        PartnerOrganisation,
        verbose_name=_("partner organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    pseudonym = models.CharField(
        _("pseudonym"), max_length=32, unique=True, default=new_pseudonym, editable=False
    )
    # Empty until the person chooses (the header's language switch, or their
    # preferences page); e-mails then go out in the platform's default language.
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=16,
        blank=True,
        default="",
        choices=language_choices,
        help_text=_("The language of the e-mails the platform sends to this person."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        if self.role == Role.AGENT and self.unit_id is None:
            raise ValidationError({"unit": _("An agent belongs to an organisational unit.")})
        if self.role != Role.AGENT and self.unit_id is not None:
            raise ValidationError({"unit": _("Only agents belong to an organisational unit.")})
        if self.role != Role.PARTNER and self.partner_organisation_id is not None:
            raise ValidationError(
                {"partner_organisation": _("Only partners belong to a partner organisation.")}
            )

    @property
    def mail_language(self) -> str:
        """The language to write to this person in: theirs, else the platform's default."""
        return language_or_default(self.preferred_language)

    @property
    def requires_second_factor(self) -> bool:
        """Agents and administrators must sign in with a second factor (TOTP)."""
        return self.role in (Role.AGENT, Role.ADMINISTRATOR)

    def get_abilities(self, actor: Any) -> dict[str, bool]:
        """What ``actor`` may do with this account: the one source of truth for pages and APIs.

        Agents see the accounts of colleagues in their scope (their unit and the units
        below it), never citizens' accounts: those are reached only through the
        procedures a citizen files, with their own abilities.
        """
        from alzette.personal.accounts.authz import unit_scope

        if not getattr(actor, "is_authenticated", False):
            return dict.fromkeys(("view", "update", "delete"), False)
        is_self = actor.pk == self.pk
        is_admin = actor.role == Role.ADMINISTRATOR
        colleague = self.unit is not None and self.unit.code in unit_scope(actor)
        return {
            "view": is_self or is_admin or colleague,
            "update": is_self or is_admin,
            "delete": is_self,
        }


class AlertMailWindow(models.Model):
    """Throttling of one supervision rule's alert e-mails (``alertmail``).

    The first alert of a rule opens a window and is mailed at once; the alerts that
    follow within the window are counted here and mailed as one digest when it ends,
    so an outage that silences thousands of devices sends a handful of e-mails, not
    thousands. Kept in the database because several web and worker processes fire
    alerts. Holds territory identifiers only (a rule id, entity ids), no person.
    """

    #: The territory's ``AlertRule`` primary key (no relation crosses repositories).
    rule_id = models.PositiveBigIntegerField(_("rule"), unique=True)
    rule_name = models.CharField(_("rule name"), max_length=200)
    #: The rule's unit code, whose agents (and the EPCI's) receive the digest.
    unit = models.CharField(_("unit"), max_length=32)
    opened_at = models.DateTimeField(_("window opened"))
    pending_count = models.PositiveIntegerField(_("alerts not yet mailed"), default=0)
    #: When the oldest alert not yet mailed fired ("since HH:MM" in the digest).
    pending_since = models.DateTimeField(_("oldest alert not yet mailed"), null=True, blank=True)
    #: Entity ids of the first alerts not yet mailed (a sample, not every one).
    pending_sample = models.JSONField(_("sample of entities"), default=list, blank=True)

    class Meta:
        verbose_name = _("alert e-mail window")
        verbose_name_plural = _("alert e-mail windows")
        indexes = [models.Index(fields=["opened_at"], name="accounts_alertwin_opened")]

    def __str__(self) -> str:
        return f"{self.rule_name} ({self.pending_count})"


class AlertMailOwed(models.Model):
    """Alert e-mails some agents did not get because the mail server refused their
    language's message (the others were sent): retried for them only, by the digest
    job, with a growing delay, then given up (logged). The addresses are agents'
    work addresses; the row is deleted once they are reached or given up on.
    """

    rule_id = models.PositiveBigIntegerField(_("rule"))
    rule_name = models.CharField(_("rule name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=32)
    #: When the oldest alert of the message fired.
    since = models.DateTimeField(_("oldest alert"))
    count = models.PositiveIntegerField(_("alerts"))
    sample = models.JSONField(_("sample of entities"), default=list, blank=True)
    #: ``[[address, language], ...]`` still to reach.
    recipients = models.JSONField(_("recipients still to reach"), default=list)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    next_attempt_at = models.DateTimeField(_("next attempt"))

    class Meta:
        verbose_name = _("alert e-mail to retry")
        verbose_name_plural = _("alert e-mails to retry")
        indexes = [models.Index(fields=["next_attempt_at"], name="accounts_alertowed_next")]

    def __str__(self) -> str:
        return f"{self.rule_name} ({len(self.recipients)})"
