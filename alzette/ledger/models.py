"""Ledger storage: entries, stored perfect-subtree hashes, signed tree heads.

Rows are only ever inserted; verification (alzette ledger verify) detects any
row changed, removed, inserted or reordered behind the application's back.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

#: Position of a stored node: level in the high bits, index in the low 48 bits.
INDEX_BITS = 48


def node_position(level: int, index: int) -> int:
    return (level << INDEX_BITS) | index


class LedgerState(models.Model):
    """One row: the current tree size. Appenders lock it to serialise appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("ledger state")

    def __str__(self) -> str:
        return f"ledger of {self.size} entries"


class LedgerEntry(models.Model):
    """The public part of an entry (see alzette.ledger.entries)."""

    index = models.BigIntegerField(primary_key=True)
    time = models.BigIntegerField(help_text="Milliseconds since the Unix epoch, UTC.")
    kind = models.CharField(max_length=64, db_index=True)
    actor = models.CharField(max_length=80, db_index=True)
    object = models.CharField(max_length=200, db_index=True)
    commitment = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"


class LedgerNode(models.Model):
    """Hash of a perfect subtree (level 0: a leaf), so proofs need no rebuild."""

    position = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        verbose_name = _("ledger node")

    def __str__(self) -> str:
        return f"node {self.position >> INDEX_BITS}/{self.position & ((1 << INDEX_BITS) - 1)}"


class TreeHead(models.Model):
    """A signed tree head (STH), one per append transaction."""

    tree_size = models.BigIntegerField(primary_key=True)
    timestamp = models.BigIntegerField(help_text="Milliseconds since the Unix epoch, UTC.")
    root_hash = models.BinaryField(max_length=32)
    signature = models.BinaryField(max_length=64)
    key_id = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("signed tree head")

    def __str__(self) -> str:
        return f"tree head at size {self.tree_size}"
