"""Where a prediction goes: applied to the record, or to a cataloguer's queue."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from django.db import connection

from catalogue.models import DecisionPolicy, Field, ModelVersion, Prediction
from catalogue.pgarrays import bigint_array
from glamml.ml.languages import is_training_language

SENSITIVE_COLLECTION = "sensitive-collection"
SENSITIVE_LABEL = "sensitive-label"
# A language field's answer that names no single language (``und``, ``mul``, a collective code
# such as ``myn``): a catalogue may hold it, but a model never writes it on its own.
NOT_A_LANGUAGE = "not-a-language"
FLAG = "flag"
# A value the model applied, drawn at random for a person to check (it stays applied meanwhile).
SPOT_CHECK = "spot-check"


class Route(NamedTuple):
    status: str
    routed_by: str


def route(
    *,
    mode: str,
    threshold: float,
    confidence: float,
    collection_sensitive: bool,
    label_sensitive: bool,
    not_a_language: bool = False,
) -> Route:
    """Apply the field's policy; the safety rules come first and override every mode.

    One prediction's case of :func:`route_many`, where the rules are written."""
    routes, chosen = route_many(
        mode=mode,
        threshold=threshold,
        confidence=np.array([confidence]),
        collection_sensitive=np.array([collection_sensitive]),
        label_sensitive=np.array([label_sensitive]),
        not_a_language=np.array([not_a_language]),
    )
    return routes[int(chosen[0])]


def route_many(
    *,
    mode: str,
    threshold: float,
    confidence: np.ndarray,
    collection_sensitive: np.ndarray,
    label_sensitive: np.ndarray,
    not_a_language: np.ndarray,
) -> tuple[list[Route], np.ndarray]:
    """:func:`route` for each of a batch's predictions (arrays of one value per prediction).

    The routes that can be taken, and for each prediction the position of its own among them:
    the same rules in the same order, as array operations.
    """
    routes = [
        Route(Prediction.Status.QUEUED, NOT_A_LANGUAGE),
        Route(Prediction.Status.QUEUED, SENSITIVE_COLLECTION),
        Route(Prediction.Status.QUEUED, SENSITIVE_LABEL),
        Route(Prediction.Status.APPLIED, mode),
        Route(Prediction.Status.QUEUED, mode),
    ]
    if mode == DecisionPolicy.Mode.AUTO:
        applies = np.ones(len(confidence), dtype=bool)
    elif mode == DecisionPolicy.Mode.THRESHOLD:
        applies = np.asarray(confidence, dtype=np.float64) >= threshold
    else:
        applies = np.zeros(len(confidence), dtype=bool)
    # np.select takes the first condition that holds: the safety rules before the mode.
    chosen = np.select(
        [not_a_language, collection_sensitive, label_sensitive, applies],
        [0, 1, 2, 3],
        default=4,
    )
    return routes, chosen


def never_applied(*, field: Field, label: str) -> bool:
    """Whether a model's ``label`` for ``field`` must wait for a person whatever the policy.

    On a language field: an abstention (``und``), ``mul``/``zxx``/``mis`` and collective codes.
    """
    return field.kind == Field.Kind.LANGUAGE and not is_training_language(label)


def sensitive_labels(*, field: Field) -> set[str]:
    return set(field.labels.filter(is_sensitive=True).values_list("code", flat=True))


def route_prediction(
    *, policy: DecisionPolicy, prediction: Prediction, sensitive: set[str]
) -> Route:
    """Where the field's policy sends this prediction (its record's collection loaded)."""
    return route(
        mode=policy.mode,
        threshold=policy.threshold,
        confidence=prediction.confidence,
        collection_sensitive=prediction.record.collection.is_sensitive,
        label_sensitive=prediction.label in sensitive,
        not_a_language=never_applied(field=policy.field, label=prediction.label),
    )


def predictions_supersede_others(*, prediction: Prediction) -> None:
    """Earlier undecided suggestions for the same record and field give way to this one."""
    Prediction.objects.filter(
        record_id=prediction.record_id,
        field_id=prediction.field_id,
        status__in=[Prediction.Status.QUEUED, Prediction.Status.APPLIED],
    ).exclude(pk=prediction.pk).update(status=Prediction.Status.SUPERSEDED)


def predictions_supersede_batch(
    *, field: Field, version: ModelVersion, record_ids: list[int]
) -> int:
    """Undecided suggestions of other versions for these records give way: one UPDATE.

    On PostgreSQL the rows are found by one probe of the record's index per record (a
    ``LATERAL`` join that ``OFFSET 0`` keeps whole, with nothing else for it to match an index
    on): planned from stale statistics, as when a large catalogue is first predicted, a plain
    ``IN`` list read every undecided prediction of the field (the table "empty" when last
    analysed), a batch's cost growing with the table.
    """
    if not record_ids:
        return 0
    undecided = [Prediction.Status.QUEUED.value, Prediction.Status.APPLIED.value]
    if connection.vendor != "postgresql":
        return (
            Prediction.objects.filter(field=field, record_id__in=record_ids, status__in=undecided)
            .exclude(model_version=version)
            .update(status=Prediction.Status.SUPERSEDED)
        )
    table = Prediction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET status = %s WHERE id IN (
                SELECT q.id FROM unnest(%s::bigint[]) AS b(id) CROSS JOIN LATERAL (
                    SELECT p.id, p.field_id, p.status, p.model_version_id FROM {table} AS p
                    WHERE p.record_id = b.id OFFSET 0) AS q
                WHERE q.field_id = %s AND q.status = ANY(%s::text[])
                  AND q.model_version_id <> %s)
            """,
            [
                Prediction.Status.SUPERSEDED.value,
                bigint_array(record_ids),
                field.id,
                undecided,
                version.id,
            ],
        )
        return int(cursor.rowcount)
