"""A prediction batch's answers calibrated, routed and made into rows, as array operations.

The rules are those one prediction at a time follows (a collection's calibrator, :func:`route`,
the margin between the two likeliest answers, the audit rank), applied to the whole batch at
once: per record, Python only builds the row that is stored. The values are the same bit for
bit (``tests/catalogue/test_prediction_batches.py`` compares them with the rules applied one
record at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL

from catalogue.field_records import records_for_field
from catalogue.machine import Model
from catalogue.models import Collection, Field, ModelVersion, Prediction, Record
from catalogue.services.calibration import calibrators_for_version
from catalogue.services.inference import EXTRA_EVIDENCE
from catalogue.services.prediction_rows import NewPrediction
from catalogue.services.routing import FLAG, Route, never_applied, route_many
from glamml.ml.hashing import stable_fractions
from glamml.ml.topk import TopK


class BatchRecord(NamedTuple):
    """What a prediction batch reads of a record: a row, not a model object for each."""

    id: int
    collection_id: int
    title: str
    description: str
    extra: Any


# What a language field's model reads of a record's extra values (when the field's own text is
# its title and description): the evidence keys and the notes.
_EVIDENCE_KEYS = (*EXTRA_EVIDENCE, "notes")


def batch_records(*, field: Field, record_ids: list[int]) -> list[BatchRecord]:
    """The batch's records the field applies to, by id.

    On PostgreSQL a language field that reads only its records' title and description gets,
    as the extra values, just the string values of the keys its model reads, each selected as
    text: decoding every record's whole ``extra`` JSON in Python was a twentieth of a batch.
    What the model reads is the same (:func:`language_evidence` reads only string values).
    """
    records = records_for_field(field=field, record_ids=record_ids).order_by("id")
    names = set(field.text_source or ["title"])
    if (
        connection.vendor != "postgresql"
        or field.kind != Field.Kind.LANGUAGE
        or not names <= {"title", "description"}
    ):
        rows = records.values_list("id", "collection_id", "title", "description", "extra")
        return [BatchRecord(*row) for row in rows]
    table = Record._meta.db_table
    texts = {
        f"_extra_{i}": RawSQL(
            f'CASE WHEN jsonb_typeof("{table}"."extra" -> %s) = \'string\' '
            f'THEN "{table}"."extra" ->> %s END',
            (key, key),
            output_field=TextField(),
        )
        for i, key in enumerate(_EVIDENCE_KEYS)
    }
    rows = records.annotate(**texts).values_list(
        "id", "collection_id", "title", "description", *texts
    )
    return [
        BatchRecord(
            *row[:4],
            {key: v for key, v in zip(_EVIDENCE_KEYS, row[4:], strict=True) if v is not None},
        )
        for row in rows
    ]


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
