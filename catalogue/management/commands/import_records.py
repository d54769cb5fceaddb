from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalogue import dispatch
from catalogue.models import Collection
from catalogue.services.imports import FORMATS, ImportFileError, parse_mapping, records_import

SUFFIX_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".mrc": "marc",
    ".marc": "marc",
    ".xml": "marcxml",
}


class Command(BaseCommand):
    help = (
        "Import records from a CSV, JSON Lines, MARC 21 or MARCXML file into a collection. The "
        "whole file is checked first: a file with an error stores nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--collection", required=True, help="Collection slug (created if new)")
        parser.add_argument("--collection-name", default="", help="Name for a new collection")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default=None,
            help="csv, jsonl, marc (ISO 2709, MARC-8 or UTF-8) or marcxml; default from the suffix",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="TARGET=COLUMN",
            help="Map a column to identifier, title, description or a field key (e.g. language)",
        )
        parser.add_argument("--private", action="store_true", help="A new collection is not public")
        parser.add_argument(
            "--sensitive", action="store_true", help="A new collection is sensitive"
        )
        parser.add_argument("--licence", default="", help="Licence of a new collection's metadata")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        fmt = options["format"] or SUFFIX_FORMATS.get(path.suffix.lower(), "csv")
        try:
            mapping = parse_mapping(options["map"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        collection, created = Collection.objects.get_or_create(
            slug=options["collection"],
            defaults={
                "name": options["collection_name"] or options["collection"],
                "is_public": not options["private"],
                "is_sensitive": options["sensitive"],
                "licence": options["licence"],
            },
        )
        bar = tqdm(desc=f"Importing {path.name}", unit=" records", disable=options["verbosity"] < 1)
        try:
            with dispatch.watch() as follow_ups:
                result = records_import(
                    path=path, collection=collection, fmt=fmt, mapping=mapping, progress=bar.update
                )
        except ImportFileError as exc:
            if created:
                collection.delete()
            raise CommandError(f"{exc} Nothing was imported.") from None
        except BaseException:
            # The import is one transaction: whatever stopped it, a collection made for it is empty.
            if created:
                collection.delete()
            raise
        finally:
            bar.close()
        self.stdout.write(
            f"{collection.slug}: {result.created} records created, {result.updated} updated, "
            f"{result.unchanged} unchanged, "
            f"{result.values_set} values set from the file"
            + (
                f", {result.values_kept_human} kept because a cataloguer decided them"
                if result.values_kept_human
                else ""
            )
            + "."
        )
        if follow_ups.deferred:
            # The records are stored; their predictions wait in the outbox for the broker.
            self.stdout.write(
                f"The task queue did not answer: {follow_ups.deferred} prediction batches wait "
                "in the outbox and are sent when it is back."
            )
