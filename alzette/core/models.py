"""Base model shared by every Alzette model (the app itself stores nothing)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID primary key, creation and update times, validation on every save.

    UUIDs keep identifiers meaningless and unguessable across both repositories,
    and validating on save means a bad row cannot be written by any code path.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.full_clean()
        super().save(*args, **kwargs)


class LedgerOpening(models.Model):
    """The opening of a ledger entry (its payload and salt), kept beside the data it
    is about so that anyone the owner shows it to can check what was committed
    (docs/ledger.md). Each context keeps its openings in its own repository: a
    concrete subclass adds what the entry is about (``object_ref``, a foreign key...).
    Written by ``alzette.ledger.services.record_opening``."""

    kind = models.CharField(max_length=40)
    leaf_index = models.PositiveBigIntegerField()
    payload = models.JSONField()
    salt = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ("leaf_index",)

    def __str__(self) -> str:
        return f"{self.kind} #{self.leaf_index}"
