"""Scale benchmark, part ``predict``: end-to-end prediction by real Celery workers.

The model's raw batch speed (titles/s, in this process) is set beside the end-to-end speed of
1 and 2 worker processes: the records that need a prediction (one worker: the first
``ONE_WORKER_SAMPLE``) are enqueued in batches of ``GLAMML_INFERENCE_BATCH_SIZE``, and the clock
runs until each is predicted, routed and stored.
Workers are started and ready before the clock starts (their start-up is not the figure).

With ``--before DIR`` (a checkout of the code before a change, e.g. ``git worktree add DIR
main``) each end-to-end figure is measured twice, alternating in the same run and database:
workers running that checkout's code, then this one's, so a change is compared at one load.
With ``--pools solo,threads:2`` each is measured once per Celery pool, in turn: ``threads:2``
runs two batches at once in each worker process, so one batch's statements wait on
PostgreSQL while the other's model scores.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from scale_common import PYTHON, ROOT, Bench, Figure, rss_mb, timed
from scale_import import records_ensure

WORKER_COUNTS = (1, 2)
# One worker predicts at most this many records (its rate settles long before; at N = 1 M the
# 700,000 records would take it half an hour); two workers predict every record, which leaves
# the whole catalogue predicted for the parts after this one.
ONE_WORKER_SAMPLE = 100_000
TIMEOUT = 3600.0


def pool_arguments(pool: str) -> tuple[str, ...]:
    """Celery's options for ``pool``: ``solo`` (one task at a time, as one core runs it) or
    ``threads:N`` (N tasks at once in the one process)."""
    kind, _, threads = pool.partition(":")
    if kind == "solo" and not threads:
        return ("--pool", "solo")
    if kind == "threads" and threads.isdigit() and int(threads) > 0:
        return ("--pool", "threads", "--concurrency", threads)
    raise ValueError(f"unknown worker pool {pool!r}: use solo or threads:N")


def worker_start(
    bench: Bench, name: str, queues: str = "inference", root: Path = ROOT, pool: str = "solo"
) -> subprocess.Popen[bytes]:
    """One Celery worker process with ``pool`` (see ``pool_arguments``), running the code of
    the checkout at ``root``."""
    log = Path(bench.tmp) / f"worker-{name}.log"
    return subprocess.Popen(
        [
            *(PYTHON, "-m", "celery", "-A", "glamml", "worker", "--queues", queues),
            *pool_arguments(pool),
            *("--hostname", f"{name}@%h", "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=root,
        env=bench.env(CELERY_TASK_ALWAYS_EAGER="false", PYTHONPATH=str(root)),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def workers_ready(bench: Bench, names: list[str], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    for name in names:
        log = Path(bench.tmp) / f"worker-{name}.log"
        while " ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: see {log}")
            time.sleep(0.5)


def workers_stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def predictions_reset() -> None:
    """Forget every prediction and model value, so each run predicts the same records.

    Plain SQL: Django's delete() would load every row to cascade (minutes at this size). The
    benchmark's catalogue has no decisions or flags, only spot checks, to clear first. Then
    ``VACUUM ANALYZE`` of the three tables.
    """
    from django.db import connection, transaction

    tables = ("catalogue_fieldvalue", "catalogue_spotcheck", "catalogue_prediction")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalogue_fieldvalue WHERE source = 'model'")
        cursor.execute("DELETE FROM catalogue_spotcheck")
        cursor.execute("DELETE FROM catalogue_prediction")
    # Each run starts from the same tables: without this (autovacuum is off on the benchmark's
    # server) a later run inserts among the dead rows of the one before, and runs slower.
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def needing() -> list[int]:
    from catalogue.models import ModelVersion
    from catalogue.services.predictions import records_without_prediction

    version = ModelVersion.objects.get(field__key="language", status=ModelVersion.Status.ACTIVE)
    return records_without_prediction(model_version=version)


def raw_model_speed(record_ids: list[int], limit: int = 20_000) -> float:
    """Titles per second of the model alone, in batches as the workers get them."""
    from django.conf import settings

    from catalogue.machine import active_model_version, model_load
    from catalogue.models import Record
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.inference import predict_records_top_k

    field = field_ensure_language()
    model = model_load(version=active_model_version(field=field))
    records = list(Record.objects.filter(id__in=record_ids[:limit]).order_by("id"))
    size = settings.GLAMML_INFERENCE_BATCH_SIZE
    predict_records_top_k(model=model, field=field, records=records[:size], k=3)  # warm up
    with timed() as t:
        for start in range(0, len(records), size):
            predict_records_top_k(model=model, field=field, records=records[start : start + size])
    return len(records) / t[0]


def end_to_end(
    bench: Bench, workers: int, todo: list[int], root: Path = ROOT, pool: str = "solo"
) -> tuple[float, list[float]]:
    """Records/s predicting ``todo`` with ``workers`` processes of the checkout at ``root``
    (each with ``pool``), and their peak memory."""
    from catalogue.models import Prediction
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.predictions import predictions_enqueue
    from glamml.celery import app

    predictions_reset()
    app.control.purge()
    names = [f"bench{workers}-{i}" for i in range(workers)]
    processes = [worker_start(bench, name, root=root, pool=pool) for name in names]
    try:
        workers_ready(bench, names)
        cpu_before = [_cpu_seconds(p.pid) for p in processes]
        with timed() as t:
            predictions_enqueue(field_id=field_ensure_language().id, record_ids=todo)
            deadline = time.monotonic() + TIMEOUT
            while Prediction.objects.count() < len(todo) and time.monotonic() < deadline:
                time.sleep(0.25)
        cpu = sum(_cpu_seconds(p.pid) for p in processes) - sum(cpu_before)
        memory = [rss_mb(p.pid, "VmHWM") for p in processes]
    finally:
        workers_stop(processes)
    done = Prediction.objects.count()
    global LAST_CPU
    LAST_CPU = done / cpu if cpu else 0.0
    return done / t[0], memory


# Records per CPU-second of the last end-to-end run's workers: less at the mercy of the
# machine's load than records/s. (Their database backends are not counted: a worker's
# connection closes after each task, so its backend is gone before it can be read.)
LAST_CPU = 0.0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a running process has used so far."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(bench: Bench) -> list[Figure]:
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.training.base import base_model_ensure

    records_ensure(bench)
    base_model_ensure(field=field_ensure_language())
    predictions_reset()
    todo = needing()
    raw = raw_model_speed(todo)
    figures = [Figure("predict", "the model alone, batches of 500", raw, "titles/s")]
    before = bench.options.get("before")
    pools = [p.strip() for p in bench.options.get("pools", "solo").split(",") if p.strip()]
    for pool in pools:
        pool_arguments(pool)  # an unknown pool fails before the first run, not after
    checkouts = [(Path(before), "before: "), (ROOT, "")] if before else [(ROOT, "")]
    for workers in WORKER_COUNTS:
        sample = todo[:ONE_WORKER_SAMPLE] if workers == 1 else todo
        for pool in pools:
            for root, prefix in checkouts:
                label = prefix if pools == ["solo"] else f"{prefix}{pool}: "
                rate, memory = end_to_end(bench, workers, sample, root=root, pool=pool)
                figures.append(_end_to_end_figure(workers, len(sample), raw, rate, memory, label))
                figures.extend(_cpu_figures(workers, label))
    return figures


def _cpu_figures(workers: int, prefix: str) -> list[Figure]:
    name = f"{workers} worker process{'es' if workers > 1 else ''}"
    return [
        Figure("predict", f"{prefix}{name}: records per CPU-second of the workers", LAST_CPU, "/s")
    ]


def _end_to_end_figure(
    workers: int, records: int, raw: float, rate: float, memory: list[float], prefix: str
) -> Figure:
    return Figure(
        "predict",
        f"{prefix}end to end, {workers} worker process{'es' if workers > 1 else ''}, "
        f"{records:,} records",
        rate,
        "records/s",
        baseline=f"the model alone × {workers}: {raw * workers:,.0f}/s",
        ratio=rate / (raw * workers),
        note=f"worker peak memory {', '.join(f'{m:.0f}' for m in memory)} MB",
    )
