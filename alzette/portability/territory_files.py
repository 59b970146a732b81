"""Rows attached to datasets (uploaded files, snapshots) and the files they name.

The models are found, not named: every catalogue model with a foreign key to
``Dataset`` travels, its fields taken from ``_meta``, so that a model added to the
catalogue later is carried without a change here. A row's files are either a
``FileField`` or a field named in ``STORED_PATHS``, a path relative to
``ALZETTE_CATALOGUE_DIR`` (how the catalogue keeps uploads and snapshots).

On import a file goes back under the same relative path. A different file already
there is an error rather than an overwrite; the same bytes are accepted.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.db import models

from alzette.portability import records
from alzette.portability.archive import ArchiveError, Reader, Writer, safe_path
from alzette.territory.catalogue.models import Dataset

DB = "territory"
FILES = "territory/catalogue/files.json"
#: Fields holding a path relative to ALZETTE_CATALOGUE_DIR.
STORED_PATHS = ("path",)


def catalogue_dir() -> Path:
    return Path(getattr(settings, "ALZETTE_CATALOGUE_DIR", Path(settings.MEDIA_ROOT)))


def attached_models() -> list[tuple[type[models.Model], str]]:
    """(model, its foreign key to Dataset) for every other catalogue model that has one."""
    found = []
    for model in apps.get_app_config("catalogue").get_models():
        for fk in model._meta.concrete_fields:
            if fk.is_relation and fk.related_model is Dataset and model is not Dataset:
                found.append((model, fk.name))
                break
    return found


def _stored(model: type[models.Model]) -> list[str]:
    names = {f.name for f in model._meta.concrete_fields if not f.is_relation}
    return [name for name in STORED_PATHS if name in names]


# --- Export ------------------------------------------------------------------------------


def export(writer: Writer, datasets: list[Dataset], warnings: list[str]) -> int:
    """Write ``files.json`` and the files; the number of rows. Nothing without models."""
    attached = attached_models()
    if not attached:
        return 0
    out: dict[str, list[dict[str, Any]]] = {}
    for model, fk in attached:
        rows = out.setdefault(model._meta.label, [])
        for dataset in datasets:
            for row in model.objects.using(DB).filter(**{fk: dataset}).order_by("pk"):
                rows.append(_export_row(writer, row, dataset, len(rows), warnings))
    total = sum(map(len, out.values()))
    writer.json(FILES, out, "Rows attached to datasets (uploaded files, snapshots).",
                count=total)  # fmt: skip
    return total


def _export_row(writer: Writer, row: models.Model, dataset: Dataset, n: int,
                warnings: list[str]) -> dict[str, Any]:  # fmt: skip
    files = {}
    for name, opened in _files_of(row):
        if opened is None:
            warnings.append(f"{row._meta.label} {row.pk} of {dataset.identifier}: "
                            f"its file ({name}) is missing")  # fmt: skip
            continue
        base = PurePosixPath(str(getattr(row, name))).name
        path = f"territory/catalogue/files/{dataset.identifier}/{row._meta.model_name}-{n}-{base}"
        about = f"A file of {dataset.identifier}."
        with opened as source, writer.part(path, "application/octet-stream", about) as target:
            shutil.copyfileobj(source, target)
        files[name] = {"archive": path, "name": base}
    return {"dataset": dataset.identifier, "fields": records.dump(row), "files": files}


def _files_of(row: models.Model) -> list[tuple[str, Any]]:
    """(field, an open binary file or None when missing) for each file of the row."""
    found = []
    for field in records.file_fields(type(row)):
        stored = getattr(row, field.name)
        if stored:
            found.append((field.name, stored.open("rb")))
    for name in _stored(type(row)):
        relative = getattr(row, name)
        if relative:
            target = catalogue_dir() / safe_path(relative)
            found.append((name, target.open("rb") if target.is_file() else None))
    return found


# --- Import ------------------------------------------------------------------------------


def import_rows(reader: Reader, dataset: Dataset, replace: bool, written: list[Path]) -> int:
    """Recreate the dataset's attached rows and their files; their number."""
    if FILES not in reader.names():
        return 0
    attached = dict(attached_models())
    by_label = {model._meta.label: model for model in attached}
    number = 0
    for label, rows in reader.json(FILES).items():
        mine = [r for r in rows if r.get("dataset") == dataset.identifier]
        if not mine:
            continue
        model = by_label.get(label)
        if model is None:
            raise ArchiveError(f"This instance has no model {label} for the files of "
                               f"{dataset.identifier}.")  # fmt: skip
        if replace:
            model.objects.using(DB).filter(**{attached[model]: dataset}).delete()
        for row in mine:
            _import_row(reader, model, attached[model], dataset, row, written)
            number += 1
    return number


def _import_row(reader: Reader, model: type[models.Model], fk: str, dataset: Dataset,
                row: dict[str, Any], written: list[Path]) -> None:  # fmt: skip
    instance = model(**records.load(model, row.get("fields", {})).values, **{fk: dataset})
    files = row.get("files", {})
    for name in _stored(model):
        if getattr(instance, name) and name in files:
            _put(reader, files[name]["archive"], getattr(instance, name), written)
    handles = []
    try:
        for field in records.file_fields(model):
            if field.name in files:
                stored = files[field.name]
                handles.append(reader.open(stored["archive"]))
                content = File(handles[-1], stored["name"])
                getattr(instance, field.name).save(stored["name"], content, save=False)
        instance.save(using=DB)
    finally:
        for handle in handles:
            handle.close()


def _put(reader: Reader, archived: str, relative: str, written: list[Path]) -> None:
    """Copy a file back under the catalogue directory, at its relative path."""
    target = catalogue_dir() / safe_path(relative)
    if target.exists():
        if _digest(target) != _archived_digest(reader, archived):
            raise ArchiveError(f"{target} already holds another file; not overwritten.")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with reader.open(archived) as source, target.open("xb") as out:
        written.append(target)
        shutil.copyfileobj(source, out)


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _archived_digest(reader: Reader, archived: str) -> str:
    with reader.open(archived) as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
