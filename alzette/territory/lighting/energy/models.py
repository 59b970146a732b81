"""Street lighting energy on the territory side: the lamps' and cabinets' own reports,
and what they add up to per lamp and night (docs/lighting-energy.md).

Readings are kept a few weeks (``services.READINGS_DAYS``), long enough to recompute
the current and previous month; ``LampNight`` and ``CabinetNight`` rows stay.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LampReading(models.Model):
    """One ``state`` report of a streetlight (a contentInstance, applied once)."""

    #: The Streetlight's NGSI-LD entity id (urn:ngsi-ld:Streetlight:streetlight-57038-001).
    lamp_id = models.CharField(_("lamp"), max_length=255)
    commune = models.CharField(_("commune"), max_length=5)
    at = models.DateTimeField(_("observed at"))
    power_w = models.FloatField(_("power (W)"))
    level = models.FloatField(_("dimming level"), null=True, blank=True)
    power_state = models.CharField(_("power state"), max_length=12, blank=True)
    status = models.CharField(_("status"), max_length=20, blank=True)
    #: The night the reading falls in (the local date of its evening).
    night = models.DateField(_("night"))
    source_ri = models.CharField(_("source"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("lamp reading")
        verbose_name_plural = _("lamp readings")
        constraints = [
            models.UniqueConstraint(fields=["lamp_id", "at"], name="lighting_energy_reading_at")
        ]
        indexes = [models.Index(fields=["night"], name="lighting_energy_reading_night")]

    def __str__(self) -> str:
        return f"{self.lamp_id} {self.at:%Y-%m-%d %H:%M} {self.power_w} W"


class LampNight(models.Model):
    """What one lamp used in one night (local noon to the next local noon) and what it
    would have used at full power over the hours of darkness its reports cover."""

    lamp_id = models.CharField(_("lamp"), max_length=255)
    commune = models.CharField(_("commune"), max_length=5)
    #: The local date of the night's evening.
    night = models.DateField(_("night"))
    energy_wh = models.FloatField(_("energy (Wh)"), default=0.0)
    hours_on = models.FloatField(_("hours on"), default=0.0)
    #: Hours between sunset and sunrise covered by a held report.
    covered_hours = models.FloatField(_("hours of the night covered by reports"), default=0.0)
    reports = models.PositiveIntegerField(_("reports"), default=0)
    #: The lamp's powerRating when computed (W); None when the entity gives none.
    rating_w = models.FloatField(_("rated power (W)"), null=True, blank=True)
    night_hours = models.FloatField(_("night length (h)"), default=0.0)
    #: rating_w x covered_hours: full power over the dark hours the reports cover, the
    #: same intervals energy_wh is integrated over (None without a rating).
    reference_wh = models.FloatField(_("full-power reference (Wh)"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("lamp night")
        verbose_name_plural = _("lamp nights")
        constraints = [
            models.UniqueConstraint(fields=["lamp_id", "night"], name="lighting_energy_lamp_night")
        ]
        indexes = [
            models.Index(fields=["commune", "night"], name="lighting_energy_commune_night"),
            models.Index(fields=["night"], name="lighting_energy_night"),
        ]

    def __str__(self) -> str:
        return f"{self.lamp_id} {self.night} {self.energy_wh:.0f} Wh"


class CabinetReading(models.Model):
    """One ``meter`` report of a control cabinet: its cumulative energy (kWh)."""

    #: urn:ngsi-ld:StreetlightControlCabinet:cabinet-57038-1
    cabinet_id = models.CharField(_("cabinet"), max_length=255)
    commune = models.CharField(_("commune"), max_length=5)
    at = models.DateTimeField(_("observed at"))
    energy_kwh = models.FloatField(_("meter index (kWh)"))
    night = models.DateField(_("night"))
    source_ri = models.CharField(_("source"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("cabinet reading")
        verbose_name_plural = _("cabinet readings")
        constraints = [
            models.UniqueConstraint(fields=["cabinet_id", "at"], name="lighting_energy_cabinet_at")
        ]

    def __str__(self) -> str:
        return f"{self.cabinet_id} {self.at:%Y-%m-%d %H:%M} {self.energy_kwh} kWh"


class CabinetNight(models.Model):
    """The rise of a cabinet's meter over one night (steps ending in it)."""

    cabinet_id = models.CharField(_("cabinet"), max_length=255)
    commune = models.CharField(_("commune"), max_length=5)
    night = models.DateField(_("night"))
    energy_kwh = models.FloatField(_("energy (kWh)"), default=0.0)
    readings = models.PositiveIntegerField(_("readings"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("cabinet night")
        verbose_name_plural = _("cabinet nights")
        constraints = [
            models.UniqueConstraint(
                fields=["cabinet_id", "night"], name="lighting_energy_cabinet_night"
            )
        ]
        indexes = [models.Index(fields=["commune", "night"], name="lighting_energy_cab_commune")]

    def __str__(self) -> str:
        return f"{self.cabinet_id} {self.night} {self.energy_kwh:.1f} kWh"
