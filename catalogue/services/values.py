"""The one write path for a record's field values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from catalogue.models import Field, FieldValue, ModelVersion, Prediction, Record
from catalogue.pgarrays import bigint_array

# A person's or the source catalogue's value is never replaced by a model.
SETTLED_SOURCES = (FieldValue.Source.HUMAN, FieldValue.Source.IMPORT)


class StoredPrediction(Protocol):
    """What a value write reads of a stored prediction: a ``Prediction``, or a prediction
    batch's plain row (no model object made for each)."""

    @property
    def id(self) -> int: ...
    @property
    def record_id(self) -> int: ...
    @property
    def field_id(self) -> int: ...
    @property
    def model_version_id(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def routed_by(self) -> str: ...


@transaction.atomic
def value_set(
    *,
    record: Record,
    field: Field,
    label: str,
    source: str,
    action: str = "",
    prediction: Prediction | None = None,
    model_version: ModelVersion | None = None,
    confidence: float | None = None,
    policy: str = "",
    user: User | None = None,
) -> FieldValue:
    """Make ``label`` the record's current value for ``field``, keeping the old one as history."""
    FieldValue.objects.filter(record=record, field=field, is_current=True).update(is_current=False)
    return FieldValue.objects.create(
        record=record,
        field=field,
        label=label,
        source=source,
        action=action,
        prediction=prediction,
        model_version=model_version,
        confidence=confidence,
        policy=policy,
        user=user,
        is_current=True,
    )


def value_apply_prediction(*, prediction: Prediction) -> FieldValue | None:
    """Write a model's prediction as the record's value, unless it is already the value.

    Idempotent: a second call for the same prediction writes nothing.
    """
    current = FieldValue.objects.filter(
        record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
    ).first()
    if current is not None and _written_by(current.prediction_id, current.action, prediction.id):
        return None
    if current is not None and current.source in SETTLED_SOURCES:
        return None
    return value_set(
        record=prediction.record,
        field=prediction.field,
        label=prediction.label,
        source=FieldValue.Source.MODEL,
        prediction=prediction,
        model_version=prediction.model_version,
        confidence=prediction.confidence,
        policy=prediction.routed_by,
    )


def _written_by(value_prediction_id: int | None, action: str, prediction_id: int) -> bool:
    """Whether a current value is the one this prediction wrote (its withdrawal is not)."""
    return value_prediction_id == prediction_id and action != FieldValue.Action.WITHDRAWN


def value_withdraw_prediction(*, prediction: Prediction, reason: str) -> FieldValue | None:
    """Remove a model value that this prediction wrote, if it is still the current value."""
    current = FieldValue.objects.filter(
        record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
    ).first()
    if current is None or current.prediction_id != prediction.id:
        return None
    return value_set(
        record=prediction.record,
        field=prediction.field,
        label="",
        source=FieldValue.Source.MODEL,
        action=FieldValue.Action.WITHDRAWN,
        prediction=prediction,
        model_version=prediction.model_version,
        confidence=prediction.confidence,
        policy=reason,
    )


def value_reject_prediction(*, prediction: Prediction, reviewer: User) -> FieldValue | None:
    """A person said the prediction is wrong: the record keeps the value it had before the model.

    If the current value is the source catalogue's or a person's, nothing changes. If a model
    wrote it (a spot check, or a flagged applied value), the latest earlier value from the
    catalogue or a person comes back as a new current value with its own provenance; with none,
    the value becomes empty on the reviewer's authority. Returns the new value, if one was written.
    """
    values = FieldValue.objects.filter(record_id=prediction.record_id, field_id=prediction.field_id)
    current = values.filter(is_current=True).first()
    if current is not None and current.source != FieldValue.Source.MODEL:
        return None
    before = (
        values.filter(source__in=(FieldValue.Source.IMPORT, FieldValue.Source.HUMAN))
        .exclude(label="")
        .order_by("-created_at", "-id")
        .first()
    )
    if before is not None:
        return value_restore(record=prediction.record, field=prediction.field, earlier=before)
    if current is None:
        return None
    return value_set(
        record=prediction.record,
        field=prediction.field,
        label="",
        source=FieldValue.Source.HUMAN,
        action=FieldValue.Action.REJECTED,
        prediction=prediction,
        model_version=prediction.model_version,
        confidence=prediction.confidence,
        user=reviewer,
    )


def value_restore(*, record: Record, field: Field, earlier: FieldValue) -> FieldValue:
    """Make an earlier value current again as a new row, with its own source and provenance."""
    return value_set(
        record=record,
        field=field,
        label=earlier.label,
        source=earlier.source,
        action=earlier.action,
        prediction=earlier.prediction,
        model_version=earlier.model_version,
        confidence=earlier.confidence,
        policy=earlier.policy,
        user=earlier.user,
    )


def value_put_back(*, prediction: Prediction, before: FieldValue | None, reviewer: User) -> None:
    """Make ``before`` the record's value again after a person took back what followed it
    (with none before, an empty value in the person's name)."""
    current = FieldValue.objects.filter(
        record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
    ).first()
    if current is None or (before is not None and current.pk == before.pk):
        return
    if before is None:
        value_set(
            record=prediction.record,
            field=prediction.field,
            label="",
            source=FieldValue.Source.HUMAN,
            action=FieldValue.Action.UNDONE,
            prediction=prediction,
            user=reviewer,
        )
        return
    value_restore(record=prediction.record, field=prediction.field, earlier=before)


def values_apply_predictions(*, predictions: Sequence[StoredPrediction]) -> int:
    """:func:`value_apply_prediction` for a batch of one field's predictions, in 3 statements.

    The same rule for each: a value a person decided or the source catalogue gave stays; a
    value this prediction wrote already is left (not its withdrawal: a prediction routed back to
    applied writes its value again); any other current value becomes history.
    """
    if not predictions:
        return 0
    if connection.vendor == "postgresql":
        return _values_apply_predictions_pg(predictions)
    field_id = predictions[0].field_id
    by_record = {p.record_id: p for p in predictions}
    current = FieldValue.objects.filter(
        field_id=field_id, is_current=True, record_id__in=list(by_record)
    ).values_list("record_id", "prediction_id", "source", "action")
    keep = {
        record_id
        for record_id, prediction_id, source, action in current
        if source in SETTLED_SOURCES or _written_by(prediction_id, action, by_record[record_id].id)
    }
    todo = [p for p in predictions if p.record_id not in keep]
    FieldValue.objects.filter(
        field_id=field_id, is_current=True, record_id__in=[p.record_id for p in todo]
    ).update(is_current=False)
    FieldValue.objects.bulk_create(
        [
            FieldValue(
                record_id=p.record_id,
                field_id=field_id,
                label=p.label,
                source=FieldValue.Source.MODEL,
                prediction_id=p.id,
                model_version_id=p.model_version_id,
                confidence=p.confidence,
                policy=p.routed_by,
                is_current=True,
            )
            for p in todo
        ],
        batch_size=1000,
    )
    return len(todo)


def _values_apply_predictions_pg(predictions: Sequence[StoredPrediction]) -> int:
    """:func:`values_apply_predictions` in 2 set-based statements, no model objects.

    The update makes history of every current value the rule replaces; what is still current
    afterwards is kept, so the insert writes a value only for the records left without one (its
    rows as one JSON document, which psycopg quotes at once, unlike a list value by value).
    Both find the batch's values by ``record_id = ANY(…)`` (an index range whatever the
    planner thinks of the table's size): a value names the prediction of its own record, so
    "not this record's prediction" is "none of the batch's predictions".
    """
    predictions = list({p.record_id: p for p in predictions}.values())
    table, field_id = FieldValue._meta.db_table, predictions[0].field_id
    record_ids = [p.record_id for p in predictions]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET is_current = false
            WHERE field_id = %s AND is_current AND record_id = ANY(%s::bigint[])
              AND source <> ALL(%s::text[])
              AND (prediction_id IS NULL OR prediction_id <> ALL(%s::bigint[]) OR action = %s)
            """,
            [
                field_id,
                bigint_array(record_ids),
                list(SETTLED_SOURCES),
                bigint_array(p.id for p in predictions),
                FieldValue.Action.WITHDRAWN.value,
            ],
        )
        cursor.execute(
            f"""
            INSERT INTO {table} (
                record_id, prediction_id, label, model_version_id, confidence, policy,
                field_id, source, action, user_id, is_current, created_at)
            SELECT t.*, %s, %s, '', NULL, true, %s FROM (
                SELECT (e->>0)::bigint AS record_id, (e->>1)::bigint AS prediction_id,
                       e->>2 AS label, (e->>3)::bigint AS model_version_id,
                       (e->>4)::float8 AS confidence, e->>5 AS policy
                FROM jsonb_array_elements(%s::jsonb) AS e) AS t
            WHERE t.record_id NOT IN (
                SELECT record_id FROM {table}
                WHERE field_id = %s AND is_current AND record_id = ANY(%s::bigint[]))
            """,
            [
                field_id,
                FieldValue.Source.MODEL.value,
                timezone.now(),
                # Each row a JSON array, in the order of the insert's columns.
                json.dumps(
                    [
                        (p.record_id, p.id, p.label, p.model_version_id, p.confidence, p.routed_by)
                        for p in predictions
                    ]
                ),
                field_id,
                bigint_array(record_ids),
            ],
        )
        return int(cursor.rowcount)


def values_withdraw_predictions(
    *, field_id: int, prediction_ids: list[int], reason: str, user: User | None = None
) -> int:
    """:func:`value_withdraw_prediction` for a batch of one field's predictions, in 3 statements
    (``user``: the person whose change caused it, if one did)."""
    current = list(
        FieldValue.objects.filter(
            field_id=field_id, is_current=True, prediction_id__in=prediction_ids
        ).values_list("id", "record_id", "prediction_id", "model_version_id", "confidence")
    )
    FieldValue.objects.filter(id__in=[row[0] for row in current]).update(is_current=False)
    FieldValue.objects.bulk_create(
        [
            FieldValue(
                record_id=record_id,
                field_id=field_id,
                label="",
                source=FieldValue.Source.MODEL,
                action=FieldValue.Action.WITHDRAWN,
                prediction_id=prediction_id,
                model_version_id=version_id,
                confidence=confidence,
                policy=reason,
                user=user,
                is_current=True,
            )
            for _, record_id, prediction_id, version_id, confidence in current
        ],
        batch_size=1000,
    )
    return len(current)
