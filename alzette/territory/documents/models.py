"""Documents about the territory: the file's facts, its metadata, its links to entities.

A ``Document`` row describes one file kept in the documents storage: what it
really is (sniffed from its bytes), its size and SHA-256, the metadata its
publisher gave (title, language, licence, communes...), what could be read
from it (``technical``) and its text, kept for the full-text index and its
snippets. Only ``services`` creates rows, so that every row passed the checks
and has its file and its index entry.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel

#: The NGSI-LD identifier of a document: ``urn:ngsi-ld:Document:<uuid>``.
URN_PREFIX = "urn:ngsi-ld:Document:"

sha256_validator = RegexValidator(
    r"^[0-9a-f]{64}$", _("A SHA-256 digest in lowercase hexadecimal.")
)
#: INSEE code of a commune (Corsica's start 2A or 2B).
commune_code_validator = RegexValidator(
    r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$", _("An INSEE commune code (five characters).")
)
# Line breaks are fine in a description; other control characters are nowhere.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: An NGSI-LD entity id is a URI; links accept absolute URIs without spaces.
ENTITY_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]+")
ENTITY_ID_MAX_LENGTH = 256
#: A relationship name is an NGSI-LD attribute name: an NCName of ASCII letters,
#: digits, "_", "-" and ".", not starting with a digit, "-" or ".".
RELATIONSHIP_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
#: Core NGSI-LD member names, which cannot name an entity's attribute.
RESERVED_RELATIONSHIPS = frozenset(
    {
        "id",
        "type",
        "scope",
        "location",
        "observationSpace",
        "operationSpace",
        "createdAt",
        "modifiedAt",
        "deletedAt",
        "observedAt",
        "datasetId",
        "instanceId",
        "object",
        "value",
        "unitCode",
        "languageMap",
    }
)


class Language(models.TextChoices):
    FRENCH = "fr", _("French")
    GERMAN = "de", _("German")
    ENGLISH = "en", _("English")
    LUXEMBOURGISH = "lb", _("Luxembourgish")
    PORTUGUESE = "pt", _("Portuguese")


class Licence(models.TextChoices):
    """SPDX identifiers where they exist; licence names stay untranslated."""

    ETALAB_2 = "etalab-2.0", "Licence Ouverte 2.0 (Etalab)"
    CC_BY_4 = "CC-BY-4.0", "CC BY 4.0"
    CC_BY_SA_4 = "CC-BY-SA-4.0", "CC BY-SA 4.0"
    CC0_1 = "CC0-1.0", "CC0 1.0"
    ODBL_1 = "ODbL-1.0", "ODbL 1.0"
    ALL_RIGHTS_RESERVED = "all-rights-reserved", _("All rights reserved")


#: Where each licence's text is published (none for "all rights reserved").
LICENCE_URLS = {
    Licence.ETALAB_2: "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    Licence.CC_BY_4: "https://creativecommons.org/licenses/by/4.0/",
    Licence.CC_BY_SA_4: "https://creativecommons.org/licenses/by-sa/4.0/",
    Licence.CC0_1: "https://creativecommons.org/publicdomain/zero/1.0/",
    Licence.ODBL_1: "https://opendatacommons.org/licenses/odbl/1-0/",
}


def validate_entity_id(value: str) -> None:
    if len(value) > ENTITY_ID_MAX_LENGTH or not ENTITY_ID_PATTERN.fullmatch(value):
        raise ValidationError(
            _("An entity id is an absolute URI such as urn:ngsi-ld:Building:12."),
            code="entity_id",
        )


def validate_relationship(value: str) -> None:
    if not RELATIONSHIP_PATTERN.fullmatch(value) or value in RESERVED_RELATIONSHIPS:
        raise ValidationError(
            _(
                "A relationship name is a term such as refRenovationFile: ASCII letters, "
                "digits, '_', '-' or '.', starting with a letter or '_', at most 64 "
                "characters, and not a core NGSI-LD name."
            ),
            code="relationship",
        )


class Document(BaseModel):
    """One file of the territory's document store."""

    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(
        _("description"), blank=True, validators=[MaxLengthValidator(5000)]
    )
    file_name = models.CharField(_("file name"), max_length=255)
    media_type = models.CharField(_("media type"), max_length=100, db_index=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(
        _("SHA-256"), max_length=64, unique=True, validators=[sha256_validator]
    )
    storage_name = models.CharField(_("name in the storage"), max_length=255, unique=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    licence = models.CharField(_("licence"), max_length=40, choices=Licence.choices)
    author = models.CharField(
        _("author"),
        max_length=200,
        blank=True,
        help_text=_("Who wrote the document, as it should be credited (an office, a service)."),
    )
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    issued = models.DateField(_("date of the document"), null=True, blank=True)
    public = models.BooleanField(
        _("public"), default=True, help_text=_("Non-public documents are shown to agents only.")
    )
    technical = models.JSONField(_("technical metadata"), default=dict, blank=True)
    text = models.TextField(_("extracted text"), blank=True)
    # Who published it: a pseudonym, never an account (the account is personal data).
    created_by = models.CharField(_("published by (pseudonym)"), max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        errors = {
            name: _("Control characters are not allowed.")
            for name in ("title", "description", "author", "publisher", "file_name")
            if _CONTROL.search(getattr(self, name) or "")
        }
        if errors:
            raise ValidationError(errors)

    @property
    def urn(self) -> str:
        """The document's NGSI-LD identifier, the object of relationships to it."""
        return f"{URN_PREFIX}{self.pk}"

    @property
    def licence_url(self) -> str | None:
        return LICENCE_URLS.get(self.licence)

    @property
    def commune_codes(self) -> list[str]:
        return sorted(commune.code for commune in self.communes.all())


class DocumentCommune(models.Model):
    """A commune (INSEE code) a document covers; none means the whole EPCI."""

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="communes")
    code = models.CharField(
        _("INSEE code"), max_length=5, validators=[commune_code_validator], db_index=True
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["document", "code"], name="documents_commune_once")
        ]
        verbose_name = _("commune covered")
        verbose_name_plural = _("communes covered")

    def __str__(self) -> str:
        return self.code


class DocumentLink(BaseModel):
    """``entity`` --relationship--> document: e.g. a building's ``refRenovationFile``."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="links")
    entity_id = models.CharField(
        _("entity id"),
        max_length=ENTITY_ID_MAX_LENGTH,
        validators=[validate_entity_id],
        db_index=True,
    )
    relationship = models.CharField(
        _("relationship"), max_length=64, validators=[validate_relationship]
    )
    created_by = models.CharField(_("linked by (pseudonym)"), max_length=32, blank=True)

    class Meta:
        ordering = ["entity_id", "relationship", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "entity_id", "relationship"], name="documents_link_once"
            )
        ]
        verbose_name = _("link to an entity")
        verbose_name_plural = _("links to entities")

    def __str__(self) -> str:
        return f"{self.entity_id} {self.relationship} {self.document_id}"


class LedgerRecord(BaseModel):
    """A ledger entry about a document, with the salt and payload that open it.

    Kept by document id rather than by foreign key: the record of a deletion
    outlives the document it is about.
    """

    document_id = models.UUIDField(_("document"), db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    leaf_index = models.PositiveBigIntegerField(_("position in the ledger"))
    payload = models.JSONField(_("committed payload"))
    salt = models.CharField(_("commitment salt"), max_length=64)

    class Meta:
        ordering = ["leaf_index"]
        verbose_name = _("ledger record")
        verbose_name_plural = _("ledger records")

    def __str__(self) -> str:
        return f"{self.kind} #{self.leaf_index}"


class SearchEntry(models.Model):
    """The full-text index, as the schema knows it; ``index.py`` reads and writes it.

    Migration 0002 creates it per database: an FTS5 virtual table on SQLite
    (``document_id, language, title, description, body``, analysed text), a
    table with a ``tsvector`` column and a GIN index on PostgreSQL. It is
    declared here, unmanaged, so that the table is a known one of the
    territory repository.
    """

    document_id = models.UUIDField(primary_key=True)
    language = models.CharField(max_length=2)

    class Meta:
        managed = False
        db_table = "documents_search"

    def __str__(self) -> str:
        return str(self.document_id)

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("The index is written by alzette.territory.documents.index.")
