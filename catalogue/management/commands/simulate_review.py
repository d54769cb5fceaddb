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
        "answer up to budget × n queued items, retrain after each batch, print the learning "
        "curve. Nothing is kept: the simulation is rolled back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True)
        parser.add_argument("--data", required=True, type=Path)
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
        for point in result.curve:
            if point.n == 0:  # a budget of 1 answers every record: nothing left to score
                scores = "every record answered"
            else:
                scores = f"accuracy {point.accuracy:.3f}  macro-F1 {point.macro_f1:.3f}"
            self.stdout.write(f"reviewed {point.reviewed:>5}  v{point.version}  {scores}")
