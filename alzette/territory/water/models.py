"""Water networks on the territory side: districts, household meters as assets, and the
districts' anonymous hourly totals (docs/water.md).

The inflow, pressure and quality of a district are NGSI-LD entities (their values
live in the context store and its history). A household meter is an asset: its
serial, district and commune, its last index. Its readings are personal: the
territory keeps no per-meter history, only the district's hourly total of the
meters that reported, and a rolling 24-hour flag string for the leak detector.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import LedgerOpening


class District(models.Model):
    """A distribution district (secteur de distribution) fed by one inflow meter."""

    #: ``<INSEE>-<n>``, e.g. 57038-1.
    slug = models.CharField(_("slug"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    #: INSEE code of the commune.
    commune = models.CharField(_("commune"), max_length=5, db_index=True)
    #: A GeoJSON polygon, when known.
    geometry = models.JSONField(_("geometry"), null=True, blank=True)
    #: Night minimum flow (L/h) above which a leak is suspected.
    night_flow_threshold = models.PositiveIntegerField(
        _("night flow threshold (L/h)"), default=1500
    )
    #: Share of the inflow not found in metered use above which the balance alerts (0-1).
    balance_threshold = models.FloatField(_("balance threshold (share)"), default=0.25)
    #: The district meter's entity id (urn:ngsi-ld:WaterConsumptionObserved:district-…).
    inflow_entity = models.CharField(_("inflow meter entity"), max_length=255)

    class Meta:
        verbose_name = _("water district")
        verbose_name_plural = _("water districts")
        ordering = ("slug",)

    def __str__(self) -> str:
        return f"{self.slug} {self.name}"


class Meter(models.Model):
    """A household water meter as an asset; never who lives behind it."""

    serial = models.CharField(_("serial"), max_length=20, unique=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="meters", null=True, blank=True
    )
    commune = models.CharField(_("commune"), max_length=5, db_index=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    last_index = models.BigIntegerField(_("last index (L)"), null=True, blank=True)
    last_at = models.DateTimeField(_("last reading"), null=True, blank=True)
    #: Rolling leak-detector state: hour (UTC, ISO) -> litres used that hour, the
    #: last hours only (``detection.window_hours()`` + a margin); not a history.
    recent_hours = models.JSONField(_("recent hours"), default=dict, blank=True)
    #: When the continuous flow started, while a leak is suspected.
    leak_since = models.DateTimeField(_("leak suspected since"), null=True, blank=True)

    class Meta:
        verbose_name = _("household water meter")
        verbose_name_plural = _("household water meters")
        ordering = ("serial",)

    def __str__(self) -> str:
        return self.serial


class DistrictHour(models.Model):
    """Litres measured in one hour by the district's household meters that reported, and
    how many distinct meters reported in it (a meter reporting twice counts once)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="hours")
    #: Start of the hour (UTC).
    hour = models.DateTimeField(_("hour"))
    litres = models.BigIntegerField(_("metered litres"), default=0)
    meters = models.PositiveIntegerField(_("meters reporting"), default=0)

    class Meta:
        verbose_name = _("district hour")
        verbose_name_plural = _("district hours")
        constraints = [
            models.UniqueConstraint(fields=["district", "hour"], name="water_districthour_unique")
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.hour:%Y-%m-%d %H}"


class BalanceDay(models.Model):
    """A district's day whose network balance the detector judged (once; docs/water.md):
    the detector judges each complete day after the last one recorded here, so days
    missed while the worker was down are judged when it comes back. District figures
    only, nothing about a household."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="balance_days")
    #: The local day judged.
    day = models.DateField(_("day"))
    judged_at = models.DateTimeField(_("judged at"))
    inflow_m3 = models.FloatField(_("inflow (m³)"))
    estimated_m3 = models.FloatField(_("estimated use (m³)"))
    loss_share = models.FloatField(_("share lost"))
    #: Whether the loss was above the district's threshold (an alert was raised).
    above = models.BooleanField(_("above the threshold"), default=False)

    class Meta:
        verbose_name = _("judged balance day")
        verbose_name_plural = _("judged balance days")
        ordering = ("district", "day")
        constraints = [
            models.UniqueConstraint(fields=["district", "day"], name="water_balanceday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.day}"


class Reading(models.Model):
    """Which contentInstances were applied (the message id only, for deduplication:
    no meter, no index). Pruned after a few days."""

    source_ri = models.CharField(_("source"), max_length=64, unique=True)
    received_at = models.DateTimeField(_("received"), db_index=True)

    class Meta:
        verbose_name = _("applied reading")
        verbose_name_plural = _("applied readings")

    def __str__(self) -> str:
        return self.source_ri


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a water entry in the ledger (docs/ledger.md)."""

    object_ref = models.CharField(max_length=80, db_index=True)
