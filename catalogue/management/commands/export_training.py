from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import Field
from catalogue.services.sharing import (
    FORMATS,
    LICENCES,
    SharingError,
    training_bundle,
    training_data,
)


class Command(BaseCommand):
    help = (
        "Write a field's training data (values from the source catalogues and cataloguers) as "
        "a zip with the data file, a datasheet and the licence you choose."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True, help="The field's key, e.g. language")
        parser.add_argument("--licence", required=True, choices=sorted(LICENCES))
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--out", help="The zip to write (default: KEY-training-data.zip)")
        parser.add_argument(
            "--include-private",
            action="store_true",
            help="Also records of non-public collections (sensitive ones never)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            field = Field.objects.get(key=options["field"])
        except Field.DoesNotExist:
            raise CommandError(f"No field {options['field']!r}.") from None
        try:
            data = training_data(
                field=field,
                licence=options["licence"],
                public_only=not options["include_private"],
            )
            out = Path(options["out"] or f"{field.key}-training-data.zip")
            out.write_bytes(training_bundle(data, options["format"]))
        except (SharingError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Wrote {len(data.rows)} records with their datasheet to {out}.")
