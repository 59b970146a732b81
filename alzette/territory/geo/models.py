"""Territorial units (the EPCI and its communes) with GeoJSON geometries."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core import spatial
from alzette.core.models import BaseModel


class GeoFeature(BaseModel):
    """Abstract base of everything stored with a geometry.

    The geometry is GeoJSON in CRS84; the four bbox columns are derived from it
    on save and indexed, so spatial queries start with an index range scan on
    any database (see alzette.core.spatial).
    """

    geometry = models.JSONField(_("geometry (GeoJSON, CRS84)"))
    bbox_min_x = models.FloatField(editable=False, db_index=True)
    bbox_min_y = models.FloatField(editable=False, db_index=True)
    bbox_max_x = models.FloatField(editable=False, db_index=True)
    bbox_max_y = models.FloatField(editable=False, db_index=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        try:
            shape = spatial.parse_geometry(self.geometry)
        except spatial.SpatialError as exc:
            raise ValidationError({"geometry": str(exc)}) from exc
        box = spatial.bbox_of(shape)
        self.bbox_min_x, self.bbox_min_y, self.bbox_max_x, self.bbox_max_y = box.as_list()

    def full_clean(self, *args: Any, **kwargs: Any) -> None:
        # Derive the bbox before field validation, which requires it.
        self.clean()
        super().full_clean(*args, **kwargs)

    @property
    def bbox(self) -> spatial.BBox:
        return spatial.BBox(self.bbox_min_x, self.bbox_min_y, self.bbox_max_x, self.bbox_max_y)


class UnitKind(models.TextChoices):
    EPCI = "epci", _("Intercommunality (EPCI)")
    COMMUNE = "commune", _("Commune")


class TerritorialUnit(GeoFeature):
    """An administrative unit of the territory: the EPCI, or one of its communes."""

    code = models.CharField(
        _("code"),
        max_length=16,
        unique=True,
        help_text=_("INSEE code for a commune; the EPCI's short code for the EPCI."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    name = models.CharField(_("name"), max_length=200)
    department = models.CharField(_("department"), max_length=3, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("territorial unit")
        verbose_name_plural = _("territorial units")
        ordering = ("kind", "name")
        indexes = [models.Index(fields=["kind", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
