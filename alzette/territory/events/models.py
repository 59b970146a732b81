"""Events on the territory (an illegal dump, ...) and statistics of public services.

Written only by the anonymisation bridge (``alzette.bridge``) from what citizens
file: no person, no free text, no photo ever reaches these tables. A point is
kept to about ten metres, a date to the day.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
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
    # The territory's asset the report is about (a streetlight's entity id): an
    # asset, never a person.
    asset_ref = models.CharField(_("asset"), max_length=150, blank=True, db_index=True)
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


class AggregateRelease(BaseModel):
    """One release of an aggregate spec by the bridge: the release log. It says what
    was released and under which protection, never who is counted."""

    spec = models.CharField(_("aggregate"), max_length=60, db_index=True)
    released_at = models.DateTimeField(_("released at"), default=timezone.now, db_index=True)
    period_from = models.CharField(_("first period"), max_length=10, blank=True)
    period_to = models.CharField(_("last period"), max_length=10, blank=True)
    k = models.PositiveSmallIntegerField(_("k (fewest subjects in a released cell)"))
    epsilon = models.FloatField(_("epsilon (differential privacy)"), null=True, blank=True)
    cells_released = models.PositiveIntegerField(_("cells released"))
    cells_suppressed = models.PositiveIntegerField(_("cells suppressed"))
    # The released columns beyond the counts, [{"name", "type"}], for the open-data source.
    measures = models.JSONField(_("measures"), default=list, blank=True)
    digest = models.CharField(_("SHA-256 of the released cells"), max_length=64)
    # The opening of the ``bridge.released`` ledger entry (docs/ledger.md).
    payload = models.JSONField(_("ledger payload"), default=dict, blank=True)
    ledger_index = models.BigIntegerField(_("ledger entry"), null=True, blank=True)
    ledger_salt = models.CharField(_("ledger salt"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("aggregate release")
        verbose_name_plural = _("aggregate releases")
        ordering = ("-released_at",)

    def __str__(self) -> str:
        return f"{self.spec} {self.released_at:%Y-%m-%d %H:%M}"


class Aggregate(BaseModel):
    """A released cell: an aggregate of at least k subjects for a commune, a period
    and a category ("" for all categories). Replaced whole at each release."""

    release = models.ForeignKey(
        AggregateRelease, on_delete=models.PROTECT, related_name="cells", verbose_name=_("release")
    )
    spec = models.CharField(_("aggregate"), max_length=60)
    commune_code = models.CharField(_("commune"), max_length=9, blank=True)
    period = models.CharField(_("period"), max_length=10)
    category = models.CharField(_("category"), max_length=60, blank=True)
    subjects = models.PositiveIntegerField(_("subjects (households or accounts)"))
    measures = models.JSONField(_("measures"), default=dict, blank=True)
    # Keyed fingerprints of the true figures (HMAC, key on the personal side only): the
    # bridge keeps a figure's noise while its true value is unchanged, so that repeated
    # releases cannot be averaged. They reveal nothing without the key.
    fingerprints = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("aggregate")
        verbose_name_plural = _("aggregates")
        ordering = ("spec", "commune_code", "period", "category")
        constraints = [
            models.UniqueConstraint(
                fields=["spec", "commune_code", "period", "category"], name="territory_one_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.spec} {self.commune_code} {self.period} {self.category}"
