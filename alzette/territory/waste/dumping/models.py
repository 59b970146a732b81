"""Illegal dumping: agents' reports and the interventions that clear a dump.

Citizens' reports are not stored here: the bridge publishes them as anonymised
``TerritoryEvent`` rows (kind ``illegal_dump``, alzette/bridge/procedures.py). An
agent's report holds no photo and no free text by design, so that nothing an
agent types about a person can reach a map; the agent is only a pseudonym.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening
from alzette.territory.events.models import TerritoryEvent

#: The kind of territory event the bridge writes for a citizen's report.
EVENT_KIND = "illegal_dump"


class Category(models.TextChoices):
    """What was dumped: the same words as the citizens' procedure's ``kind`` answer."""

    BULKY = "bulky", _("Bulky items")
    RUBBLE = "rubble", _("Rubble")
    GREEN = "green", _("Green waste")
    HAZARDOUS = "hazardous", _("Hazardous products")
    HOUSEHOLD = "household", _("Household rubbish")
    OTHER = "other", _("Other")


class Volume(models.TextChoices):
    SMALL = "small", _("Less than 1 m³")
    MEDIUM = "medium", _("1 to 5 m³")
    LARGE = "large", _("More than 5 m³")


class AgentReport(BaseModel):
    """A dump an agent found on the territory."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    commune_code = models.CharField(_("commune"), max_length=5, db_index=True)
    categories = models.JSONField(_("categories"), default=list)
    observed_on = models.DateField(_("observed on"), db_index=True)
    volume = models.CharField(_("estimated volume"), max_length=8, choices=Volume.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    reported_by = models.CharField(_("reported by (pseudonym)"), max_length=64)

    class Meta:
        verbose_name = _("agent's dumping report")
        verbose_name_plural = _("agents' dumping reports")
        ordering = ("-observed_on", "-created_at")

    def __str__(self) -> str:
        return f"{self.commune_code} {self.observed_on}"

    def clean(self) -> None:
        unknown = set(self.categories or []) - set(Category.values)
        if not self.categories or unknown:
            raise ValidationError({"categories": _("Choose at least one known category.")})


class Intervention(BaseModel):
    """Clearing one reported dump, tracked from planning to closure."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        CLEARED = "cleared", _("Cleared")
        PARTLY = "partly_cleared", _("Partly cleared")
        NOT_FOUND = "not_found", _("Nothing found on site")
        REFERRED = "referred", _("Referred to another service")

    # Exactly one target: a citizen's report (the anonymised event) or an agent's report.
    event = models.ForeignKey(
        TerritoryEvent,
        verbose_name=_("citizen's report"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dumping_interventions",
    )
    report = models.ForeignKey(
        AgentReport,
        verbose_name=_("agent's report"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interventions",
    )
    commune_code = models.CharField(_("commune"), max_length=5, db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    team = models.CharField(_("team"), max_length=80)
    planned_for = models.DateField(_("planned for"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.CharField(_("closed by (pseudonym)"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    planned_by = models.CharField(_("planned by (pseudonym)"), max_length=64)

    class Meta:
        verbose_name = _("dumping intervention")
        verbose_name_plural = _("dumping interventions")
        ordering = ("planned_for", "created_at")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(event__isnull=False, report__isnull=True)
                           | models.Q(event__isnull=True, report__isnull=False)),
                name="dumping_intervention_one_target",
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.team} {self.planned_for}"

    def clean(self) -> None:
        if (self.event_id is None) == (self.report_id is None):
            raise ValidationError(_("An intervention targets exactly one report."))
        if self.status == self.Status.DONE and not self.outcome:
            raise ValidationError({"outcome": _("A done intervention has an outcome.")})

    @property
    def target_ref(self) -> str:
        return f"event:{self.event_id}" if self.event_id else f"report:{self.report_id}"

    @property
    def open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.IN_PROGRESS)


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a dumping entry of the ledger (docs/ledger.md)."""

    object_ref = models.CharField(max_length=80, db_index=True)
