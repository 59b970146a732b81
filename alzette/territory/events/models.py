"""Events on the territory (an illegal dump, ...) and statistics of public services.

Written only by the anonymisation bridge (``alzette.bridge``) from what citizens
file: no person, no free text, no photo ever reaches these tables. A point is
kept to about ten metres, a date to the day.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel


class TerritoryEvent(BaseModel):
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    commune_code = models.CharField(_("commune"), max_length=5, blank=True, db_index=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    observed_on = models.DateField(_("observed on"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=[("open", _("Open")), ("closed", _("Closed"))],
        default="open",
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # A keyed hash of the source (HMAC): the bridge finds the event again to close
    # it; nothing here leads back to the file or the person.
    source_ref = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("territory event")
        verbose_name_plural = _("territory events")
        ordering = ("-observed_on",)

    def __str__(self) -> str:
        return f"{self.kind} {self.observed_on}"


class ProcedureStatistic(BaseModel):
    """Counts and delays of online procedures per procedure, commune and month."""

    procedure = models.CharField(_("procedure"), max_length=60)
    commune_code = models.CharField(_("commune"), max_length=5, blank=True)
    month = models.CharField(_("month"), max_length=7)
    filed = models.PositiveIntegerField(_("filed"))
    decided = models.PositiveIntegerField(_("decided"))
    accepted = models.PositiveIntegerField(_("accepted"))
    mean_delay_days = models.FloatField(_("mean delay (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("procedure statistic")
        verbose_name_plural = _("procedure statistics")
        ordering = ("procedure", "commune_code", "month")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "commune_code", "month"], name="territory_one_statistic"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure} {self.commune_code} {self.month}"
