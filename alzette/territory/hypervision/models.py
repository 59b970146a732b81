"""Agents' boards: dashboards they compose from the widget registry (widgets.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import LedgerOpening

MAX_WIDGETS = 24


class Board(models.Model):
    """A board belongs to an agent, known here by pseudonym only; a shared board is
    visible to every agent, and changed by its owner alone.

    ``widgets`` is the ordered list ``[{"slug": ..., "options": {...}}]``; a slug
    no longer registered is skipped when the board is shown, never an error.
    """

    owner = models.CharField(_("owner (pseudonym)"), max_length=32, db_index=True)
    name = models.CharField(_("name"), max_length=120)
    widgets = models.JSONField(_("widgets"), default=list, blank=True)
    shared = models.BooleanField(_("shared with every agent"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("board")
        verbose_name_plural = _("boards")
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a ``board.changed`` entry in the ledger; it
    outlives a deleted board, hence a reference rather than a foreign key."""

    object_ref = models.CharField(max_length=80, db_index=True)


class Tombstone(models.Model):
    """An NGSI-LD entity of the default tenant deleted, or updated so that it left types
    or its geometry, kept while a live map's cursor may still predate it, so that the
    stream tells the maps to drop its marker (``live.py``). Written by an
    ``entities.change_hooks`` hook in the write's transaction; rows older than
    ``live.TOMBSTONE_KEEP`` are pruned on the next one."""

    entity_id = models.CharField(max_length=512)
    #: The types it left by local name ("WasteContainer"), to find the layers it left.
    types = models.JSONField(default=list)
    deleted_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("deleted_at", "pk")

    def __str__(self) -> str:
        return self.entity_id
