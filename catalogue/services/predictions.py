"""Predicting field values for records with the field's active model, and routing them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalogue import dispatch
from catalogue.machine import Model, active_model_version, model_load
from catalogue.models import DecisionPolicy, Field, FieldJob, ModelVersion, Prediction, Record
from catalogue.selectors import records_for_field, settled_values
from catalogue.services.calibration import calibrators_for_version
from catalogue.services.inference import predict_records_top_k
from catalogue.services.jobs import job_expect, job_run
from catalogue.services.labels import labels_ensure
from catalogue.services.monitoring.spotchecks import spot_checks_select
from catalogue.services.routing import (
    FLAG,
    Route,
    never_applied,
    predictions_supersede_batch,
    predictions_supersede_others,
    route,
    route_prediction,
    sensitive_labels,
)
from catalogue.services.values import value_apply_prediction, values_apply_predictions
from glamml.ml.hashing import stable_fraction


@dataclass
class PredictResult:
    created: int = 0
    applied: int = 0
    queued: int = 0
    skipped: int = 0
    revived: int = 0
    spot_checked: int = 0


def margin_of(alternatives: list[tuple[str, float]]) -> float:
    """The gap between the two likeliest labels (1.0 when there is only one)."""
    if len(alternatives) < 2:
        return 1.0
    return float(alternatives[0][1]) - float(alternatives[1][1])


def audit_rank(record_id: int, version_id: int) -> float:
    """A stable pseudo-random number in [0, 1) for the random audit order."""
    return stable_fraction(f"audit:{version_id}:{record_id}")


def records_needing_prediction(*, field: Field, records: Iterable[Record]) -> list[Record]:
    """Records whose value for ``field`` did not come from a person or the source catalogue."""
    records = list(records)
    settled = set(
        settled_values(field=field).filter(record__in=records).values_list("record_id", flat=True)
    )
    return [r for r in records if r.id not in settled]


def predictions_create(
    *,
    field: Field,
    record_ids: Iterable[int],
    model_version: ModelVersion | None = None,
    force_review: bool = False,
    include_settled: bool = False,
) -> PredictResult:
    """Predict ``field`` for the given records and route each prediction by the field's policy.

    Records that already have a prediction from this model version are skipped, so running the
    same batch twice creates nothing twice. Records whose value a person or the source catalogue
    set are skipped unless ``include_settled``. ``force_review`` queues every new prediction.
    """
    version = model_version or active_model_version(field=field)
    model = model_load(version=version)
    result = PredictResult()
    records = list(
        records_for_field(field=field)
        .filter(id__in=list(record_ids))
        .select_related("collection")
        .order_by("id")
    )
    sensitive = sensitive_labels(field=field)
    todo = _todo(
        field=field,
        version=version,
        records=records,
        include_settled=include_settled,
        sensitive=sensitive,
        result=result,
    )
    if not todo:
        return result

    top_k = predict_records_top_k(model=model, field=field, records=todo, k=3)
    labels_ensure(field=field, codes={code for alts in top_k for code, _ in alts})
    new = _new_predictions(
        field=field,
        version=version,
        model=model,
        records=todo,
        top_k=top_k,
        force_review=force_review,
    )
    with transaction.atomic():
        created = _store(new, field=field, version=version)
        # A separate step over the batch: a random share of what was applied goes to spot
        # checks. In the batch's transaction: one commit (a disk flush) per batch, not two, and
        # no applied value left undrawn if the worker stops between them.
        result.spot_checked = spot_checks_select(
            field=field, record_ids=[r.id for r in todo], model_version=version
        )
    result.created = len(created)
    result.skipped += len(new) - len(created)
    result.applied = sum(1 for p in created if p.status == Prediction.Status.APPLIED)
    result.queued = len(created) - result.applied
    return result


def _todo(
    *,
    field: Field,
    version: ModelVersion,
    records: list[Record],
    include_settled: bool,
    sensitive: set[str],
    result: PredictResult,
) -> list[Record]:
    """The records to predict now; counts the skipped ones and revives superseded ones."""
    existing = dict(
        Prediction.objects.filter(
            field=field, model_version=version, record__in=records
        ).values_list("record_id", "status")
    )
    todo = [r for r in records if r.id not in existing]
    if not include_settled:
        todo = records_needing_prediction(field=field, records=todo)
    result.skipped = len(records) - len(todo)
    superseded = [r for r in records if existing.get(r.id) == Prediction.Status.SUPERSEDED]
    if superseded:
        result.revived = _revive_batch(
            field=field, version=version, records=superseded, sensitive=sensitive
        )
        result.skipped -= result.revived
    return todo


def _new_predictions(
    *,
    field: Field,
    version: ModelVersion,
    model: Model,
    records: list[Record],
    top_k: list[list[tuple[str, float]]],
    force_review: bool,
) -> list[Prediction]:
    """Unsaved predictions, read as each record's collection reads the model's confidence."""
    sensitive = sensitive_labels(field=field)
    calibrators = calibrators_for_version(
        field=field, version=version, model=model, collection_ids={r.collection_id for r in records}
    )
    return [
        _new_prediction(
            field=field,
            record=record,
            version=version,
            alternatives=calibrators[record.collection_id].calibrate_alternatives(raw),
            raw_confidence=raw[0][1],
            sensitive=sensitive,
            force_review=force_review,
        )
        for record, raw in zip(records, top_k, strict=True)
    ]


def _new_prediction(
    *,
    field: Field,
    record: Record,
    version: ModelVersion,
    alternatives: list[tuple[str, float]],
    raw_confidence: float,
    sensitive: set[str],
    force_review: bool,
) -> Prediction:
    """An unsaved prediction, routed by the field's policy (or to review, flagged)."""
    label, confidence = alternatives[0]
    where = route(
        mode=field.policy.mode,
        threshold=field.policy.threshold,
        confidence=confidence,
        collection_sensitive=record.collection.is_sensitive,
        label_sensitive=label in sensitive,
        not_a_language=never_applied(field=field, label=label),
    )
    if force_review:
        where = Route(Prediction.Status.QUEUED, FLAG)
    return Prediction(
        record=record,
        field=field,
        model_version=version,
        label=label,
        confidence=float(confidence),
        raw_confidence=float(raw_confidence),
        alternatives=[[code, round(float(p), 6)] for code, p in alternatives],
        status=where.status,
        routed_by=where.routed_by,
        margin=margin_of(alternatives),
        audit_rank=audit_rank(record.id, version.id),
        flagged=force_review,
    )


def _store(new: list[Prediction], *, field: Field, version: ModelVersion) -> list[Prediction]:
    """Insert a batch of predictions and let it take effect; the ones this call created.

    A fixed number of statements for the whole batch: one insert (skipping any prediction
    another worker made meanwhile) that says what it created, one supersede update, and the
    batch's value writes.
    """
    mine = {p.code: p for p in new}
    created = []
    for pk, code in _insert(new):
        prediction = mine[code]
        prediction.pk = pk
        created.append(prediction)
    created.sort(key=lambda p: (p.confidence, p.pk))
    predictions_supersede_batch(
        field=field, version=version, record_ids=[p.record_id for p in created]
    )
    values_apply_predictions(
        predictions=[p for p in created if p.status == Prediction.Status.APPLIED]
    )
    return created


def _insert(new: list[Prediction]) -> list[tuple[int, uuid.UUID]]:
    """Insert the predictions, skipping conflicts; (id, code) of each one inserted.

    On PostgreSQL one ``INSERT … SELECT FROM jsonb_to_recordset(…)`` with ``RETURNING``: Django's
    ``bulk_create`` spent most of a batch's storing time preparing each value in Python, and
    needs a second query to learn what it inserted when conflicts are skipped.
    """
    if connection.vendor != "postgresql":
        Prediction.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
        found = Prediction.objects.filter(code__in=[p.code for p in new])
        return list(found.values_list("id", "code"))
    first, now = new[0], timezone.now()
    rows = [
        {
            "code": str(p.code),
            "record_id": p.record_id,
            "label": p.label,
            "confidence": p.confidence,
            "alternatives": p.alternatives,
            "status": p.status,
            "raw_confidence": p.raw_confidence,
            "routed_by": p.routed_by,
            "margin": p.margin,
            "audit_rank": p.audit_rank,
            "flagged": p.flagged,
        }
        for p in new
    ]
    with connection.cursor() as cursor:
        # The rows travel as one JSON document: psycopg quotes a list parameter value by value
        # in Python (a fifth of the storing time with an array per column), a string at once.
        cursor.execute(
            f"""
            INSERT INTO {Prediction._meta.db_table} (
                code, record_id, label, confidence, alternatives, status, raw_confidence,
                routed_by, margin, audit_rank, flagged,
                field_id, model_version_id, review_round, created_at, updated_at)
            SELECT t.*, %s, %s, 0, %s, %s FROM jsonb_to_recordset(%s::jsonb) AS t(
                code uuid, record_id bigint, label text, confidence float8, alternatives jsonb,
                status text, raw_confidence float8, routed_by text, margin float8,
                audit_rank float8, flagged bool)
            ON CONFLICT DO NOTHING
            RETURNING id, code
            """,
            [first.field_id, first.model_version_id, now, now, json.dumps(rows)],
        )
        return [(pk, code) for pk, code in cursor.fetchall()]


def records_without_prediction(*, model_version: ModelVersion) -> list[int]:
    """Ids of records with no prediction from this version and no settled value."""
    settled = settled_values(field=model_version.field).values("record_id")
    predicted = Prediction.objects.filter(model_version=model_version).values("record_id")
    return list(
        records_for_field(field=model_version.field)
        .exclude(id__in=settled)
        .exclude(id__in=predicted)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _revive_batch(
    *, field: Field, version: ModelVersion, records: list[Record], sensitive: set[str]
) -> int:
    """A version made active again (a rollback) takes back its own earlier suggestions.

    Row by row: rare (only after a rollback), and each claims its row against reviewers.
    """
    revived = 0
    by_id = {r.id: r for r in records_needing_prediction(field=field, records=records)}
    for prediction in Prediction.objects.filter(
        field=field, model_version=version, record_id__in=list(by_id)
    ):
        prediction.record = by_id[prediction.record_id]
        revived += _revive(prediction, policy=field.policy, sensitive=sensitive)
    return revived


@transaction.atomic
def _revive(prediction: Prediction, *, policy: DecisionPolicy, sensitive: set[str]) -> bool:
    """Route a superseded prediction again as if it were new; False if someone changed it."""
    where = route_prediction(policy=policy, prediction=prediction, sensitive=sensitive)
    claimed = Prediction.objects.filter(
        pk=prediction.pk, status=Prediction.Status.SUPERSEDED
    ).update(status=where.status, routed_by=where.routed_by)
    if not claimed:
        return False
    prediction.status, prediction.routed_by = where.status, where.routed_by
    predictions_supersede_others(prediction=prediction)
    if where.status == Prediction.Status.APPLIED:
        value_apply_prediction(prediction=prediction)
    return True


def predictions_enqueue(*, field_id: int, record_ids: list[int], job_id: int | None = None) -> int:
    """Hand the records to the inference queue in batches; returns how many were enqueued.

    With ``job_id`` each batch counts itself on that job when it has run. Each batch carries
    when it was queued, so that reaching a worker it shows the jobs queued after it are
    waiting their turn, not stopped (:func:`~catalogue.services.jobs.jobs_in_line_behind`).
    """
    size = settings.GLAMML_INFERENCE_BATCH_SIZE
    queued_ms = round(timezone.now().timestamp() * 1000)
    for start in range(0, len(record_ids), size):
        batch = record_ids[start : start + size]
        dispatch.enqueue(dispatch.PREDICT_RECORDS, field_id, batch, job_id, queued_ms)
    return len(record_ids)


def records_to_predict(*, field: Field, collection_id: int | None = None) -> list[int]:
    """The field's records that need a prediction (optionally one collection's).

    Not those a person or the source catalogue settled, nor those the active version has
    predicted already; its superseded predictions count, for a rollback to revive them.
    """
    records = (
        records_for_field(field=field)
        .exclude(id__in=settled_values(field=field).values("record_id"))
        .order_by("id")
    )
    version = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
    if version is not None:
        done = Prediction.objects.filter(model_version=version).exclude(
            status=Prediction.Status.SUPERSEDED
        )
        records = records.exclude(id__in=done.values("record_id"))
    if collection_id is not None:
        records = records.filter(collection_id=collection_id)
    return list(records.values_list("id", flat=True))


def predictions_enqueue_field(*, field: Field, collection_id: int | None = None) -> int:
    """Enqueue the field's records that need a prediction (see :func:`records_to_predict`)."""
    return predictions_enqueue(
        field_id=field.id, record_ids=records_to_predict(field=field, collection_id=collection_id)
    )


REPREDICTED = "Every record that needed it was predicted again with the active model."
NOTHING_TO_REPREDICT = (
    "Nothing to predict again: every record is settled by a person or the source catalogue, "
    "or already predicted by the active model."
)


def repredict_job_run(*, field: Field, job_id: int) -> FieldJob | None:
    """Enqueue the records to predict again as the job ``job_id``, whose batches count it."""

    def work(job: FieldJob) -> None:
        record_ids = records_to_predict(field=field)
        job_expect(job=job, total=len(record_ids), message=NOTHING_TO_REPREDICT)
        predictions_enqueue(field_id=field.id, record_ids=record_ids, job_id=job.id)

    return job_run(job_id=job_id, work=work)


def predicting_field_ids() -> list[int]:
    """Fields that predict: those with an active model, and a language field with no version.

    A language field with no version yet gets the shipped base model when its first batch runs
    (``base_model_ensure``), so a fresh deployment predicts what it imports.
    """
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values("field_id")
    fresh = Field.objects.filter(kind=Field.Kind.LANGUAGE, model_versions__isnull=True)
    return sorted(
        Field.objects.filter(Q(id__in=active) | Q(id__in=fresh.values("id"))).values_list(
            "id", flat=True
        )
    )


def predictions_enqueue_active_fields(*, record_ids: list[int]) -> int:
    """Enqueue prediction of these records for every field that predicts."""
    return sum(
        predictions_enqueue(field_id=f, record_ids=record_ids) for f in predicting_field_ids()
    )


def predictions_enqueue_pending() -> int:
    """Enqueue records that an active model has not predicted and nobody has settled.

    Enqueues made while a broker was down are lost; this finds their records again.
    """
    return sum(
        predictions_enqueue(
            field_id=version.field_id,
            record_ids=records_without_prediction(model_version=version),
        )
        for version in ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    )
