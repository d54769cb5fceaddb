from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.demo import (
    SAMPLE,
    demo_label_fields,
    demo_load,
    demo_monitor,
    demo_train,
    demo_users,
)
from catalogue.stats import catalogue_stats


class Command(BaseCommand):
    help = "Load the bundled sample records, train the language model, predict, create demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rows",
            type=int,
            default=None,
            help="at most N records of each sample collection (a quicker demo); default all",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not SAMPLE.exists():
            raise CommandError(f"The sample file {SAMPLE.name} is missing from data/sample/.")
        rows = options["rows"]
        if rows is not None and rows < 1:
            raise CommandError(f"--rows must be at least 1, not {rows}.")
        counts = demo_load(rows=rows)
        for slug, n in counts.items():
            self.stdout.write(f"Imported {n} records into {slug}.")
        self.stdout.write(demo_train())
        for key, n in demo_label_fields(rows=rows).items():
            self.stdout.write(f"Imported {n} records with {key} (some values hidden) and trained.")
        for key, field in catalogue_stats()["fields"].items():
            predictions = field["predictions"]
            self.stdout.write(
                f"{key}: {predictions['applied']} predictions applied, "
                f"{predictions['queued']} waiting for review."
            )
        for key, n in demo_monitor().items():
            self.stdout.write(
                f"{key}: monitoring snapshot taken, {n} applied values to spot-check."
            )
        for login in demo_users():
            self.stdout.write(f"Demo {login.role}: {login.username} / {login.password}")
