from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.machine import ModelUnavailable
from catalogue.models import Field
from catalogue.services.fields import field_get
from catalogue.simulation import SimulationError, simulate_review


class Command(BaseCommand):
    help = (
        "Simulate the human loop with a labelled file playing the cataloguer: predict, route, "
        "answer up to budget × n queued items of the POOL (--data), retrain after each batch, "
        "print the learning curve: the model on TEST (--test, never reviewed; without it a "
        "hashed fifth of --data) and the catalogue on POOL. Nothing is kept: the simulation "
        "is rolled back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True)
        parser.add_argument("--data", required=True, type=Path, help="POOL: reviewed")
        parser.add_argument("--test", type=Path, help="TEST: never reviewed, scored on")
        parser.add_argument("--budget", type=float, default=0.1)
        parser.add_argument("--batch", type=int, default=50)
        parser.add_argument("--order", choices=["uncertainty", "random"], default="uncertainty")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            field = field_get(key=options["field"])
            result = simulate_review(
                field=field,
                path=options["data"],
                test_path=options["test"],
                budget=options["budget"],
                batch=options["batch"],
                order=options["order"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
        except Field.DoesNotExist:
            raise CommandError(f"No field {options['field']!r}.") from None
        except (SimulationError, ModelUnavailable) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), indent=2))
            return
        self.stdout.write(f"POOL: {result.n} rows of {options['data'].name}, reviewed in order")
        self.stdout.write(result.test)
        self.stdout.write("reviewed  version  TEST: accuracy  macro-F1  POOL: catalogue accuracy")
        for point in result.curve:
            self.stdout.write(
                f"{point.reviewed:>8}  v{point.version:<6}  {point.accuracy:>14.3f}  "
                f"{point.macro_f1:>8.3f}  {point.catalogue_accuracy:>24.3f}"
            )
