"""Predicting field values for records with the field's active model, and routing them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalogue import dispatch
from catalogue.field_records import records_for_field, settled_values
from catalogue.machine import active_model_version, model_load
from catalogue.models import (
    DecisionPolicy,
    Field,
    FieldJob,
    ModelVersion,
    Prediction,
)
from catalogue.services.inference import predict_records_top_k_arrays
from catalogue.services.jobs import job_expect, job_run
from catalogue.services.labels import labels_ensure
from catalogue.services.monitoring.spotchecks import spot_checks_select
from catalogue.services.prediction_batch import (
    BatchRecord,
    batch_records,
    labels_answered,
    new_predictions,
)
from catalogue.services.prediction_rows import (
    NewPrediction,
    commit_without_flush,
    jit_off,
    predictions_insert,
    settled_among,
    statuses_of_version,
)
from catalogue.services.routing import (
    predictions_supersede_batch,
    predictions_supersede_others,
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


class StoredRow(NamedTuple):
    """A prediction the batch stored (with its id), as the value writes read it."""

    id: int
    record_id: int
    field_id: int
    model_version_id: int
    label: str
    confidence: float
    routed_by: str
    status: str
    audit_rank: float
    flagged: bool


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
    Rows are plain tuples: model objects per record were most of a batch's Python time.
    """
    with jit_off():
        return _create(
            field=field,
            record_ids=record_ids,
            model_version=model_version,
            force_review=force_review,
            include_settled=include_settled,
        )


def _create(
    *,
    field: Field,
    record_ids: Iterable[int],
    model_version: ModelVersion | None,
    force_review: bool,
    include_settled: bool,
) -> PredictResult:
    version = model_version or active_model_version(field=field)
    model = model_load(version=version)
    result = PredictResult()
    records = batch_records(field=field, record_ids=list(record_ids))
    sensitive = sensitive_labels(field=field)  # once: routing and reviving both need it
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

    top = predict_records_top_k_arrays(model=model, field=field, records=todo, k=3)
    labels_ensure(field=field, codes=labels_answered(top))
    new = new_predictions(
        field=field,
        version=version,
        model=model,
        records=todo,
        top=top,
        sensitive=sensitive,
        force_review=force_review,
    )
    outermost = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        commit_without_flush(outermost=outermost)
        created = _store(new, field=field, version=version)
        # A random share of what was applied goes to spot checks, in the batch's transaction:
        # one commit per batch, and no applied value left undrawn if the worker stops.
        result.spot_checked = spot_checks_select(
            field=field,
            prediction_ids=[
                p.id for p in created if p.status == Prediction.Status.APPLIED and not p.flagged
            ],
            audit_ranks={p.id: p.audit_rank for p in created},
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
    records: list[BatchRecord],
    include_settled: bool,
    sensitive: set[str],
    result: PredictResult,
) -> list[BatchRecord]:
    """The records to predict now; counts the skipped ones and revives superseded ones."""
    ids = [r.id for r in records]
    existing = statuses_of_version(field=field, version=version, record_ids=ids)
    todo = [r for r in records if r.id not in existing]
    if not include_settled:
        settled = settled_among(field=field, record_ids=[r.id for r in todo])
        todo = [r for r in todo if r.id not in settled]
    result.skipped = len(records) - len(todo)
    superseded = [i for i in ids if existing.get(i) == Prediction.Status.SUPERSEDED]
    if superseded:
        result.revived = _revive_batch(
            field=field, version=version, record_ids=superseded, sensitive=sensitive
        )
        result.skipped -= result.revived
    return todo


def _store(new: list[NewPrediction], *, field: Field, version: ModelVersion) -> list[StoredRow]:
    """Insert a batch of predictions and let it take effect; the ones this call created.

    A fixed number of statements for the whole batch: one insert (skipping any prediction
    another worker made meanwhile) that says what it created, one supersede update, and the
    batch's value writes.
    """
    by_record = {p.record_id: p for p in new}
    created = []
    for pk, record_id in predictions_insert(new, field=field, version=version):
        p = by_record[record_id]
        created.append(
            StoredRow(
                pk,
                record_id,
                field.id,
                version.id,
                p.label,
                p.confidence,
                p.routed_by,
                p.status,
                p.audit_rank,
                p.flagged,
            )
        )
    created.sort(key=lambda p: (p.confidence, p.id))
    predictions_supersede_batch(
        field=field, version=version, record_ids=[p.record_id for p in created]
    )
    values_apply_predictions(
        predictions=[p for p in created if p.status == Prediction.Status.APPLIED]
    )
    return created


def records_without_prediction(*, model_version: ModelVersion) -> list[int]:
    """Ids of records with no prediction from this version and no settled value."""
    settled = settled_values(field=model_version.field).filter(record_id=OuterRef("pk"))
    predicted = Prediction.objects.filter(model_version=model_version, record_id=OuterRef("pk"))
    return list(
        records_for_field(field=model_version.field)
        .exclude(Exists(settled))
        .exclude(Exists(predicted))
        .order_by("id")
        .values_list("id", flat=True)
    )


def _revive_batch(
    *, field: Field, version: ModelVersion, record_ids: list[int], sensitive: set[str]
) -> int:
    """A version made active again (a rollback) takes back its own earlier suggestions.

    Row by row: rare (only after a rollback), and each claims its row against reviewers.
    """
    revived = 0
    settled = settled_among(field=field, record_ids=record_ids)
    for prediction in (
        Prediction.objects.filter(field=field, model_version=version, record_id__in=record_ids)
        .exclude(record_id__in=settled)
        .select_related("record__collection")
    ):
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
    dispatch.enqueue_many(
        dispatch.PREDICT_RECORDS,
        [
            (field_id, record_ids[start : start + size], job_id, queued_ms)
            for start in range(0, len(record_ids), size)
        ],
    )
    return len(record_ids)


def records_to_predict(
    *, field: Field, collection_id: int | None = None, record_ids: list[int] | None = None
) -> list[int]:
    """The field's records that need a prediction (optionally one collection's, or of these).

    Not those a person or the source catalogue settled, nor those the active version has
    predicted already; its superseded predictions count, for a rollback to revive them.
    ``NOT EXISTS``, not ``NOT IN``: at a million records the 300,000 settled values did not fit
    the hash of a ``NOT IN`` subquery, which PostgreSQL then rescanned for every record.
    """
    settled = settled_values(field=field).filter(record_id=OuterRef("pk"))
    records = (
        records_for_field(field=field, record_ids=record_ids)
        .exclude(Exists(settled))
        .order_by("id")
    )
    version = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
    if version is not None:
        done = Prediction.objects.filter(model_version=version, record_id=OuterRef("pk")).exclude(
            status=Prediction.Status.SUPERSEDED
        )
        records = records.exclude(Exists(done))
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
