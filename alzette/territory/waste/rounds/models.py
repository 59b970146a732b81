"""Collection rounds: the fleet (depots and trucks) and the rounds computed for it.

A round is computed once and kept as it was computed (parameters, distances,
solver outcome) so that agents can compare rounds over time and audit what the
optimiser proposed; only its status changes afterwards (validated, then done).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening


class Depot(BaseModel):
    """Where trucks start, end and unload their rounds."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    lon = models.FloatField(
        _("longitude"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    lat = models.FloatField(
        _("latitude"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    commune = models.CharField(_("commune (INSEE code)"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("depot")
        verbose_name_plural = _("depots")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Truck(BaseModel):
    """A collection truck; its capacity is the volume of bin contents it holds, in litres."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    capacity_litres = models.PositiveIntegerField(
        _("capacity (litres)"), validators=[MinValueValidator(1)]
    )
    depot = models.ForeignKey(
        Depot, verbose_name=_("depot"), on_delete=models.PROTECT, related_name="trucks"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("truck")
        verbose_name_plural = _("trucks")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Round(BaseModel):
    """One computed collection round and how it compares with the fixed weekly round."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        VALIDATED = "validated", _("Validated")
        DONE = "done", _("Done")

    planned_for = models.DateField(_("planned for"), db_index=True)
    computed_at = models.DateTimeField(_("computed at"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    #: threshold, trucks, horizon (days until the next round), time_limit.
    parameters = models.JSONField(_("parameters"), default=dict)
    distance_m = models.PositiveBigIntegerField(_("distance (m)"), default=0)
    baseline_distance_m = models.PositiveBigIntegerField(_("fixed round distance (m)"), default=0)
    #: Baseline minus optimised; negative when the optimised round is longer.
    saved_m = models.BigIntegerField(_("distance saved (m)"), default=0)
    distance_source = models.CharField(_("distances from"), max_length=16, default="haversine")
    solver_status = models.CharField(_("solver status"), max_length=60, blank=True)
    solver_seconds = models.FloatField(_("solver time (s)"), default=0)
    container_count = models.PositiveIntegerField(_("containers collected"), default=0)
    baseline_container_count = models.PositiveIntegerField(
        _("containers of the fixed round"), default=0
    )
    #: Containers selected but left out for lack of capacity: [{id, load_l}].
    dropped = models.JSONField(_("left out"), default=list, blank=True)
    #: Who computed or last changed it: a pseudonym or "system:…", never a name.
    actor = models.CharField(_("actor"), max_length=64)

    class Meta:
        verbose_name = _("collection round")
        verbose_name_plural = _("collection rounds")
        ordering = ("-computed_at",)

    def __str__(self) -> str:
        return f"{self.planned_for} ({self.status})"

    @property
    def saved_share(self) -> float:
        """Share of the fixed round's distance saved, 0..1 (0 without a baseline)."""
        return self.saved_m / self.baseline_distance_m if self.baseline_distance_m else 0.0


class Route(BaseModel):
    """The stops of one truck in a round, in order (depot excluded)."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.CASCADE, related_name="routes"
    )
    truck = models.ForeignKey(
        Truck, verbose_name=_("truck"), on_delete=models.PROTECT, related_name="routes"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    #: [{"id": container id, "lon": …, "lat": …, "load_l": litres}], in visiting order.
    sequence = models.JSONField(_("stops"), default=list, blank=True)
    distance_m = models.PositiveBigIntegerField(_("distance (m)"), default=0)
    load_l = models.PositiveIntegerField(_("load (litres)"), default=0)

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ("round", "position")

    def __str__(self) -> str:
        return f"{self.truck} · {len(self.sequence)}"


class RoundRecord(LedgerOpening):
    """The opening (payload and salt) of a round's ledger entry, kept so that anyone
    can check what was committed (docs/ledger.md)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="records")
