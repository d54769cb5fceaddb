from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalogue.stats import catalogue_stats


class Command(BaseCommand):
    help = "Counts of predictions per field and status, decisions, flags and active models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = catalogue_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats, indent=2, sort_keys=True))
            return
        self.stdout.write(
            f"records: {stats['records']}  decisions: {stats['decisions']}  flags: {stats['flags']}"
        )
        for key, f in stats["fields"].items():
            active = f["active_model"]
            model = f"v{active['version']}" if active else "none"
            counts = ", ".join(f"{s} {n}" for s, n in f["predictions"].items() if n)
            self.stdout.write(f"{key}: active model {model}; predictions: {counts or 'none'}")
