"""Counts for scripts and checks (`manage.py stats --json`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from catalogue.models import Decision, Field, Flag, ModelVersion, Prediction, Record


def catalogue_stats() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for field in Field.objects.order_by("key"):
        by_status = dict(
            Prediction.objects.filter(field=field)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        active = ModelVersion.objects.filter(field=field, status=ModelVersion.Status.ACTIVE).first()
        fields[field.key] = {
            "predictions": {s: by_status.get(s, 0) for s in Prediction.Status.values},
            "decisions": dict(
                Decision.objects.filter(prediction__field=field)
                .values_list("action")
                .annotate(n=Count("id"))
                .values_list("action", "n")
            ),
            "flags": dict(
                Flag.objects.filter(field=field)
                .values_list("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            ),
            "active_model": (
                {
                    "version": active.version,
                    "code": str(active.code),
                    "checksum": active.checksum,
                    "n_train": active.n_train,
                    "accuracy": active.metrics.get("accuracy"),
                    "macro_f1": active.metrics.get("macro_f1"),
                }
                if active
                else None
            ),
            "model_versions": field.model_versions.count(),
        }
    return {
        "records": Record.objects.count(),
        "decisions": Decision.objects.count(),
        "flags": Flag.objects.count(),
        "fields": fields,
    }
