"""Files people hand to the platform (attachments of procedures, photos of reports).

A ``StoredFile`` row describes one file kept in the ``attachments`` storage: what
it really is (sniffed from its bytes), how large, its SHA-256, and whether the
antivirus saw it. The bytes themselves live in the storage under a random name;
only ``services.store_upload`` creates rows, so that every row passed the checks.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel

sha256_validator = RegexValidator(
    r"^[0-9a-f]{64}$", _("A SHA-256 digest in lowercase hexadecimal.")
)


class ScanStatus(models.TextChoices):
    CLEAN = "clean", _("Scanned, no virus found")
    SKIPPED = "skipped", _("Not scanned: no antivirus configured")
    UNAVAILABLE = "unavailable", _("Not scanned: the antivirus did not answer")


class StoredFile(BaseModel):
    """One uploaded file. Infected files are never stored, hence no "infected" status."""

    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, validators=[sha256_validator])
    storage_name = models.CharField(_("name in the storage"), max_length=255, unique=True)
    # Anonymous reports (an illegal dump) have no owner; erasing an account must
    # not erase the evidence a procedure still has to keep, so no cascade.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stored_files",
    )
    scan_status = models.CharField(_("antivirus scan"), max_length=20, choices=ScanStatus.choices)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.name
