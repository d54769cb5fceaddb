from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.interop.export import EXPORT_FORMATS, collection_export
from catalogue.models import Collection


class Command(BaseCommand):
    help = (
        "Export a collection's records with their values and provenance: csv, jsonl, dc "
        "(Dublin Core XML) or marcxml (language in 008/041, an 883 for each value a model applied)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", required=True, help="Collection slug")
        parser.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="csv")
        parser.add_argument(
            "--out", type=Path, default=None, help="File to write (default: stdout)"
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="Only what a visitor may see (model values hidden where a field's policy says so)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = str(options["collection"])
        try:
            collection = Collection.objects.get(slug=slug)
        except Collection.DoesNotExist:
            raise CommandError(f"No collection {slug!r}.") from None
        chunks = collection_export(
            collection=collection, fmt=str(options["format"]), public=bool(options["public"])
        )
        out = options["out"]
        if out is None:
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        assert isinstance(out, Path)
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            partial.replace(out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"{out}: cannot write ({exc.strerror}).") from None
        self.stderr.write(f"{collection.slug}: wrote {out}.")
