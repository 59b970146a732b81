"""Commands to streetlights, and each lamp's state as the platform knows it.

A ``Command`` is one wanted level sent to one lamp as a contentInstance of its
oneM2M ``cmd`` container; the lamp answers in ``ack``. ``LampState`` keeps, per
lamp, what was last wanted (and why) and what the lamp last reported in
``state``. Nothing here names a person: actors are pseudonyms or ``system:…``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import LedgerOpening


def _hex_id() -> str:
    return uuid.uuid4().hex


class Command(models.Model):
    class Action(models.TextChoices):
        DIM = "dim", _("dim")
        ON = "on", _("on")
        OFF = "off", _("off")

    class State(models.TextChoices):
        SENT = "sent", _("commanded")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        FAILED = "failed", _("failed")
        SUPERSEDED = "superseded", _("superseded")

    id = models.CharField(primary_key=True, max_length=32, default=_hex_id, editable=False)
    #: The lamp's NGSI-LD entity id (urn:ngsi-ld:Streetlight:streetlight-57038-001).
    lamp_id = models.CharField(_("lamp"), max_length=255, db_index=True)
    #: The lamp's oneM2M AE resource name (streetlight-57038-001).
    ae = models.CharField(_("device"), max_length=100)
    action = models.CharField(_("action"), max_length=4, choices=Action.choices)
    level = models.FloatField(_("level"))
    #: Why: "policy:3", "override:5", "agent".
    source = models.CharField(_("source"), max_length=80)
    actor = models.CharField(_("actor"), max_length=80)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acked_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_detail = models.CharField(_("error detail"), max_length=500, blank=True)
    #: The resource id of the last contentInstance written in ``cmd``.
    instance_ri = models.CharField(_("instance"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("command")
        verbose_name_plural = _("commands")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["lamp_id", "created_at"], name="lcmd_lamp_created")]

    def __str__(self) -> str:
        return f"{self.ae} {self.action} {self.level:g} ({self.state})"


class LampState(models.Model):
    lamp_id = models.CharField(_("lamp"), max_length=255, unique=True)
    ae = models.CharField(_("device"), max_length=100, blank=True)
    commune = models.CharField(_("commune"), max_length=5, blank=True, db_index=True)
    wanted_level = models.FloatField(_("wanted level"), null=True, blank=True)
    wanted_source = models.CharField(_("wanted because"), max_length=80, blank=True)
    #: An agent's command holds the lamp until then: the schedule leaves it alone.
    held_until = models.DateTimeField(_("held until"), null=True, blank=True)
    last_command = models.ForeignKey(
        Command, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    power_state = models.CharField(_("power state"), max_length=20, blank=True)
    illuminance_level = models.FloatField(_("reported level"), null=True, blank=True)
    power_consumption = models.FloatField(_("power (W)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=40, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("lamp state")
        verbose_name_plural = _("lamp states")
        ordering = ("lamp_id",)

    def __str__(self) -> str:
        return self.lamp_id


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a lighting command entry in the ledger."""

    object_ref = models.CharField(max_length=80, db_index=True)
