"""What the OpenID Provider keeps besides django-oauth-toolkit's own tables.

DOT stores the services (``oauth2_provider.Application``), authorization codes,
access, refresh and ID tokens (hashed at rest). This app adds, per service, the
sector its pairwise subject identifiers are computed for, and, per person and
service, the consent the person gave.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from alzette.core.models import BaseModel
from alzette.personal.sso.conf import REQUIRED_SCOPE, SCOPES

DEFAULT_SCOPES = " ".join(SCOPES)


def validate_scopes(value: str) -> None:
    scopes = value.split()
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValidationError(
            _("Unknown scope(s): %(scopes)s."), params={"scopes": ", ".join(unknown)}
        )
    if REQUIRED_SCOPE not in scopes:
        raise ValidationError(_("The openid scope is required."))


class RelyingParty(BaseModel):
    """A service that signs people in through the platform (an OAuth ``Application``)."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        verbose_name=_("service"),
        on_delete=models.CASCADE,
        related_name="relying_party",
    )
    sector = models.CharField(
        _("sector identifier"),
        max_length=253,
        help_text=_(
            "Services of the same sector receive the same subject identifier for a person. "
            "Defaults to the host name of the redirect URIs; never change it once people "
            "have signed in."
        ),
    )
    allowed_scopes = models.CharField(
        _("allowed scopes"),
        max_length=200,
        default=DEFAULT_SCOPES,
        validators=[validate_scopes],
        help_text=_("Space-separated; the service may ask for no other."),
    )

    class Meta:
        verbose_name = _("single sign-on service")
        verbose_name_plural = _("single sign-on services")

    def __str__(self) -> str:
        return f"{self.application} ({self.sector})"

    def clean(self) -> None:
        super().clean()
        self.sector = self.sector.strip().lower()


class Consent(BaseModel):
    """What a person agreed to share with a service; asked again for anything more."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="sso_consents",
    )
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        verbose_name=_("service"),
        on_delete=models.CASCADE,
        related_name="sso_consents",
    )
    scope = models.CharField(_("scopes"), max_length=200, validators=[validate_scopes])

    class Meta:
        verbose_name = _("consent to a service")
        verbose_name_plural = _("consents to services")
        ordering = ("-updated_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["user", "application"], name="sso_one_consent_per_service"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application}: {self.scope}"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class RedeemedCode(BaseModel):
    """An authorization code already exchanged, kept briefly to catch its replay.

    RFC 6749, section 4.1.2: a code used twice is refused and the tokens issued for
    it are revoked. DOT deletes the code when it is exchanged; this remembers its
    digest (never the code) and the family of tokens it started.
    """

    digest = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_family = models.UUIDField(null=True, blank=True)
    access_token_checksum = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"Redeemed code {self.digest[:8]}"
