from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.machine import ModelUnavailable, active_model_version, model_load
from catalogue.models import Field
from catalogue.services.evaluation import LANGUAGE_COLUMNS, field_evaluate
from catalogue.services.fields import field_get
from glamml.ml.benchmark import LabelledDataError


class Command(BaseCommand):
    help = (
        "Evaluate a field's active model on a labelled CSV file: accuracy, macro-F1, per-label "
        "precision and recall, ECE, coverage at 95%/99% precision and texts per second. Labels "
        "are read by the field's vocabulary; rows whose label the model cannot output count as "
        "errors and are counted. A language field also reads the columns "
        + ", ".join(LANGUAGE_COLUMNS)
        + " where the file has them, as parts of a record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True)
        parser.add_argument("--data", required=True, help="CSV file with a header row")
        parser.add_argument("--text-column", default="text")
        parser.add_argument(
            "--label-column",
            default="label",
            help="a label code or name of the field (a language field: ISO 639-1, ISO 639-2/B "
            "(MARC), ISO 639-3, ISO 639-5 codes or English names)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            field = field_get(key=options["field"])
            model = model_load(version=active_model_version(field=field))
        except Field.DoesNotExist:
            raise CommandError(f"No field {options['field']!r}.") from None
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from None
        try:
            result = field_evaluate(
                field=field,
                model=model,
                path=options["data"],
                text_column=options["text_column"],
                label_column=options["label_column"],
            )
        except FileNotFoundError:
            raise CommandError(f"{options['data']}: no such file") from None
        except LabelledDataError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, sort_keys=True))
            return
        coverage = result["coverage_at_precision"]
        self.stdout.write(
            f"{result['n']} texts: accuracy {result['accuracy']:.3f}, "
            f"macro-F1 {result['macro_f1']:.3f}, ECE {result['ece']:.3f}, "
            f"coverage at 95% precision {coverage['0.95']:.3f}, "
            f"at 99% {coverage['0.99']:.3f}, {result['texts_per_second']:,.0f} texts/s"
        )
        unpredictable = result["unpredictable"]
        if unpredictable["n"]:
            counts = ", ".join(f"{label} {n}" for label, n in unpredictable["labels"].items())
            self.stdout.write(
                f"{unpredictable['n']} row(s) have a label the model cannot output ({counts}): "
                "counted as errors."
            )
