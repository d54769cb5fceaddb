"""Simulating the human loop: a labelled file plays the cataloguer.

Two parts, kept apart so the curve measures learning and not the choice of records: the POOL
is imported, predicted, routed and reviewed; the TEST records are never reviewed, and each
point of the curve scores the active model on them (``accuracy``, ``macro_f1``). The catalogue
is scored separately on the POOL (``catalogue_accuracy``): a reviewed record counts with the
person's value, any other with the value the record would show (a model's applied value, or
none, which is wrong). Without a TEST file, a fixed share of the data file, chosen by a hash of
each row, is set aside as TEST.

Everything happens inside one transaction that is rolled back at the end, with model artefacts
in a temporary directory, so a simulation leaves the catalogue exactly as it found it.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from catalogue.machine import active_model_version, model_dir, model_load, scratch_model_dir
from catalogue.models import Collection, Field, FieldValue, Prediction, Record, TrainingRun
from catalogue.services.decisions import decision_make
from catalogue.services.inference import predict_records
from catalogue.services.labels import UnknownLabelError, label_normalise
from catalogue.services.predictions import predictions_create
from catalogue.services.training.promotion import model_version_promote
from catalogue.services.training.runs import training_run_execute
from glamml.ml.evaluation import evaluate
from glamml.ml.hashing import stable_fraction

ORDERS = ("uncertainty", "random")
SCRATCH = "simulation-scratch"
# Without a TEST file, rows whose hash falls below this share are set aside as TEST.
HASHED_TEST_SHARE = 0.2
HASHED_TEST = (
    "TEST: {n} rows of the data file set aside by a hash of each row ({share:.0%} of the file); "
    "pass --test FILE to score on a file of your own"
)
TEST_FILE = "TEST: {n} rows of {path}, never reviewed"

Row = tuple[str, str]


class SimulationError(ValueError):
    pass


@dataclass
class _Item:
    record: Record
    truth: str


@dataclass(frozen=True)
class CurvePoint:
    """After ``reviewed`` answers: the active model on the ``n`` TEST records, and the
    catalogue on the ``pool_n`` POOL records."""

    reviewed: int
    version: int
    n: int
    accuracy: float
    macro_f1: float
    pool_n: int
    catalogue_accuracy: float
    # F1 on TEST of each label TEST holds: the labels macro_f1 averages.
    f1_by_label: dict[str, float] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Simulation:
    """A simulated review: how the model learnt as a labelled file answered its queue."""

    field: str
    n: int  # POOL rows
    test: str  # what the TEST part is
    n_test: int
    budget: float
    batch: int
    order: str
    queued_at_start: int
    reviewed: int
    curve: list[CurvePoint]

    @property
    def final(self) -> CurvePoint:
        return self.curve[-1]

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "final": asdict(self.final)}


def _read(path: Path, *, field: Field, text_column: str, label_column: str) -> list[Row]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise SimulationError(f"{path}: cannot read the file ({exc.strerror}).") from None
    rows = []
    with handle:
        reader = csv.DictReader(handle)
        for column in (text_column, label_column):
            if column not in (reader.fieldnames or []):
                raise SimulationError(f"{path}, line 1: no column {column!r}.")
        try:
            for row in reader:
                text, raw = row[text_column].strip(), row[label_column].strip()
                if not text or not raw:
                    continue
                try:
                    label = label_normalise(field=field, value=raw)
                except UnknownLabelError as exc:
                    raise SimulationError(
                        f"{path}, line {reader.line_num}, column {label_column!r}: {exc}"
                    ) from None
                rows.append((text, label))
        except UnicodeDecodeError:
            raise SimulationError(f"{path}: not valid UTF-8.") from None
    if not rows:
        raise SimulationError(f"{path}: no rows with both a text and a label.")
    return rows


def split_rows(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """POOL and TEST rows of one file: TEST where a hash of the row falls below the share.

    The hash is of the row's text and label, so a row is on the same side in every run and
    whatever else the file holds.
    """
    pool: list[Row] = []
    test: list[Row] = []
    for row in rows:
        side = (
            test
            if stable_fraction(f"simulate-test:{row[0]}\x1f{row[1]}") < HASHED_TEST_SHARE
            else pool
        )
        side.append(row)
    return pool, test


def _point(field: Field, pool: list[_Item], test: list[_Item], answered: set[int]) -> CurvePoint:
    """The active model on TEST, and what the catalogue shows on POOL."""
    version = active_model_version(field=field)
    model = model_load(version=version)
    answers = predict_records(model=model, field=field, records=[i.record for i in test])
    metrics = evaluate(
        [i.truth for i in test], [label for label, _ in answers], [conf for _, conf in answers]
    )
    shown = dict(
        FieldValue.objects.filter(
            field=field, is_current=True, record_id__in=[i.record.id for i in pool]
        ).values_list("record_id", "label")
    )
    right = sum(1 for i in pool if shown.get(i.record.id) == i.truth)
    return CurvePoint(
        reviewed=len(answered),
        version=version.version,
        n=len(test),
        accuracy=metrics["accuracy"],
        macro_f1=metrics["macro_f1"],
        pool_n=len(pool),
        catalogue_accuracy=right / len(pool),
        f1_by_label={
            label: metrics["per_label"][label]["f1"] for label in sorted({i.truth for i in test})
        },
    )


def simulate_review(
    *,
    field: Field,
    path: Path,
    test_path: Path | None = None,
    budget: float = 0.1,
    batch: int = 50,
    order: str = "uncertainty",
    text_column: str = "text",
    label_column: str = "label",
) -> Simulation:
    """Import the POOL, predict, route, answer up to ``budget × n`` queued items in ``order``,
    retraining after every ``batch`` answers; return the learning curve, measured on TEST
    (``test_path``, else a hashed share of ``path``) and on the catalogue of POOL."""
    if order not in ORDERS:
        raise SimulationError(f"Unknown order {order!r}: use uncertainty or random.")
    if not 0 < budget <= 1:
        raise SimulationError(f"The budget must be above 0 and at most 1, not {budget}.")
    if batch < 1:
        raise SimulationError("The batch size must be at least 1.")
    rows = _read(Path(path), field=field, text_column=text_column, label_column=label_column)
    if test_path is not None:
        test_rows = _read(
            Path(test_path), field=field, text_column=text_column, label_column=label_column
        )
        test = TEST_FILE.format(n=len(test_rows), path=Path(test_path).name)
    else:
        rows, test_rows = split_rows(rows)
        test = HASHED_TEST.format(n=len(test_rows), share=HASHED_TEST_SHARE)
        if not rows or not test_rows:
            raise SimulationError(f"{path}: too few rows to set a TEST share aside; use --test.")
    version = active_model_version(field=field)  # fails early, with the usual message
    with tempfile.TemporaryDirectory() as tmp:
        scratch_dir = Path(tmp)
        (scratch_dir / version.artefact).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_dir() / version.artefact, scratch_dir / version.artefact)
        with scratch_model_dir(scratch_dir), transaction.atomic():
            result = _run(field, rows, test_rows, budget=budget, batch=batch, order=order)
            result = replace(result, test=test)
            transaction.set_rollback(True)
    return result


def _run(
    field: Field,
    rows: list[Row],
    test_rows: list[Row],
    *,
    budget: float,
    batch: int,
    order: str,
) -> Simulation:
    items = _scratch_items(rows)
    # TEST records are never saved: nothing can queue, predict or review them.
    test = [_Item(Record(title=text), label) for text, label in test_rows]
    collection_id = items[0].record.collection_id
    truth = {i.record.id: i.truth for i in items}
    reviewer, _ = get_user_model().objects.get_or_create(username="simulated-cataloguer")
    predictions_create(field=field, record_ids=list(truth))
    waiting = Prediction.objects.filter(
        record__collection_id=collection_id, status=Prediction.Status.QUEUED
    )
    start_queued = waiting.count()
    limit = int(budget * len(items))
    answered: set[int] = set()
    curve = [_point(field, items, test, answered)]
    while len(answered) < limit:
        chosen = _next_batch(waiting, order, min(batch, limit - len(answered)))
        if not chosen:
            break
        for prediction in chosen:
            label = truth[prediction.record_id]
            action = "accept" if prediction.label == label else "correct"
            decision_make(prediction=prediction, reviewer=reviewer, action=action, label=label)
            answered.add(prediction.record_id)
        _retrain(field, answered=len(answered))
        predictions_create(field=field, record_ids=[r for r in truth if r not in answered])
        curve.append(_point(field, items, test, answered))
    return Simulation(
        field=field.key,
        n=len(items),
        test="",
        n_test=len(test),
        budget=budget,
        batch=batch,
        order=order,
        queued_at_start=start_queued,
        reviewed=len(answered),
        curve=curve,
    )


def random_rank(identifier: str) -> float:
    """Where a POOL record comes in random order: a hash of its identifier (its row in the
    file), so the order is the same in every run. The app's audit rank hashes database ids,
    which differ between runs: PostgreSQL does not give back the ids of a rolled-back
    simulation, so a second run in the same database got other ids and another draw."""
    return stable_fraction(f"simulate-random:{identifier}")


def _next_batch(waiting: QuerySet[Prediction], order: str, size: int) -> list[Prediction]:
    queued = waiting.select_related("field", "record", "model_version")
    if order == "uncertainty":
        return list(queued.order_by("confidence", "id")[:size])
    return sorted(queued, key=lambda p: (random_rank(p.record.identifier), p.record.identifier))[
        :size
    ]


def _scratch_items(rows: list[Row]) -> list[_Item]:
    """The file's texts as records of a private scratch collection, with their true labels."""
    collection = Collection.objects.create(
        slug=SCRATCH, name="Simulation (rolled back)", is_public=False
    )
    Record.objects.bulk_create(
        [
            Record(collection=collection, identifier=f"sim-{i:06d}", title=text)
            for i, (text, _) in enumerate(rows)
        ]
    )
    records = Record.objects.filter(collection=collection).order_by("id")
    return [_Item(r, label) for r, (_, label) in zip(records, rows, strict=True)]


def _retrain(field: Field, *, answered: int) -> None:
    """Train on everything answered so far and make the new version live."""
    run = training_run_execute(
        run=TrainingRun.objects.create(field=field, trigger=TrainingRun.Trigger.COMMAND)
    )
    if run.status != TrainingRun.Status.SUCCEEDED or run.model_version is None:
        raise SimulationError(f"Retraining failed after {answered} answers: {run.message}")
    # The simulation measures learning, not the promotion gate: every new version goes live.
    model_version_promote(version=run.model_version, promoted_by=None)
