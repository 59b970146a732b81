"""Households and what incentive waste pricing needs to know about them.

- ``Household``: the people who share bins and a bill, in one commune.
- ``BinAllocation``: which household holds a bin (an NGSI-LD WasteContainer) and since when.
- ``HouseholdLift``: a lift of one of its bins, counted for the household that held
  the bin on that day (the territory's ``waste.Lift`` carries no household).
- ``Tariff``: the commune's (or the whole territory's) prices for a year.
- ``CentreCard``: a recycling-centre badge or number plate, stored only as a keyed
  HMAC (a plate is personal data; the gate never needs the value back).
- ``CentreVisit``: each decision at a recycling centre's gate for a known card.
- ``GateKey``: the secret a centre's gate uses to call the API, stored hashed.
- ``LedgerRecord``: the salts of this app's ledger entries (to open the commitments).

Everything here is personal data: it lives in the personal repository.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening

#: INSEE code of a commune (Corsica's 2A/2B included).
commune_validator = RegexValidator(
    r"^[0-9][0-9AB][0-9]{3}$", _("An INSEE commune code has 5 characters.")
)
#: The NGSI-LD id of a waste container, e.g. urn:ngsi-ld:WasteContainer:bin-57038-001.
bin_validator = RegexValidator(
    r"^urn:ngsi-ld:WasteContainer:[A-Za-z0-9_.-]{1,120}$",
    _("A bin is named by its NGSI-LD WasteContainer id."),
)
centre_validator = RegexValidator(r"^[a-z0-9][a-z0-9-]{0,59}$", _("Not a centre's short name."))


class Household(BaseModel):
    commune_code = models.CharField(
        _("commune (INSEE code)"), max_length=5, validators=[commune_validator]
    )
    reference = models.CharField(
        _("reference"),
        max_length=64,
        unique=True,
        help_text=_("The label agents use for the household (a billing reference)."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        related_name="households",
        blank=True,
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ("commune_code", "reference")

    def __str__(self) -> str:
        return self.reference


class BinAllocation(BaseModel):
    """The household holds the bin from ``starts_on`` (included) to ``ends_on``
    (excluded: the first day it no longer holds it); open-ended while ``ends_on`` is
    empty. A bin has at most one open allocation."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="bins"
    )
    bin_id = models.CharField(_("bin"), max_length=160, validators=[bin_validator])
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (excluded)"), null=True, blank=True)

    class Meta:
        verbose_name = _("bin allocation")
        verbose_name_plural = _("bin allocations")
        ordering = ("bin_id", "-starts_on")
        constraints = [
            models.UniqueConstraint(
                fields=["bin_id"], condition=Q(ends_on__isnull=True), name="one_open_allocation"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
                name="allocation_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.bin_id

    @property
    def short_id(self) -> str:
        return self.bin_id.rsplit(":", 1)[-1]

    def holds_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


class HouseholdLift(BaseModel):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="lifts"
    )
    bin_id = models.CharField(_("bin"), max_length=160, validators=[bin_validator])
    lifted_at = models.DateTimeField(_("lifted at"), db_index=True)
    weight_kg = models.FloatField(
        _("weight (kg)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    #: The territory's ``waste.Lift`` id: receiving the same lift twice counts it once.
    #: Synthetic lifts (demo) have negative ids and ``synthetic`` set.
    lift_id = models.BigIntegerField(_("lift id"), unique=True)
    synthetic = models.BooleanField(_("synthetic (demo)"), default=False)

    class Meta:
        verbose_name = _("lift")
        verbose_name_plural = _("lifts")
        ordering = ("-lifted_at",)


class Tariff(BaseModel):
    commune_code = models.CharField(
        _("commune (INSEE code)"),
        max_length=5,
        blank=True,
        validators=[commune_validator],
        help_text=_("Empty: the tariff of every commune without one of its own."),
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000)])
    fixed_eur = models.DecimalField(_("fixed part (€)"), max_digits=8, decimal_places=2)
    per_lift_eur = models.DecimalField(_("price per lift (€)"), max_digits=6, decimal_places=2)
    per_kg_eur = models.DecimalField(_("price per kg (€)"), max_digits=6, decimal_places=3)
    included_lifts = models.PositiveSmallIntegerField(_("lifts included in the fixed part"))

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ("-year", "commune_code")
        constraints = [
            models.UniqueConstraint(fields=["commune_code", "year"], name="one_tariff_per_year"),
            models.CheckConstraint(
                condition=Q(fixed_eur__gte=0) & Q(per_lift_eur__gte=0) & Q(per_kg_eur__gte=0),
                name="tariff_not_negative",
            ),
        ]


class CardKind(models.TextChoices):
    BADGE = "badge", _("Badge")
    PLATE = "plate", _("Number plate")


class CentreCard(BaseModel):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="cards"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=CardKind.choices)
    #: HMAC-SHA256 of the normalised value under the households' card key (services).
    digest = models.CharField(_("keyed digest"), max_length=64, unique=True, editable=False)
    last_chars = models.CharField(_("ends with"), max_length=3)

    class Meta:
        verbose_name = _("recycling centre card")
        verbose_name_plural = _("recycling centre cards")
        ordering = ("household", "kind", "created_at")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} …{self.last_chars}"


class CentreVisit(BaseModel):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="visits"
    )
    centre = models.CharField(_("centre"), max_length=60, validators=[centre_validator])
    at = models.DateTimeField(_("at"), db_index=True)
    allowed = models.BooleanField(_("allowed"))
    reason = models.CharField(_("reason"), max_length=32)

    class Meta:
        verbose_name = _("recycling centre visit")
        verbose_name_plural = _("recycling centre visits")
        ordering = ("-at",)


class GateKey(BaseModel):
    centre = models.CharField(_("centre"), max_length=60, validators=[centre_validator])
    #: SHA-256 of the key (a 256-bit random string: nothing to slow down).
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("gate key")
        verbose_name_plural = _("gate keys")
        ordering = ("centre", "-created_at")


class LedgerRecord(LedgerOpening):
    """The opening of one of this app's ledger entries (its payload and salt)."""

    object_ref = models.CharField(_("object"), max_length=200, db_index=True)
