"""Where a prediction batch's time goes: cProfile of the batches in one process, and the plan
of each statement they send (``EXPLAIN (ANALYZE, BUFFERS)`` by ``auto_explain``).

Run against a database that ``bench/scale.py`` made (``--reuse`` keeps it)::

    .venv/bin/python bench/scale_predict_profile.py --rows 100000 \
        --database-url postgres://postgres@127.0.0.1:5432/glamml [--records 10000] [--plans]

It empties the predictions (as the predict part does), predicts ``--records`` records that
need one in batches of ``GLAMML_INFERENCE_BATCH_SIZE`` under cProfile (after one batch to warm
up), prints the functions by cumulative and own time, and with ``--plans`` the plans of one
more batch's statements with their times.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scale_common import Bench, bench_database_url, django_setup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/glamml")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--indexes",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="instead of the profile: ROUNDS pairs of runs of --records records, with the "
        "indexes migration 0023 dropped made again and without them, alternating",
    )
    args = parser.parse_args()
    url = bench_database_url(args.database_url)
    tmp = Path(tempfile.gettempdir()) / f"glamml-scale-{urlsplit(url).path.strip('/')}"
    bench = Bench(rows=args.rows, seed=args.seed, tmp=str(tmp), database_url=url, redis_url="")
    django_setup(bench)

    from django.conf import settings
    from django.db import connection
    from scale_predict import needing, predictions_reset

    from catalogue.services.fields import field_ensure_language
    from catalogue.services.predictions import predictions_create
    from catalogue.services.training.base import base_model_ensure

    field = field_ensure_language()
    base_model_ensure(field=field)  # as the predict part does: a fresh database has no model
    if args.indexes:
        return indexes_ab(field=field, records=args.records, rounds=args.indexes)
    predictions_reset()
    todo = needing()
    size = settings.GLAMML_INFERENCE_BATCH_SIZE
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    predictions_create(field=field, record_ids=batches[0])  # warm up: the model's load
    work = batches[1 : 1 + args.records // size]
    profile = cProfile.Profile(time.process_time)  # CPU: the machine is shared
    cpu, wall = time.process_time(), time.perf_counter()
    profile.enable()
    for batch in work:
        predictions_create(field=field, record_ids=batch)
    profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = sum(len(b) for b in work)
    print(f"{n:,} records in {len(work)} batches: {wall:.2f} s wall, {cpu:.2f} s CPU (profiled)")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)

    if args.plans:
        notices: list[str] = []
        connection.ensure_connection()
        raw = connection.connection
        raw.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        with connection.cursor() as cursor:
            cursor.execute("LOAD 'auto_explain'")
            for setting, value in (
                ("auto_explain.log_min_duration", "0"),
                ("auto_explain.log_analyze", "on"),
                ("auto_explain.log_buffers", "on"),
                ("auto_explain.log_nested_statements", "on"),
                ("auto_explain.log_triggers", "on"),
                ("auto_explain.log_level", "notice"),
            ):
                cursor.execute(f"SET {setting} = {value}")
        predictions_create(field=field, record_ids=batches[1 + len(work)])
        with connection.cursor() as cursor:
            cursor.execute("SET auto_explain.log_min_duration = -1")
        for notice in notices:
            # The batch's JSON and id lists would fill the screen.
            print(re.sub(r"'[\[{][^']{200,}'", "'…'", notice))
            print("-" * 72)
    return 0


# The indexes migration 0023 dropped (each the head of a longer index on the same table).
PREFIX_INDEXES = {
    "bench_prediction_record": "catalogue_prediction (record_id)",
    "bench_prediction_field": "catalogue_prediction (field_id)",
    "bench_fieldvalue_field": "catalogue_fieldvalue (field_id)",
}


def indexes_ab(*, field: Any, records: int, rounds: int) -> int:
    """Seconds per batch, and the database backend's CPU per batch, with and without the
    prefix indexes, alternating from the same emptied tables."""
    from django.conf import settings
    from django.db import connection
    from scale_predict import needing, predictions_reset

    from catalogue.services.predictions import predictions_create

    size = settings.GLAMML_INFERENCE_BATCH_SIZE
    results: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    for _ in range(rounds):
        for side in ("with", "without"):
            with connection.cursor() as cursor:
                for name, target in PREFIX_INDEXES.items():
                    if side == "with":
                        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
                    else:
                        cursor.execute(f"DROP INDEX IF EXISTS {name}")
            predictions_reset()
            todo = needing()
            batches = [todo[i : i + size] for i in range(0, len(todo), size)]
            predictions_create(field=field, record_ids=batches[0])
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            backend = _cpu_seconds(pid)
            wall = time.perf_counter()
            work = batches[1 : 1 + records // size]
            for batch in work:
                predictions_create(field=field, record_ids=batch)
            wall = time.perf_counter() - wall
            backend = _cpu_seconds(pid) - backend
            results[side].append((wall / len(work), backend / len(work)))
            print(
                f"{side} the prefix indexes: {wall / len(work) * 1000:.1f} ms a batch, "
                f"backend CPU {backend / len(work) * 1000:.1f} ms a batch",
                flush=True,
            )
    with connection.cursor() as cursor:
        for name in PREFIX_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    for side, rows in results.items():
        walls = sorted(w for w, _ in rows)
        cpus = sorted(c for _, c in rows)
        print(
            f"{side}: median {walls[len(walls) // 2] * 1000:.1f} ms a batch, "
            f"backend CPU {cpus[len(cpus) // 2] * 1000:.1f} ms a batch ({len(rows)} runs)"
        )
    return 0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a process on this machine (the database backend), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    raise SystemExit(main())
