"""Where a committed import's time goes: each phase of ``records_import`` timed on PostgreSQL.

    .venv/bin/python bench/scale_import_phases.py --rows 100000 [--seed 0] [--repeat 1] \
        [--before CHECKOUT] [--database-url postgres://postgres@127.0.0.1:5432/glamml] \
        [--redis-url redis://127.0.0.1:6379/4]

Each import runs in a process of its own on a freshly created database (``<name>_phases``),
into an empty collection, as ``import_records`` does (committed, its work after the commit
included). Every SQL statement the import sends through Django is timed (``execute_wrapper``)
and put in a phase by what it is; the COPY into staging, the commit and the sending of each
prediction task are timed around the functions that do them. ``--before`` names a checkout of
the code before a change: its import alternates with this checkout's, each on a fresh database.
Each run also times the floor (``bench/scale_import.py``): a raw COPY of the file, then an
insert of its rows into a copy of ``catalogue_record`` with all its indexes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from scale_common import ROOT, Bench, bench_database_url, database_recreate  # noqa: E402

_PHASES: list[tuple[str, str]] = [
    (r"^VACUUM", "VACUUM (ANALYZE) records and values, after the commit"),
    (r"^ANALYZE", "ANALYZE records and values, after the commit"),
    (r"^UPDATE catalogue_record", "records: UPDATE of changed records"),
    (r"^INSERT INTO catalogue_record", "records: INSERT of new records"),
    (r"^UPDATE glamml_import_staging", "records: staging rows get their record id"),
    (r"^INSERT INTO catalogue_fieldvalue", "values: INSERT of the file's values"),
    (r"^UPDATE catalogue_fieldvalue", "values: earlier values made not current"),
    (r"catalogue_fieldvalue AS fv ON", "values: count of values a person decided"),
    (r"SELECT s\.record_id FROM glamml_import_staging", "enqueue: records needing a prediction"),
    (r"^INSERT INTO \"catalogue_outboxtask\"", "enqueue: outbox rows (one per task)"),
    (r"^UPDATE \"catalogue_outboxtask\"", "after the commit: outbox rows marked sent"),
    (r"first_value\(line\)", "staging: duplicate identifiers"),
    (r"^INSERT INTO glamml_import_staging", "staging: checked rows into the staging table"),
    (r"^(SELECT|DELETE FROM) glamml_import_raw", "staging: cells checked in SQL"),
]


def _phase(sql: str) -> str:
    for pattern, name in _PHASES:
        if re.search(pattern, sql):
            return name
    return "other statements (fields, labels, settling, staging DDL)"


def child(bench: Bench, code: str) -> dict[str, Any]:
    """One committed import in this process; seconds by phase."""
    sys.path.insert(0, code)
    os.environ.update(bench.env())
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    import django

    django.setup()
    from django.db import connection
    from scale_import import MAPPING, indexed_copy_seconds, raw_copy_seconds

    from catalogue import dispatch
    from catalogue.models import Collection, OutboxTask
    from catalogue.services import imports

    path = Path(bench.data_file)
    floor = {"raw COPY": raw_copy_seconds(path), "indexed insert": indexed_copy_seconds(path)}
    seconds: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    sql_time = [0.0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - start
            sql_time[0] += spent
            name = _phase(sql)
            seconds[name] += spent
            counts[name] += 1

    def timed(name: str, function: Callable[..., Any], *, excluding_sql: bool = False):
        def run(*args: Any, **kwargs: Any) -> Any:
            before_sql = sql_time[0]
            checks_before = seconds["commit: deferred foreign-key checks"]
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                if excluding_sql:
                    spent -= sql_time[0] - before_sql
                if name.startswith("commit"):
                    spent -= seconds["commit: deferred foreign-key checks"] - checks_before
                seconds[name] += spent
                counts[name] += 1

        return run

    imports.csv_copy_stage = timed(
        "staging: parse and COPY the file (Python and COPY)",
        imports.csv_copy_stage,
        excluding_sql=True,
    )
    dispatch._deliver = timed(
        "after the commit: tasks sent to the broker", dispatch._deliver, excluding_sql=True
    )
    if hasattr(dispatch, "_deliver_many"):
        dispatch._deliver_many = timed(
            "after the commit: tasks sent to the broker", dispatch._deliver_many, excluding_sql=True
        )
    commit = connection.commit

    def checked_commit() -> None:
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their checks of every
        # inserted row run at the commit. Run them just before it, to time them apart.
        start = time.perf_counter()
        connection.connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds["commit: deferred foreign-key checks"] += time.perf_counter() - start
        counts["commit: deferred foreign-key checks"] += 1
        commit()

    connection.commit = timed("commit: WAL flushed", checked_commit)  # type: ignore[method-assign]

    collection, _ = Collection.objects.get_or_create(slug="scale", defaults={"name": "Scale"})
    with connection.execute_wrapper(wrapper):
        start = time.perf_counter()
        result = imports.records_import(path=path, collection=collection, mapping=MAPPING)
        total = time.perf_counter() - start
    return {
        "total": total,
        "rows": result.rows,
        "enqueued": result.enqueued,
        "tasks": OutboxTask.objects.count(),
        "floor": floor,
        "seconds": dict(seconds),
        "counts": dict(counts),
        "load": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--before", help="a checkout of the code before a change")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/glamml"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(Bench.from_json(sys.stdin.read()), args.child)))
        return 0
    from scale_data import write_file

    url = bench_database_url(args.database_url).replace("_bench", "_phases")
    tmp = Path(tempfile.mkdtemp(prefix="glamml-phases-"))
    bench = Bench(
        rows=args.rows, seed=args.seed, tmp=str(tmp), database_url=url, redis_url=args.redis_url
    )
    bench.data_file = str(tmp / "records.csv")
    write_file(Path(bench.data_file), args.rows, args.seed)
    codes = [("after", str(ROOT))]
    if args.before:
        codes = [("before", str(Path(args.before).resolve())), *codes]
    for _ in range(args.repeat):
        for label, code in codes:
            database_recreate(url)
            subprocess.run(
                [sys.executable, str(Path(code) / "manage.py"), "migrate", "--verbosity", "0"],
                env=bench.env(),
                check=True,
                cwd=code,
            )
            out = subprocess.run(
                [sys.executable, __file__, "--child", code],
                input=bench.to_json(),
                env=bench.env(),
                capture_output=True,
                text=True,
                check=True,
                cwd=code,
            ).stdout
            found = json.loads(out.strip().splitlines()[-1])
            _print(label, found)
    return 0


def _print(label: str, found: dict[str, Any]) -> None:
    total, rows = found["total"], found["rows"]
    floor = found["floor"]
    print(
        f"\n{label}: {rows:,} rows in {total:.1f} s ({rows / total:,.0f} rows/s), "
        f"{found['enqueued']:,} records enqueued in {found['tasks']} tasks, "
        f"load {found['load']:.1f}; raw COPY {floor['raw COPY']:.2f} s, "
        f"insert with all indexes {floor['indexed insert']:.2f} s"
    )
    print("| phase | calls | seconds | share |\n| --- | ---: | ---: | ---: |")
    accounted = 0.0
    for name, spent in sorted(found["seconds"].items(), key=lambda kv: -kv[1]):
        accounted += spent
        print(f"| {name} | {found['counts'][name]} | {spent:.2f} | {spent / total:.1%} |")
    print(
        f"| (Python outside these) | | {total - accounted:.2f} | "
        f"{(total - accounted) / total:.1%} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
