from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import Field, TrainingRun
from catalogue.services.fields import field_get
from catalogue.services.training.runs import EVEN_IF_UNCHANGED, training_run_create


class Command(BaseCommand):
    help = (
        "Train a new model version for a field from imported values and human decisions, "
        "evaluate it on a held-out split and make it active."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True)
        parser.add_argument(
            "--even-if-unchanged",
            action="store_true",
            help="Train even if the labelled data has not changed since the latest version "
            "(after the model's code changed); otherwise such a run is skipped.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            field = field_get(key=options["field"])
        except Field.DoesNotExist:
            raise CommandError(f"No field {options['field']!r}.") from None
        params = {EVEN_IF_UNCHANGED: True} if options["even_if_unchanged"] else {}
        run = training_run_create(field=field, trigger=TrainingRun.Trigger.COMMAND, params=params)
        run.refresh_from_db()
        if run.status == TrainingRun.Status.FAILED:
            raise CommandError(f"Training failed: {run.message}")
        if run.status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.SKIPPED):
            self.stdout.write(run.message)
        else:
            self.stdout.write(f"Training run {run.code} is {run.status} on the training queue.")
