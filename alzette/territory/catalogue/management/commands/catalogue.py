"""``alzette catalogue refresh|list|upload|prune``: the open-data catalogue's upkeep."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.territory.catalogue import services, snapshots
from alzette.territory.catalogue.models import Dataset


class Command(BaseCommand):
    help = "Refresh the open-data catalogue's datasets, or list them (docs/open-data.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        refresh = commands.add_parser(
            "refresh", help="Refresh the datasets that are due (by their update frequency)."
        )
        refresh.add_argument("identifiers", nargs="*", help="Refresh these now, due or not.")
        commands.add_parser("list", help="Each dataset, its rows and its freshness.")
        upload = commands.add_parser(
            "upload", help="Upload a CSV file as the rows of a dataset of the uploaded-file source."
        )
        upload.add_argument("identifier", help="The dataset.")
        upload.add_argument("path", help="The CSV file (UTF-8).")
        upload.add_argument("--schema", help="A national schema to validate against "
                                             "(default: the dataset's).")  # fmt: skip
        prune = commands.add_parser("prune", help="Delete old snapshots and unused files.")
        prune.add_argument("--keep", type=int, help="Snapshots kept per dataset.")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["command"]
        if command == "list":
            return self._list()
        if command == "upload":
            return self._upload(options["identifier"], options["path"], options["schema"])
        if command == "prune":
            deleted = snapshots.prune(options["keep"])
            self.stderr.write(f"{deleted} file(s) deleted.")
            return None
        return self._refresh(options["identifiers"])

    def _list(self) -> None:
        for dataset in Dataset.objects.using(services.DB).order_by("identifier"):
            state = "ok"
            if dataset.refresh_error:
                since = dataset.failing_since.isoformat() if dataset.failing_since else "?"
                state = f"failing since {since}: {dataset.refresh_error}"
            self.stdout.write(f"{dataset.identifier}\t{dataset.row_count}\t"
                              f"{dataset.refreshed_at or 'never'}\t{state}")  # fmt: skip

    def _upload(self, identifier: str, path: str, schema: str | None) -> None:
        dataset = _dataset(identifier)
        try:
            with open(path, "rb") as data:
                stored = services.upload(dataset, path, data, schema=schema,
                                         actor="system:catalogue-cli")  # fmt: skip
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        except ValidationError as exc:
            lines = [f"{k}: {m}" for k, ms in exc.message_dict.items() for m in ms]
            raise CommandError("File refused, the previous one is kept.\n"
                               + "\n".join(lines)) from None  # fmt: skip
        self.stderr.write(f"{stored.row_count} row(s) uploaded to {identifier} "
                          f"(sha256 {stored.sha256}).")  # fmt: skip

    def _refresh(self, identifiers: list[str]) -> None:
        if not identifiers:
            self.stderr.write(f"{services.refresh_due()} dataset(s) refreshed.")
            return
        failed = []
        for identifier in identifiers:
            dataset = _dataset(identifier)
            if not services.refresh(dataset):
                failed.append(f"{identifier}: {dataset.refresh_error}")
        if failed:
            raise CommandError("Refresh failed, last good version kept: " + "; ".join(failed))
        self.stderr.write(f"{len(identifiers)} dataset(s) refreshed.")


def _dataset(identifier: str) -> Dataset:
    dataset = Dataset.objects.using(services.DB).filter(identifier=identifier).first()
    if dataset is None:
        raise CommandError(f"No dataset {identifier!r}.")
    return dataset
