"""Street lighting policies and the calendar that overrides them (docs/lighting.md).

A ``Policy`` is a commune's (or some of its streets') switching programme for a
night: ordered steps anchored to sunset, sunrise or a clock time, each setting a
level (0 off .. 1 full power). A ``CalendarOverride`` replaces the policies of
its scope between two moments: with a fixed level, or by following another
policy (a festive programme, for instance). The lamps, groups and cabinets
themselves are NGSI-LD entities in the context store; rows here name groups by
their entity ids. Nothing here names a person: ``created_by`` is a pseudonym.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import LedgerOpening


class Policy(models.Model):
    name = models.CharField(_("name"), max_length=200)
    #: INSEE code of the commune whose lamps the policy drives.
    commune = models.CharField(_("commune"), max_length=5, db_index=True)
    #: StreetlightGroup entity ids it applies to; empty: every group of the commune.
    groups = models.JSONField(_("groups"), default=list, blank=True)
    #: The enabled policy of highest priority wins where several apply.
    priority = models.SmallIntegerField(_("priority"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    #: First and last night (the evening's date) it applies; empty: no limit.
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    #: Weekdays of the evening a night starts on (0 Monday .. 6 Sunday); empty: every day.
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    #: Ordered steps: {"at": "sunset"|"sunrise"|"HH:MM", "offset": minutes, "level": 0..1}.
    steps = models.JSONField(_("steps"), default=list)
    created_by = models.CharField(_("created by"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("lighting policy")
        verbose_name_plural = _("lighting policies")
        ordering = ("commune", "-priority", "name", "pk")

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        return f"policy:{self.pk}"


class CalendarOverride(models.Model):
    commune = models.CharField(_("commune"), max_length=5, db_index=True)
    #: StreetlightGroup entity ids; empty: every group of the commune.
    groups = models.JSONField(_("groups"), default=list, blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    #: The level wanted throughout (0..1), or None to follow ``policy``.
    level = models.FloatField(_("level"), null=True, blank=True)
    policy = models.ForeignKey(
        Policy,
        verbose_name=_("follow policy"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="overrides",
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.CharField(_("created by"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ("start", "pk")
        indexes = [models.Index(fields=["commune", "start", "end"], name="lighting_override_when")]

    def __str__(self) -> str:
        return self.reason

    @property
    def source(self) -> str:
        return f"override:{self.pk}"


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a lighting policy or override entry in the ledger."""

    object_ref = models.CharField(max_length=80, db_index=True)
