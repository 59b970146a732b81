"""Organisations that publish, and the datasets of the catalogue."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening
from alzette.territory.catalogue import vocab

_COMMUNE = re.compile(r"^(2A|2B|[0-9]{2})[0-9]{3}$")
#: Namespace of the distributions' identifiers: uuid5(namespace, dataset id + format).
DISTRIBUTIONS = uuid.UUID("5b0c8a39-8f1e-4d43-9c3e-7d1e0e2f6a10")


class Organisation(BaseModel):
    """A publisher: the intercommunality, a commune, a partner company, an association."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public body")
        COMPANY = "company", _("Company")
        STARTUP = "startup", _("Start-up")
        ASSOCIATION = "association", _("Association")

    slug = models.SlugField(_("short name"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PUBLIC)
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("web site"), blank=True)
    # An organisation's address (a service's mailbox), never a person's field.
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Dataset(BaseModel):
    """A dataset: what it is about, under which terms, and where its rows come from."""

    class Access(models.TextChoices):
        OPEN = "open", _("Open data")
        COMMUNITY = "community", _("Shared with communities")
        RESTRICTED = "restricted", _("Restricted")

    identifier = models.SlugField(_("identifier"), max_length=100, unique=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("publisher"), on_delete=models.PROTECT,
        related_name="datasets",
    )  # fmt: skip
    title = models.JSONField(_("title"), help_text=_("Language code to text; French required."))
    description = models.JSONField(_("description"), default=dict, blank=True)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    licence = models.CharField(_("licence"), max_length=40)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    communes = models.JSONField(_("communes covered"), default=list, blank=True)
    temporal_start = models.DateField(_("covers from"), null=True, blank=True)
    temporal_end = models.DateField(_("covers until"), null=True, blank=True)
    frequency = models.CharField(_("update frequency"), max_length=20, default="UNKNOWN")
    access = models.CharField(_("access"), max_length=20, choices=Access.choices,
                              default=Access.OPEN)  # fmt: skip
    source = models.CharField(_("source"), max_length=40)
    source_options = models.JSONField(_("source options"), default=dict, blank=True)
    published = models.BooleanField(_("published"), default=True)
    issued = models.DateTimeField(_("first published"), null=True, blank=True)
    # What the last refresh saw (``services.refresh``).
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    refresh_error = models.TextField(_("last refresh error"), blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    extent = models.JSONField(_("extent (CRS84 box)"), null=True, blank=True)
    # Set by the first failed refresh after a success, cleared by the next success: the
    # operators are alerted on those two transitions only (``alerts``), not on each retry.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        ordering = ("identifier",)

    def __str__(self) -> str:
        return self.identifier

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        _check_texts(errors, "title", self.title, required=True)
        _check_texts(errors, "description", self.description, required=False)
        if self.licence not in vocab.LICENCES:
            errors["licence"] = _("Unknown licence; one of: %(known)s.") % {
                "known": ", ".join(vocab.LICENCES)
            }
        unknown = [t for t in self.themes or [] if t not in vocab.THEMES]
        if not isinstance(self.themes, list) or unknown:
            errors["themes"] = _("Unknown theme(s): %(themes)s.") % {
                "themes": ", ".join(map(str, unknown))
            }
        if self.frequency not in vocab.FREQUENCIES:
            errors["frequency"] = _("Unknown update frequency.")
        if not isinstance(self.keywords, list) or not all(
            isinstance(k, str) and 0 < len(k) <= 100 for k in self.keywords
        ):
            errors["keywords"] = _("Keywords are a list of short texts.")
        if not isinstance(self.communes, list) or not all(
            isinstance(c, str) and _COMMUNE.match(c) for c in self.communes
        ):
            errors["communes"] = _("Communes are INSEE codes of five characters.")
        if self.temporal_start and self.temporal_end and self.temporal_end < self.temporal_start:
            errors["temporal_end"] = _("The period ends before it starts.")
        if (
            self.access == self.Access.OPEN
            and not vocab.LICENCES.get(self.licence, vocab.LICENCES["etalab-2.0"]).open
        ):
            errors["licence"] = _("Open data needs an open licence.")
        if errors:
            raise ValidationError(errors)

    def text(self, field: str, language: str = "fr") -> str:
        """A translated text in ``language``, else French, else any."""
        texts = getattr(self, field) or {}
        return texts.get(language) or texts.get("fr") or next(iter(texts.values()), "")

    def distribution_id(self, fmt: str) -> uuid.UUID:
        return uuid.uuid5(DISTRIBUTIONS, f"{self.id}/{fmt}")


def _check_texts(errors: dict, field: str, value: Any, *, required: bool) -> None:
    if not isinstance(value, dict) or not all(
        lang in vocab.LANGUAGES and isinstance(text, str) for lang, text in value.items()
    ):
        errors[field] = _("A text per language among %(languages)s.") % {
            "languages": ", ".join(vocab.LANGUAGES)
        }
    elif required and not (value.get("fr") or "").strip():
        errors[field] = _("A French text is required.")


class LedgerRecord(LedgerOpening):
    """The opening of a catalogue entry in the ledger (payload and salt), kept here so
    anyone can check what was committed (docs/ledger.md)."""

    dataset_id = models.UUIDField(db_index=True)  # no foreign key: deletions are recorded too


class Snapshot(models.Model):
    """The rows of a successful refresh, kept as a file so that downloads serve the last
    good version whatever happens to the source (``snapshots``, docs/open-data.md)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(_("taken at"), db_index=True)
    # Relative to ALZETTE_CATALOGUE_DIR, so that the directory can move.
    path = models.CharField(max_length=300, unique=True)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    extent = models.JSONField(null=True, blank=True)
    columns = models.JSONField(default=list)  # [{"name", "type", "description"}]
    # What the rows were read from: a snapshot of other options is not the dataset's.
    source = models.CharField(max_length=40)
    source_options = models.JSONField(default=dict)
    source_version = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("-taken_at", "-id")

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.taken_at:%Y-%m-%d %H:%M}"


class DatasetFile(models.Model):
    """A file uploaded as a dataset's rows (source ``uploaded-file``), checked against a
    national Table Schema when one is named. The newest is the dataset's; older ones
    stay, since the ledger committed to each one's digest."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="files")
    uploaded_at = models.DateTimeField(_("uploaded at"), db_index=True)
    filename = models.CharField(_("file name"), max_length=255)
    path = models.CharField(max_length=300, unique=True)  # relative to ALZETTE_CATALOGUE_DIR
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    media_type = models.CharField(_("media type"), max_length=100)
    encoding = models.CharField(max_length=20, default="utf-8")
    schema_name = models.CharField(_("schema"), max_length=100, blank=True)
    # The Table Schema and CSV dialect the rows were validated with: the named schema,
    # or the types inferred when none was named. Reading uses the same.
    table_schema = models.JSONField(default=dict)
    dialect = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField(_("rows"))
    report = models.JSONField(_("validation report"), default=dict)
    actor = models.CharField(max_length=64)  # a pseudonym or a system component

    class Meta:
        ordering = ("-uploaded_at", "-id")
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")

    def __str__(self) -> str:
        return self.filename
