"""Waste management on the territory side: what devices and agents report, with no
person in it.

Containers themselves are NGSI-LD entities (``WasteContainer``, the Smart Data
Model): their location, kind and fill level live in the context store, so the
rows here only hold what the context has no place for: lifts and openings as
events, the recycling centre and its anonymous gate passages, and pick-up
requests for its skips. Badges and number plates never reach this side: the
personal repository checks them and reports an anonymous passage (docs/waste.md).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import LedgerOpening


class Centre(models.Model):
    """A recycling centre (déchèterie), with its gate and its quota rules."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    #: INSEE code of the commune the centre stands in.
    commune = models.CharField(_("commune"), max_length=5)
    #: How many vehicles may be inside at once.
    capacity = models.PositiveSmallIntegerField(_("capacity inside at once"), default=10)
    #: Visits a household may make per calendar year (checked on the personal side).
    visits_per_year = models.PositiveSmallIntegerField(_("visits per year"), default=24)
    opening_hours = models.TextField(_("opening hours"), blank=True)

    class Meta:
        verbose_name = _("recycling centre")
        verbose_name_plural = _("recycling centres")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class CentrePassage(models.Model):
    """One vehicle through the gate, anonymous: no badge, no plate, no household."""

    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="passages")
    at = models.DateTimeField(_("at"))
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    allowed = models.BooleanField(_("allowed"), default=True)

    class Meta:
        verbose_name = _("centre passage")
        verbose_name_plural = _("centre passages")
        indexes = [models.Index(fields=["centre", "at"], name="waste_passage_centre_at")]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.direction} {self.at:%Y-%m-%d %H:%M}"


class Lift(models.Model):
    """A bin emptied into a collection truck, read from the truck's RFID reader.

    ``source_ri`` is the contentInstance the truck posted: a message received twice
    (a retry, a replay) is stored once.
    """

    #: The container's NGSI-LD entity id (urn:ngsi-ld:WasteContainer:bin-57038-001).
    bin_id = models.CharField(_("bin"), max_length=255)
    lifted_at = models.DateTimeField(_("lifted at"))
    weight_kg = models.FloatField(_("weight (kg)"), null=True, blank=True)
    truck = models.CharField(_("truck"), max_length=100)
    source_ri = models.CharField(_("source"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("lift")
        verbose_name_plural = _("lifts")
        indexes = [models.Index(fields=["bin_id", "lifted_at"], name="waste_lift_bin_at")]

    def __str__(self) -> str:
        return f"{self.bin_id} {self.lifted_at:%Y-%m-%d %H:%M}"


class Opening(models.Model):
    """A drop-point column opened by a badge; the badge itself is not kept here."""

    container_id = models.CharField(_("container"), max_length=255)
    opened_at = models.DateTimeField(_("opened at"))
    source_ri = models.CharField(_("source"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("opening")
        verbose_name_plural = _("openings")
        indexes = [
            models.Index(fields=["container_id", "opened_at"], name="waste_opening_at"),
        ]

    def __str__(self) -> str:
        return f"{self.container_id} {self.opened_at:%Y-%m-%d %H:%M}"


class PickupRequest(models.Model):
    """A skip of a recycling centre to be collected by the haulier."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        SCHEDULED = "scheduled", _("scheduled")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    #: The skip's NGSI-LD entity id (urn:ngsi-ld:WasteContainer:skip-audun-1).
    container_id = models.CharField(_("skip"), max_length=255)
    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="pickups")
    requested_at = models.DateTimeField(_("requested at"))
    #: The agent's pseudonym (32 hex) or "system:<component>".
    requested_by = models.CharField(_("requested by"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    weight_kg = models.FloatField(_("weight (kg)"), null=True, blank=True)

    class Meta:
        verbose_name = _("pick-up request")
        verbose_name_plural = _("pick-up requests")
        ordering = ("-requested_at",)
        indexes = [models.Index(fields=["centre", "status"], name="waste_pickup_status")]

    def __str__(self) -> str:
        return f"{self.container_id} {self.status}"

    @property
    def open(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.SCHEDULED)


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a waste entry in the ledger (docs/ledger.md)."""

    object_ref = models.CharField(max_length=80, db_index=True)
