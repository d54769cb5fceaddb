from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.machine import ModelUnavailable, active_model_version
from catalogue.models import Collection, Field
from catalogue.services.fields import field_get
from catalogue.services.predictions import predictions_enqueue_field
from catalogue.services.training.base import base_model_ensure


class Command(BaseCommand):
    help = "Predict a field for every record (or one collection's) with the active model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True)
        parser.add_argument("--collection", default=None, help="Collection slug")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            field = field_get(key=options["field"])
            base_model_ensure(field=field)
            active_model_version(field=field)
        except Field.DoesNotExist:
            raise CommandError(f"No field {options['field']!r}.") from None
        except ModelUnavailable as exc:
            raise CommandError(str(exc)) from None
        collection_id = None
        if options["collection"]:
            collection = Collection.objects.filter(slug=options["collection"]).first()
            if collection is None:
                raise CommandError(f"No collection {options['collection']!r}.")
            collection_id = collection.id
        n = predictions_enqueue_field(field=field, collection_id=collection_id)
        self.stdout.write(f"Prediction of {field.key} enqueued for {n} records.")
