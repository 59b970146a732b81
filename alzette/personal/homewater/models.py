"""A household's own water: its meter, its readings, its daily use and its warnings.

- ``MeterAllocation``: which household holds a water meter (by serial) and since when.
- ``Reading``: one accepted hourly reading of the household's meter (index and the
  litres used since the previous one). Kept ``ALZETTE_HOMEWATER_READING_DAYS`` days.
- ``DailyUse``: litres per local day and hours with use (kept
  ``ALZETTE_HOMEWATER_DAILY_DAYS`` days, for the monthly and last-year comparisons).
- ``Warning``: a leak (from the territory's detector) or an abnormal use (found here).
- ``LedgerRecord``: the openings of this app's ledger entries.

Everything here is personal data: it lives in the personal repository. The
territory knows a meter's serial and district, never its household.
"""

from __future__ import annotations

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening
from alzette.personal.households.models import Household

#: A household meter's serial, e.g. W26-000123.
serial_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,5}-[0-9]{4,9}$", _("A meter serial looks like W26-000123.")
)


class MeterAllocation(BaseModel):
    """The household holds the meter from ``starts_on`` (included) to ``ends_on``
    (excluded); open-ended while ``ends_on`` is empty. A meter has at most one open
    allocation, a household at most one open meter."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="water_meters",
    )
    serial = models.CharField(_("meter serial"), max_length=16, validators=[serial_validator])
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (excluded)"), null=True, blank=True)
    persons = models.PositiveSmallIntegerField(
        _("persons living in the household"),
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        default=1,
        help_text=_("Used to compare the household with households of the same size."),
    )

    class Meta:
        verbose_name = _("water meter allocation")
        verbose_name_plural = _("water meter allocations")
        ordering = ("serial", "-starts_on")
        constraints = [
            models.UniqueConstraint(
                fields=["serial"], condition=Q(ends_on__isnull=True), name="one_open_meter"
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(ends_on__isnull=True),
                name="one_open_meter_per_household",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")),
                name="meter_allocation_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.serial

    def holds_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


class Reading(models.Model):
    """The meter's index at ``at`` (on the hour) and the litres used in the hour
    ending then (since the previous reading; 0 for the first one)."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="+"
    )
    serial = models.CharField(_("meter serial"), max_length=16)
    at = models.DateTimeField(_("at"))
    index_litres = models.BigIntegerField(_("index (L)"), validators=[MinValueValidator(0)])
    litres = models.IntegerField(_("litres used"), validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("water reading")
        verbose_name_plural = _("water readings")
        ordering = ("-at",)
        constraints = [
            models.UniqueConstraint(fields=["serial", "at"], name="one_reading_per_meter_hour")
        ]
        indexes = [models.Index(fields=["household", "at"], name="homewater_reading_hh_at")]

    def __str__(self) -> str:
        return f"{self.serial} {self.at:%Y-%m-%d %H:%M}"


class DailyUse(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    litres = models.IntegerField(_("litres"), default=0)
    hours_with_use = models.PositiveSmallIntegerField(_("hours with use"), default=0)

    class Meta:
        verbose_name = _("daily water use")
        verbose_name_plural = _("daily water use")
        ordering = ("-day",)
        constraints = [
            models.UniqueConstraint(fields=["household", "day"], name="one_daily_use_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.litres} L"


class WarningKind(models.TextChoices):
    LEAK = "leak", _("Possible leak")
    ABNORMAL = "abnormal", _("Abnormal use")


class Warning(BaseModel):
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.CASCADE,
        related_name="water_warnings",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=WarningKind.choices)
    serial = models.CharField(_("meter serial"), max_length=16, blank=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    #: Numbers only (litres, litres per hour, the usual median, hours...), never text.
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    seen_at = models.DateTimeField(_("seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("water warning")
        verbose_name_plural = _("water warnings")
        ordering = ("-started_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind"],
                condition=Q(ended_at__isnull=True),
                name="one_open_warning_per_kind",
            )
        ]

    @property
    def open(self) -> bool:
        return self.ended_at is None


class LedgerRecord(LedgerOpening):
    """The opening of one of this app's ledger entries (its payload and salt)."""

    object_ref = models.CharField(_("object"), max_length=200, db_index=True)
