"""Scale benchmark, part ``reroute``: a threshold change over every prediction of the catalogue.

Every record that needs one is predicted first (unmeasured, in this process, if no part did it)
under ``threshold`` at 0.9; the threshold then moves to 0.8 and the re-route (what the
``reroute_field`` task runs) is timed, then back to 0.9 (the same band moves back, its values
withdrawn).
"""

from __future__ import annotations

from scale_common import Bench, Figure, timed
from scale_import import records_ensure


def predictions_ensure() -> None:
    """Every record that needs a prediction has one (made in batches here if not)."""
    from django.conf import settings

    from catalogue.models import ModelVersion
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.predictions import predictions_create, records_without_prediction
    from catalogue.services.training.base import base_model_ensure

    field = field_ensure_language()
    base_model_ensure(field=field)
    version = ModelVersion.objects.get(field=field, status=ModelVersion.Status.ACTIVE)
    todo = records_without_prediction(model_version=version)
    size = settings.GLAMML_INFERENCE_BATCH_SIZE * 4
    for start in range(0, len(todo), size):
        predictions_create(field=field, record_ids=todo[start : start + size])


def run(bench: Bench) -> list[Figure]:
    from catalogue.models import DecisionPolicy, Prediction
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.rerouting import predictions_reroute

    records_ensure(bench)
    field = field_ensure_language()
    DecisionPolicy.objects.filter(field=field).update(mode="threshold", threshold=0.9)
    predictions_ensure()
    total = Prediction.objects.filter(field=field).count()
    figures = []
    for threshold in (0.8, 0.9):
        DecisionPolicy.objects.filter(field=field).update(threshold=threshold)
        field = field_ensure_language()
        with timed() as t:
            result = predictions_reroute(field=field)
        moved = result.applied + result.queued
        figures.append(
            Figure(
                "reroute",
                f"threshold to {threshold}: {moved:,} of {total:,} predictions move",
                t[0],
                "s",
                note=f"{moved / t[0]:,.0f} moved/s",
            )
        )
    return figures
