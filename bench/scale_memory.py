"""Scale benchmark, part ``memory``: the resident memory of each kind of process glamml runs.

Each kind is started as it runs in service and asked to do its usual work, then its peak
resident memory (``VmHWM``) is read:

- the web process: gunicorn with 2 workers, after the home page, the largest collection's first
  page, a record page and a public search (the worker that served most; both are reported);
- an inference worker (Celery, ``inference`` queue) after predicting ``SAMPLE`` records already
  predicted once, in batches of ``GLAMML_INFERENCE_BATCH_SIZE`` (their predictions are made
  again: the active version's are forgotten for these records first);
- a training worker (Celery, ``training`` queue), started and idle: what it holds before a run.
  The peak of a training run is the ``train`` part's last row, measured in the process that runs
  it; the import's peak is the ``import`` part's.
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

from scale_common import Bench, Figure, rss_mb
from scale_import import records_ensure
from scale_predict import worker_start, workers_ready, workers_stop
from scale_web import gunicorn

SAMPLE = 20_000


def children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def web_peaks(bench: Bench) -> list[float]:
    from catalogue.models import Collection, Record

    collection = max(Collection.objects.all(), key=lambda c: c.records.count())
    record = Record.objects.order_by("id").values_list("code", flat=True).first()
    pages = ("/", f"/collections/{collection.slug}/", f"/records/{record}/", "/?q=the")
    with gunicorn(bench, Path(bench.tmp) / "memory-gunicorn.log") as url:
        for path in pages:
            for _ in range(2):  # most likely each of the two workers once
                urllib.request.urlopen(url + path, timeout=300).read()
        # The gunicorn master is this process's child; its workers are the master's.
        workers = [w for master in children(os.getpid()) for w in children(master)]
        return sorted((rss_mb(p, "VmHWM") for p in workers), reverse=True)


def inference_peak(bench: Bench) -> tuple[float, int]:
    from django.conf import settings
    from django.db import connection, transaction

    from catalogue import dispatch
    from catalogue.models import Prediction
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.training.base import base_model_ensure
    from glamml.celery import app

    field = field_ensure_language()
    base_model_ensure(field=field)
    # Distinct records: a record predicted by two versions has two predictions.
    ids = list(
        Prediction.objects.filter(field=field)
        .order_by("record_id")
        .values_list("record_id", flat=True)
        .distinct()[:SAMPLE]
    )
    # Plain SQL, as the predict part resets (Django's delete() would load every row); before
    # the worker starts, with nothing left in its queue, so nothing else touches these rows.
    app.control.purge()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM catalogue_fieldvalue WHERE prediction_id IS NOT NULL "
            "AND record_id = ANY(%s)",
            [ids],
        )
        cursor.execute(
            "DELETE FROM catalogue_spotcheck WHERE prediction_id IN "
            "(SELECT id FROM catalogue_prediction WHERE record_id = ANY(%s))",
            [ids],
        )
        cursor.execute("DELETE FROM catalogue_prediction WHERE record_id = ANY(%s)", [ids])
    worker = worker_start(bench, "memory-inference")
    try:
        workers_ready(bench, ["memory-inference"])
        size = settings.GLAMML_INFERENCE_BATCH_SIZE
        for start in range(0, len(ids), size):
            dispatch.enqueue(dispatch.PREDICT_RECORDS, field.id, ids[start : start + size])
        deadline = time.monotonic() + 3600
        predicted = Prediction.objects.filter(record_id__in=ids).values("record_id").distinct()
        while predicted.count() < len(ids) and time.monotonic() < deadline:
            time.sleep(1)
        return rss_mb(worker.pid, "VmHWM"), len(ids)
    finally:
        workers_stop([worker])


def training_idle(bench: Bench) -> float:
    worker = worker_start(bench, "memory-training", queues="training")
    try:
        workers_ready(bench, ["memory-training"])
        return rss_mb(worker.pid)
    finally:
        workers_stop([worker])


def run(bench: Bench) -> list[Figure]:
    records_ensure(bench)
    figures = []
    peaks = web_peaks(bench)
    figures.append(
        Figure(
            "memory",
            "web process (gunicorn worker) peak after the read pages",
            peaks[0] if peaks else float("nan"),
            "MB",
            note=f"each worker: {', '.join(f'{p:.0f}' for p in peaks)} MB",
        )
    )
    peak, n = inference_peak(bench)
    figures.append(
        Figure("memory", f"inference worker peak after predicting {n:,} records", peak, "MB")
    )
    idle = training_idle(bench)
    figures.append(Figure("memory", "training worker, started and idle", idle, "MB"))
    return figures
