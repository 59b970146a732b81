"""Supervision: device messages set aside, alert rules, the alerts they raise.

Persons appear only by their pseudonym (``created_by``, ``acknowledged_by``,
``closed_by``); a rule belongs to an organisational unit by its code (a commune
INSEE code or the EPCI's), so the personal side knows whom to notify.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import LedgerOpening


class QuarantinedMessage(models.Model):
    """A device message that was refused: kept with the reason, never applied."""

    class Kind(models.TextChoices):
        OUT_OF_RANGE = "out_of_range", _("value out of range")
        FUTURE_TIME = "future_time", _("observation time in the future")
        INVALID_TIME = "invalid_time", _("unreadable observation time")
        UNKNOWN_DEVICE = "unknown_device", _("unknown device")
        MODEL = "model", _("does not follow its data model")
        UNREADABLE = "unreadable", _("unreadable content")
        OTHER = "other", _("other")

    #: The oneM2M AE's resource name (the device).
    device = models.CharField(_("device"), max_length=255)
    #: The container path the message was posted to ("alzette/bin-57038-001/fill").
    path = models.CharField(_("path"), max_length=1024)
    content = models.JSONField(_("content"), null=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    reason = models.CharField(_("reason"), max_length=500)
    received_at = models.DateTimeField(_("received"))
    #: The contentInstance's resource id: several contexts refusing it share one entry.
    source = models.CharField(_("source"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("quarantined message")
        verbose_name_plural = _("quarantined messages")
        indexes = [
            models.Index(fields=["device", "received_at"], name="supervision_q_device"),
            models.Index(fields=["received_at"], name="supervision_q_received"),
            models.Index(fields=["source"], name="supervision_q_source"),
        ]

    def __str__(self) -> str:
        return f"{self.device} {self.received_at:%Y-%m-%d %H:%M} {self.kind}"


class AlertRule(models.Model):
    """A rule agents write without code: which entities, which attribute, which test."""

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("threshold")
        RATE = "rate", _("rate of change")
        NODATA = "nodata", _("no data")
        GEOFENCE = "geofence", _("geofence")
        #: Set by a platform detector (a leak, a lamp out), not tested by the rule engine.
        DETECTOR = "detector", _("detector")

    class Operator(models.TextChoices):
        GT = "gt", ">"
        GE = "ge", "≥"
        LT = "lt", "<"
        LE = "le", "≤"
        EQ = "eq", "="
        NE = "ne", "≠"

    class Direction(models.TextChoices):
        LEAVES = "leaves", _("leaves the area")
        ENTERS = "enters", _("enters the area")

    class Severity(models.TextChoices):
        INFO = "info", _("information")
        WARNING = "warning", _("warning")
        CRITICAL = "critical", _("critical")

    name = models.CharField(_("name"), max_length=200)
    entity_type = models.CharField(_("entity type"), max_length=200)
    attribute = models.CharField(_("attribute"), max_length=200)
    #: A glob over entity ids ("urn:ngsi-ld:WasteContainer:bin-57038-*"); empty: all.
    entity_pattern = models.CharField(_("entity id pattern"), max_length=300, blank=True)
    #: Only entities located in this commune (INSEE code); empty: anywhere.
    commune = models.CharField(_("commune"), max_length=5, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    operator = models.CharField(_("operator"), max_length=2, choices=Operator.choices, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    #: rate: the window the change is measured over; nodata: the silence allowed.
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    #: geofence: a Polygon or MultiPolygon (GeoJSON, WGS 84), or ``area_commune``.
    area = models.JSONField(_("area"), null=True, blank=True)
    area_commune = models.CharField(_("area commune"), max_length=5, blank=True)
    direction = models.CharField(
        _("direction"), max_length=6, choices=Direction.choices, blank=True
    )
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.WARNING
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    #: The key of the platform detector that owns this rule ("water.night-flow"), or blank.
    detector = models.CharField(_("detector"), max_length=64, blank=True)
    created_by = models.CharField(_("created by"), max_length=40)
    #: The organisational unit owning the rule (INSEE code or the EPCI's code).
    unit = models.CharField(_("unit"), max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ("name", "id")
        indexes = [models.Index(fields=["enabled", "entity_type"], name="supervision_rule_type")]
        constraints = [
            models.UniqueConstraint(
                fields=["detector"],
                condition=~models.Q(detector=""),
                name="supervision_rule_detector_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """One firing of a rule for one entity, until an agent closes it."""

    class State(models.TextChoices):
        FIRING = "firing", _("firing")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        CLOSED = "closed", _("closed")

    OPEN = (State.FIRING, State.ACKNOWLEDGED)

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    entity_id = models.CharField(_("entity"), max_length=512)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.FIRING)
    value = models.JSONField(_("value"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500)
    fired_at = models.DateTimeField(_("fired"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.CharField(max_length=40, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.CharField(max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ("-fired_at", "-id")
        constraints = [
            # Never two open alerts for one rule and one entity, even under concurrency.
            models.UniqueConstraint(
                fields=["rule", "entity_id"],
                condition=models.Q(state__in=["firing", "acknowledged"]),
                name="supervision_one_open_alert",
            )
        ]
        indexes = [models.Index(fields=["state", "fired_at"], name="supervision_alert_state")]

    def __str__(self) -> str:
        return f"{self.rule} {self.entity_id} ({self.state})"


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a supervision entry in the ledger, and the
    history of rules and alerts: who changed what, when (docs/supervision.md)."""

    object_ref = models.CharField(max_length=80, db_index=True)
    actor = models.CharField(max_length=40)
