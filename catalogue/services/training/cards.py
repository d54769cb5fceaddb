"""The facts a version's model card is written from, gathered when the version is made."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone

from catalogue.field_records import settled_values
from catalogue.models import Field, Record, TrainingRun
from glamml.ml.examples import Example
from glamml.ml.training import TrainingReport


def card_facts(
    *,
    field: Field,
    number: int,
    run: TrainingRun,
    report: TrainingReport,
    examples: list[Example[int]],
) -> dict[str, Any]:
    """What ``glamml.ml.cards`` needs, as JSON stored with the version (``ModelVersion.card``)."""
    return {
        "field": {
            "key": field.key,
            "name": field.name,
            "labels": sorted(field.labels.values_list("code", flat=True)),
        },
        "version": number,
        "created_at": timezone.now().isoformat(),
        "created_by": run.started_by.get_username() if run.started_by else run.trigger,
        "intended_use": (
            f"Suggest the {field.name.lower()} of catalogue records from their "
            f"{', '.join(field.text_source or ['title'])}, for a cataloguer to accept or "
            "correct, or to apply on its own where the field's policy allows."
        ),
        "training_data": _training_data(field=field, report=report, examples=examples),
        "params": report.model.params(),
        "metrics": report.metrics,
        "baselines": report.baselines,
        "routing": {"mode": field.policy.mode, "threshold": field.policy.threshold},
        "metric": field.metric,
    }


def _training_data(
    *, field: Field, report: TrainingReport, examples: list[Example[int]]
) -> dict[str, Any]:
    collections = (
        Record.objects.filter(id__in=[e.key for e in examples])
        .values("collection__name", "collection__licence")
        .distinct()
    )
    dates = settled_values(field=field).aggregate(first=Min("created_at"), last=Max("created_at"))
    counts = Counter(e.label for e in examples)
    return {
        "sources": sorted({c["collection__name"] for c in collections}),
        "licences": sorted(
            {c["collection__licence"] for c in collections if c["collection__licence"]}
        ),
        "label_counts": dict(sorted(counts.items())),
        "n_train": report.metrics.get("n_train", 0),
        "n_test": report.metrics.get("n_test", report.metrics.get("n", 0)),
        "date_range": (
            [dates["first"].date().isoformat(), dates["last"].date().isoformat()]
            if dates["first"]
            else None
        ),
        "fingerprint": report.fingerprint,
    }
