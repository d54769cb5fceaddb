"""A prediction batch's answers calibrated, routed and made into rows, as array operations.

The rules are those one prediction at a time follows (a collection's calibrator, :func:`route`,
the margin between the two likeliest answers, the audit rank), applied to the whole batch at
once: per record, Python only builds the row that is stored. The values are the same bit for
bit (``tests/catalogue/test_prediction_batches.py`` compares them with the rules applied one
record at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from catalogue.machine import Model
from catalogue.models import Collection, Field, ModelVersion, Prediction
from catalogue.services.calibration import calibrators_for_version
from catalogue.services.prediction_rows import NewPrediction
from catalogue.services.routing import FLAG, Route, never_applied, route_many
from glamml.ml.hashing import stable_fractions
from glamml.ml.topk import TopK


class BatchRow(Protocol):
    """What the batch needs of a record it predicted."""

    @property
    def id(self) -> int: ...
    @property
    def collection_id(self) -> int: ...


def calibrated(
    *, field: Field, version: ModelVersion, model: Model, top: TopK, collection_ids: np.ndarray
) -> np.ndarray:
    """Every answer's confidence as its record's collection reads it (the top's shape)."""
    calibrators = calibrators_for_version(
        field=field, version=version, model=model, collection_ids=set(collection_ids.tolist())
    )
    result = np.empty_like(top.proba)
    for collection_id, calibrator in calibrators.items():
        rows = collection_ids == collection_id
        result[rows] = calibrator.calibrate_many(top.proba[rows])
    return result


def audit_ranks(record_ids: Sequence[int], version_id: int) -> np.ndarray:
    """:func:`~catalogue.services.predictions.audit_rank` of each record."""
    return stable_fractions(f"audit:{version_id}:{record_id}" for record_id in record_ids)


def labels_answered(top: TopK) -> set[str]:
    """Every label among the batch's answers (an abstention's too)."""
    answered = top.index[np.arange(top.index.shape[1])[None, :] < top.width[:, None]]
    return {top.labels[c] for c in np.unique(answered).tolist()}


def new_predictions(
    *,
    field: Field,
    version: ModelVersion,
    model: Model,
    records: Sequence[BatchRow],
    top: TopK,
    sensitive: set[str],
    force_review: bool,
) -> list[NewPrediction]:
    """The batch's predictions, read as each record's collection reads the model's confidence,
    and routed by the field's policy (or to review, flagged)."""
    record_ids = [r.id for r in records]
    collection_ids = np.array([r.collection_id for r in records], dtype=np.int64)
    confidence = calibrated(
        field=field, version=version, model=model, top=top, collection_ids=collection_ids
    )
    best = top.index[:, 0]
    # Each label's checks once, not once per record: a language code check parses the code.
    used = np.unique(best).tolist()
    label_sensitive = np.zeros(len(top.labels), dtype=bool)
    not_a_language = np.zeros(len(top.labels), dtype=bool)
    for c in used:
        label_sensitive[c] = top.labels[c] in sensitive
        not_a_language[c] = never_applied(field=field, label=top.labels[c])
    if force_review:
        routes, chosen = [Route(Prediction.Status.QUEUED, FLAG)], np.zeros(len(records), dtype=int)
    else:
        sensitive_collections = Collection.objects.filter(
            id__in=np.unique(collection_ids).tolist(), is_sensitive=True
        ).values_list("id", flat=True)
        policy = field.policy
        routes, chosen = route_many(
            mode=policy.mode,
            threshold=policy.threshold,
            confidence=confidence[:, 0],
            collection_sensitive=np.isin(collection_ids, list(sensitive_collections)),
            label_sensitive=label_sensitive[best],
            not_a_language=not_a_language[best],
        )
    return _rows(
        record_ids=record_ids,
        collection_ids=collection_ids,
        top=top,
        confidence=confidence,
        routes=[routes[i] for i in chosen.tolist()],
        ranks=audit_ranks(record_ids, version.id),
        flagged=force_review,
    )


def _rows(
    *,
    record_ids: list[int],
    collection_ids: np.ndarray,
    top: TopK,
    confidence: np.ndarray,
    routes: list[Route],
    ranks: np.ndarray,
    flagged: bool,
) -> list[NewPrediction]:
    """The rows the insert writes: the arrays' columns as Python values, zipped."""
    labels, width = top.labels, top.width
    # The gap between the two likeliest calibrated answers; 1.0 with only one.
    second = confidence[:, 1] if confidence.shape[1] > 1 else np.zeros(len(width))
    margins = np.where(width < 2, 1.0, confidence[:, 0] - second)
    alternatives = [
        [[labels[c], round(p, 6)] for c, p in zip(codes[:w], probs[:w], strict=True)]
        for codes, probs, w in zip(
            top.index.tolist(), confidence.tolist(), width.tolist(), strict=True
        )
    ]
    statuses, routed_by = zip(*routes, strict=True) if routes else ((), ())
    # Each row's values in NewPrediction's order.
    return [
        NewPrediction(*row)
        for row in zip(
            record_ids,
            collection_ids.tolist(),
            [labels[c] for c in top.index[:, 0].tolist()],
            confidence[:, 0].tolist(),
            top.proba[:, 0].tolist(),
            alternatives,
            statuses,
            routed_by,
            margins.tolist(),
            ranks.tolist(),
            [flagged] * len(record_ids),
            strict=True,
        )
    ]
