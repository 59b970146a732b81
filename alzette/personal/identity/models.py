"""Identities a person brings from FranceConnect or ProConnect (personal repository)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel


class Provider(models.TextChoices):
    FRANCECONNECT = "franceconnect", "FranceConnect"
    PROCONNECT = "proconnect", "ProConnect"


class FederatedIdentity(BaseModel):
    """A provider's subject identifier linked to an account.

    ``sub`` is unique per provider *and* per client (FranceConnect) or identity
    provider (ProConnect), so it identifies a returning person, never a new one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="federated_identities"
    )
    provider = models.CharField(_("provider"), max_length=32, choices=Provider.choices)
    sub = models.CharField(_("subject identifier"), max_length=255)
    last_login = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("federated identity")
        verbose_name_plural = _("federated identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "sub"], name="unique_federated_subject")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} identity"


class PivotIdentity(BaseModel):
    """The FranceConnect pivot identity of a citizen, the only basis for linking accounts.

    The fingerprint is a hash of the normalised pivot identity: two sign-ins with
    the same civil identity, whatever their ``sub``, reach the same account, and
    an e-mail address alone never does.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pivot_identity"
    )
    given_name = models.CharField(_("given names"), max_length=255)
    family_name = models.CharField(_("birth name"), max_length=255)
    birthdate = models.CharField(_("date of birth"), max_length=10)
    gender = models.CharField(_("gender"), max_length=16)
    birthplace = models.CharField(_("place of birth (INSEE code)"), max_length=5, blank=True)
    birthcountry = models.CharField(_("country of birth (INSEE code)"), max_length=5)
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("pivot identity")
        verbose_name_plural = _("pivot identities")

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"
