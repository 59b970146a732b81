"""The service store: who provides services to the territory's people, and which.

A ``Provider`` is the EPCI, a commune, another public body, an association or a
company. A ``Service`` is what people find in the store; when it signs people in
with their Alzette account it is tied to an OpenID Connect client of the
platform's provider (``oauth2_provider.Application``), and activating it is
consenting to its scopes (``sso.Consent``). A service that is only a link can be
activated too, to keep it at hand (``Activation``).

The catalogue lives in the personal repository because activations and consents
are personal and refer to it; it holds no personal data itself beyond who
submitted and who moderated an entry.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from alzette.core.models import BaseModel
from alzette.core.translated import (
    pick,
    validate_optional_translations,
    validate_translations,
)
from alzette.core.validators import ReservedSlugValidator, slug_validator
from alzette.personal.accounts.models import OrganisationalUnit, PartnerOrganisation

#: Path segments of /services/ that a service's short name cannot take.
RESERVED_SLUGS = frozenset({"manage", "moderation", "providers", "logos"})


class ProviderKind(models.TextChoices):
    EPCI = "epci", _("Intercommunality (EPCI)")
    COMMUNE = "commune", _("Commune")
    PUBLIC_BODY = "public_body", _("Other public body")
    ASSOCIATION = "association", _("Association")
    PRIVATE_GENERAL_INTEREST = "private_general_interest", _("Private service of general interest")
    PRIVATE = "private", _("Private service")

    @classmethod
    def public(cls) -> frozenset[str]:
        return frozenset({cls.EPCI, cls.COMMUNE, cls.PUBLIC_BODY})

    @classmethod
    def private(cls) -> frozenset[str]:
        return frozenset({cls.PRIVATE_GENERAL_INTEREST, cls.PRIVATE})


class Theme(models.TextChoices):
    ADMINISTRATION = "administration", _("Procedures and administration")
    WASTE = "waste", _("Waste and recycling")
    ENERGY = "energy", _("Energy")
    WATER = "water", _("Water")
    MOBILITY = "mobility", _("Mobility")
    HOUSING = "housing", _("Housing and renovation")
    CARE = "care", _("Home care and health")
    CHILDHOOD = "childhood", _("Childhood and schools")
    FOOD = "food", _("Local producers and food")
    CULTURE = "culture", _("Culture, sport and leisure")
    EMPLOYMENT = "employment", _("Jobs and economy")
    ENVIRONMENT = "environment", _("Environment")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting moderation")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Provider(BaseModel):
    """Who runs services: a public body (an organisational unit) or an organisation."""

    slug = models.SlugField(
        _("short name"), max_length=60, unique=True, validators=[slug_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=ProviderKind.choices)
    unit = models.OneToOneField(
        OrganisationalUnit,
        verbose_name=_("organisational unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="store_provider",
        help_text=_("For the EPCI and the communes: their agents manage its services."),
    )
    organisation = models.OneToOneField(
        PartnerOrganisation,
        verbose_name=_("partner organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="store_provider",
        help_text=_("For other providers: the members of this organisation manage its services."),
    )
    description = models.JSONField(
        _("description"), default=dict, blank=True, validators=[validate_optional_translations]
    )
    website = models.URLField(_("website"), blank=True)
    contact_email = models.EmailField(_("contact e-mail address"), blank=True)
    logo = models.CharField(_("logo"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ("name",)
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(unit__isnull=False) & models.Q(organisation__isnull=False)),
                name="store_provider_unit_or_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_private(self) -> bool:
        return self.kind in ProviderKind.private()

    def local_description(self) -> str:
        return pick(self.description)


class ServiceQuerySet(models.QuerySet["Service"]):
    def published(self) -> ServiceQuerySet:
        return self.filter(status=Status.PUBLISHED)

    def serving(self, commune: OrganisationalUnit | None) -> ServiceQuerySet:
        """Services of the whole territory and those of ``commune``."""
        if commune is None:
            return self
        return self.filter(models.Q(communes__isnull=True) | models.Q(communes=commune)).distinct()


class Service(BaseModel):
    """A service in the store."""

    slug = models.SlugField(
        _("short name"),
        max_length=60,
        unique=True,
        validators=[slug_validator, ReservedSlugValidator(RESERVED_SLUGS)],
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="services"
    )
    name = models.JSONField(_("name"), validators=[validate_translations])
    summary = models.JSONField(_("summary"), validators=[validate_translations])
    description = models.JSONField(_("description"), validators=[validate_translations])
    theme = models.CharField(_("theme"), max_length=32, choices=Theme.choices)
    communes = models.ManyToManyField(
        OrganisationalUnit,
        verbose_name=_("communes served"),
        blank=True,
        related_name="store_services",
        limit_choices_to={"kind": "commune"},
        help_text=_("None: the whole territory."),
    )
    web_url = models.URLField(_("web address"), blank=True)
    android_url = models.URLField(_("Android app"), blank=True)
    ios_url = models.URLField(_("iOS app"), blank=True)
    logo = models.CharField(_("logo"), max_length=200, blank=True, editable=False)
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        verbose_name=_("single sign-on client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="store_service",
    )
    # What a provider asks for, before an agent approves it and the client exists.
    redirect_uris = models.TextField(_("redirect URIs"), blank=True)
    requested_scopes = models.CharField(_("requested scopes"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moderated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderation_note = models.TextField(_("moderation note"), blank=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("store service")
        verbose_name_plural = _("store services")
        ordering = ("slug",)

    def __str__(self) -> str:
        return pick(self.name) or self.slug

    def clean(self) -> None:
        super().clean()
        if self.requested_scopes and not self.redirect_uris.strip():
            raise ValidationError(
                {"redirect_uris": _("Single sign-on needs at least one redirect URI.")}
            )
        if not (self.web_url or self.android_url or self.ios_url):
            raise ValidationError(
                _("Give at least one way to reach the service: a web address or an app.")
            )

    @property
    def signs_in(self) -> bool:
        """Whether the service signs people in with their Alzette account."""
        return self.application_id is not None

    def local_name(self) -> str:
        return pick(self.name) or self.slug

    def local_summary(self) -> str:
        return pick(self.summary)

    def local_description(self) -> str:
        return pick(self.description)

    def get_abilities(self, actor: Any) -> dict[str, bool]:
        """What ``actor`` may do with this service: the one source of truth for the
        store's pages, its API and the tests (see ``alzette.personal.store.authz``)."""
        from alzette.personal.store.authz import service_abilities

        return service_abilities(self, actor)


class Activation(BaseModel):
    """A person keeps a service that does not sign them in at hand (a link in the
    store and on their dashboard). Services that sign people in are "active" while
    the person's consent (``sso.Consent``) exists: there is no row here for them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="store_activations",
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.CASCADE, related_name="activations"
    )

    class Meta:
        verbose_name = _("activated service")
        verbose_name_plural = _("activated services")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="store_one_activation")
        ]

    def __str__(self) -> str:
        return str(self.service)
