"""The catalogue part of an archive: the organisation, its datasets, their data and files.

- ``territory/organisation.json`` and ``territory/catalogue/datasets.json``: every
  field of the rows (from the models' ``_meta``), what the import reads;
- ``territory/catalogue/dcat.jsonld``: the same as DCAT-AP 3 (``catalogue.dcat``),
  for people and harvesters; not read back, DCAT does not carry the source;
- ``territory/catalogue/data/<identifier>.csv``: each dataset's rows when exported,
  streamed like a download. Not read back either: a dataset's rows are read live
  from its source, and the entities behind them travel in the NGSI-LD part;
- ``territory/catalogue/files.json`` and ``files/``: rows of the catalogue models
  attached to a dataset (uploaded files, snapshots), see ``territory_files``.

Datasets are written through ``catalogue.services`` (publish, change), so they are
checked and recorded in the ledger like any other.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from alzette.portability import records, territory_files
from alzette.portability.archive import ArchiveError, Reader, Writer
from alzette.portability.plan import CREATE, UNCHANGED, UPDATE, Action, Plan
from alzette.territory.catalogue import dcat, downloads, services, sources
from alzette.territory.catalogue.models import Dataset, Organisation

DB = services.DB
ORGANISATION = "territory/organisation.json"
DATASETS = "territory/catalogue/datasets.json"
DCAT = "territory/catalogue/dcat.jsonld"
#: Neither a dataset's own field nor carried: the publisher is the archive's organisation.
_NOT_CARRIED = frozenset({"organisation"})
log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def organisation(slug: str) -> Organisation | None:
    return Organisation.objects.using(DB).filter(slug=slug).first()


def datasets_of(org: Organisation) -> list[Dataset]:
    return list(Dataset.objects.using(DB).filter(organisation=org).order_by("identifier"))


# --- Export ------------------------------------------------------------------------------


def export(writer: Writer, org: Organisation, progress: Progress) -> dict[str, Any]:
    """Write the catalogue part; counts and warnings for the manifest."""
    found = datasets_of(org)
    writer.json(ORGANISATION, records.dump(org), "The organisation (catalogue publisher).")
    writer.json(DATASETS, [records.dump(d) for d in found],
                "The organisation's datasets, every field.", count=len(found))  # fmt: skip
    _export_dcat(writer, org, found)
    warnings = [w for d in found if (w := _export_rows(writer, d, progress))]
    files = territory_files.export(writer, found, warnings)
    progress(f"catalogue: {len(found)} dataset(s), {files} attached row(s) (files, snapshots)")
    return {"datasets": len(found), "attached_rows": files, "warnings": warnings}


def _export_dcat(writer: Writer, org: Organisation, found: list[Dataset]) -> None:
    graph = dcat.new_graph()
    dcat.add_organisation(graph, org)
    for dataset in found:
        dcat.add_dataset(graph, dataset)
    about = "The organisation and its datasets as DCAT-AP 3 (informative)."
    with writer.part(DCAT, "application/ld+json", about) as out:
        out.write(dcat.serialise(graph, "jsonld"))


def _export_rows(writer: Writer, dataset: Dataset, progress: Progress) -> str:
    """The rows as CSV through a temporary file, so that a source failing half-way
    leaves no half part in the archive; a warning instead of the part then."""
    with tempfile.TemporaryFile() as spool:
        try:
            for chunk in downloads.stream(dataset, "csv"):
                spool.write(chunk)
        except Exception as exc:  # any source failure: the metadata still travel
            log.warning("export of %s rows failed: %s", dataset.identifier, exc)
            return f"dataset {dataset.identifier}: rows not exported ({exc})"
        spool.seek(0)
        path = f"territory/catalogue/data/{dataset.identifier}.csv"
        with writer.part(path, "text/csv", f"Rows of {dataset.identifier} when exported.",
                         dataset=dataset.identifier) as out:  # fmt: skip
            shutil.copyfileobj(spool, out)
    progress(f"catalogue: rows of {dataset.identifier} exported")
    return ""


# --- Import: plan ------------------------------------------------------------------------


def plan(reader: Reader, slug: str, into: Plan) -> None:
    """Add the organisation and its datasets to the plan, checking each dataset."""
    into.add("organisation", slug, organisation(slug) is not None)
    for data in _datasets(reader):
        identifier = str(data.get("identifier", ""))
        existing = Dataset.objects.using(DB).filter(identifier=identifier).first()
        owner = existing.organisation.slug if existing else slug
        if owner != slug:
            into.refuse("dataset", identifier, f"belongs to organisation {owner}")
            continue
        problem = _check_dataset(data)
        if problem:
            into.refuse("dataset", identifier, problem)
            continue
        into.add("dataset", identifier, existing is not None)
        for name in records.load(Dataset, data, _NOT_CARRIED).unknown:
            # A field of a newer Alzette: said, not silently lost.
            into.actions.append(Action("dataset_field", f"{identifier}.{name}", UNCHANGED,
                                       "unknown on this instance, dropped"))  # fmt: skip


def _datasets(reader: Reader) -> list[dict[str, Any]]:
    found = reader.json(DATASETS)
    if not isinstance(found, list) or not all(isinstance(d, dict) for d in found):
        raise ArchiveError(f"{DATASETS} is not a list of datasets.")
    return found


def _check_dataset(data: dict[str, Any]) -> str:
    """Why the dataset cannot be published here, or ""."""
    try:
        loaded = records.load(Dataset, data, _NOT_CARRIED)
        dataset = Dataset(**loaded.values)
        dataset.clean_fields(exclude=["organisation"])
        dataset.clean()
        sources.get(dataset.source).check(dataset.source_options or {})
    except (ValidationError, ValueError, TypeError) as exc:
        return _message(exc)
    return ""


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) \
            if hasattr(exc, "error_dict") else "; ".join(exc.messages)  # fmt: skip
    return str(exc)


# --- Import: apply -----------------------------------------------------------------------


def apply(reader: Reader, slug: str, done: Plan, actor: str, written: list[Path]) -> int:
    """Create or replace the organisation and its datasets as planned; the number of
    attached rows imported. Files put on disk are added to ``written``."""
    org = _apply_organisation(reader, slug, done.verb("organisation", slug))
    attached = 0
    for data in _datasets(reader):
        verb = done.verb("dataset", data["identifier"])
        if verb in (CREATE, UPDATE):
            dataset = _apply_dataset(org, data, verb, actor)
            attached += territory_files.import_rows(reader, dataset, verb == UPDATE, written)
    return attached


def _apply_organisation(reader: Reader, slug: str, verb: str | None) -> Organisation:
    values = records.load(Organisation, reader.json(ORGANISATION)).values
    values["slug"] = slug
    org = organisation(slug)
    if org is None or verb == UPDATE:
        org = org or Organisation()
        for name, value in values.items():
            setattr(org, name, value)
        org.save(using=DB)
    return org


def _apply_dataset(org: Organisation, data: dict[str, Any], verb: str, actor: str) -> Dataset:
    values = records.load(Dataset, data, _NOT_CARRIED).values
    identifier = values.pop("identifier")
    editable = {k: v for k, v in values.items() if k in services.EDITABLE}
    carried = {k: v for k, v in values.items() if k not in services.EDITABLE}
    if verb == CREATE:
        dataset = services.publish(org, identifier, actor=actor, **editable)
    else:
        dataset = Dataset.objects.using(DB).get(identifier=identifier)
        dataset = services.change(dataset, actor=actor, **editable)
    # What services do not edit (first publication, the last refresh's figures)
    # is the source instance's truth: carried as is, without another ledger entry.
    if carried:
        Dataset.objects.using(DB).filter(pk=dataset.pk).update(**carried)
        dataset.refresh_from_db(using=DB)
    return dataset
