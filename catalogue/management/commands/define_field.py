from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import Collection, Field
from catalogue.services.fields import field_create


class Command(BaseCommand):
    help = "Define a single-label field a model can learn, e.g. genre or object type."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key", required=True, help="e.g. genre")
        parser.add_argument("--name", required=True, help="e.g. Genre")
        parser.add_argument(
            "--labels",
            default="",
            help="Comma-separated labels; CODE=Name to give a label a longer name",
        )
        parser.add_argument(
            "--label",
            action="append",
            default=[],
            metavar="CODE[=Name]",
            help="One label (repeatable), for labels that contain commas",
        )
        parser.add_argument(
            "--text",
            default="title",
            help="Comma-separated record attributes the model reads (title, description, "
            "or an extra column)",
        )
        parser.add_argument("--metric", choices=Field.Metric.values, default="macro_f1")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A classifier setting (repeatable), e.g. C=3 or calibration=temperature; "
            "the value is read as JSON where it can be",
        )
        parser.add_argument(
            "--collection",
            action="append",
            default=[],
            metavar="SLUG",
            help="A collection the field applies to (repeatable; none: every collection)",
        )
        parser.add_argument("--description", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        labels = []
        items = [i for i in options["labels"].split(",") if i.strip()] + options["label"]
        for item in items:
            code, _, name = item.partition("=")
            labels.append((code.strip(), name.strip() or code.strip()))
        collections = list(Collection.objects.filter(slug__in=options["collection"]))
        missing = set(options["collection"]) - {c.slug for c in collections}
        if missing:
            raise CommandError(f"No collection {sorted(missing)[0]!r}.")
        try:
            field = field_create(
                model_params=_params(options["param"]),
                collections=collections,
                key=options["key"],
                name=options["name"],
                labels=labels,
                text_source=[t.strip() for t in options["text"].split(",") if t.strip()],
                metric=options["metric"],
                description=options["description"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Defined {field.key} with {field.labels.count()} labels, reading "
            f"{', '.join(field.text_source)}; policy: review every prediction."
        )


def _params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--param {item!r}: write KEY=VALUE, e.g. C=3.")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params
