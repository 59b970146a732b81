"""Streetlight faults and their repairs.

A ``Repair`` follows one faulty asset (a lamp, or a control cabinet) from the
report to its closing. Its sources: the device itself (a fault in its reports),
an agent, or citizens (anonymised ``TerritoryEvent`` rows the bridge wrote; each
joins the asset's open repair). Nothing personal is kept here.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening
from alzette.territory.events.models import TerritoryEvent

#: The kind of the citizens' broken-light events (``alzette.bridge.procedures``).
EVENT_KIND = "streetlight_fault"


class Repair(BaseModel):
    class Source(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        AGENT = "agent", _("Agent")
        DEVICE = "device", _("Device")

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        SCHEDULED = "scheduled", _("Scheduled")
        REPAIRED = "repaired", _("Repaired")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        LAMP_REPLACED = "lamp_replaced", _("Lamp replaced")
        LANTERN_REPLACED = "lantern_replaced", _("Lantern replaced")
        COLUMN_REPAIRED = "column_repaired", _("Column repaired")
        CABINET_REPAIRED = "cabinet_repaired", _("Cabinet repaired")
        NO_FAULT = "no_fault", _("No fault found")

    OPEN = (Status.REPORTED, Status.SCHEDULED)

    asset_id = models.CharField(_("lamp or cabinet"), max_length=150, db_index=True)
    commune_code = models.CharField(_("commune"), max_length=5, db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    fault = models.CharField(_("fault"), max_length=40)
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REPORTED
    )
    team = models.CharField(_("team"), max_length=80, blank=True)
    planned_for = models.DateField(_("planned for"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    repaired_at = models.DateTimeField(_("repaired at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    # The first citizen's report (the anonymised territory event), and every one joined.
    event = models.ForeignKey(
        TerritoryEvent, verbose_name=_("citizen's report"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    events = models.ManyToManyField(
        TerritoryEvent, verbose_name=_("citizens' reports"), blank=True, related_name="+"
    )
    updated_by = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("repair")
        verbose_name_plural = _("repairs")
        ordering = ("-reported_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["asset_id"],
                condition=Q(status__in=["reported", "scheduled"]),
                name="lighting_repairs_one_open_per_asset",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.status}"

    @property
    def open(self) -> bool:
        return self.status in self.OPEN

    @property
    def number(self) -> str:
        """The number on the pole: ``57038-001`` for ``...:streetlight-57038-001``."""
        short = self.asset_id.rsplit(":", 1)[-1]
        return short.split("-", 1)[1] if "-" in short else short


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a repair's ledger entry (docs/ledger.md)."""

    object_ref = models.CharField(max_length=80, db_index=True)
