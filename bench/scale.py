"""The scale benchmark: a catalogue of N records imported, predicted, re-routed, trained, served.

    .venv/bin/python bench/scale.py --rows 100000 \
        [--parts import,predict,reroute,train,memory,web] [--seed 0] \
        [--database-url postgres://postgres@127.0.0.1:5432/glamml] \
        [--redis-url redis://127.0.0.1:6379/4] [--duration 60]

Generates N records from the real titles of ../shared/data (``bench/scale_data.py``), creates
a fresh database beside the one named (``<name>_bench``: dropped and created again on every
run, never the named database itself), migrates it, and runs the chosen parts in order, each in
a process of its own so its peak memory is its own. A part that needs data an earlier part makes
(records, predictions) makes it unmeasured when that part is not chosen. Prints one Markdown
table: each figure, what it is compared with, and the ratio. docs/benchmarks.md holds the results.

Parts: ``import`` (rows/s against a raw COPY of the same file; peak memory), ``predict``
(end-to-end records/s with 1 and 2 Celery worker processes against the model's raw batch
speed), ``reroute`` (a threshold change over every prediction), ``train`` (training on human
decisions: time and peak memory), ``memory`` (resident memory of each worker kind), ``web``
(``bench/scale_web.py``: the review queue, record, collection and search pages under load).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from scale_common import (  # noqa: E402
    ROOT,
    Bench,
    Figure,
    bench_database_url,
    database_recreate,
    database_vacuum,
    django_setup,
    manage,
    print_figures,
    run_child,
)

# Part name -> the module (in bench/) whose run(bench) measures it, in the order they run.
PARTS = {
    "import": "scale_import",
    "predict": "scale_predict",
    "reroute": "scale_reroute",
    "train": "scale_train",
    "memory": "scale_memory",
    "web": "scale_web",
}


def child(part: str) -> int:
    """Run one part in this process (started by the parent with the settings on stdin)."""
    bench = Bench.from_json(sys.stdin.read())
    django_setup(bench)
    module = importlib.import_module(PARTS[part])
    print_figures(module.run(bench))
    return 0


def table(figures: list[Figure]) -> str:
    lines = [
        "| part | what | figure | compared with | ratio | note |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ]
    for f in figures:
        value = "failed" if math.isnan(f.value) else f"{f.value:,.1f} {f.unit}".strip()
        ratio = "" if f.ratio is None else f"{f.ratio:.3g}"
        lines.append(f"| {f.part} | {f.what} | {value} | {f.baseline} | {ratio} | {f.note} |")
    return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python "
        f"{platform.python_version()}, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/glamml"),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")
    )
    parser.add_argument("--duration", type=int, default=60, help="seconds of web load")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the benchmark database of an earlier run with the same --rows and --seed "
        "(its records and predictions are not made again)",
    )
    parser.add_argument(
        "--before",
        help="a checkout of the code before a change: the predict part measures its workers "
        "beside this checkout's, alternating, in the same run",
    )
    parser.add_argument(
        "--pools",
        default="solo",
        help="the predict part's Celery worker pools, each measured in turn in the same run: "
        "'solo' (one task at a time, the default) and/or 'threads:N' (N tasks at once in one "
        "process), e.g. solo,threads:2",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the parent stops its part, the part stops its workers.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.child:
        return child(args.child)
    chosen = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}: choose from {', '.join(PARTS)}")
    if not args.database_url.startswith("postgres"):
        parser.error("the scale benchmark measures PostgreSQL: give --database-url postgres://...")
    from scale_data import write_file

    database_url = bench_database_url(args.database_url)
    # One scratch directory per benchmark database: a --reuse run finds its model artefacts.
    tmp = Path(tempfile.gettempdir()) / f"glamml-scale-{urlsplit(database_url).path.strip('/')}"
    if not args.reuse:
        shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True, exist_ok=True)
    bench = Bench(
        rows=args.rows,
        seed=args.seed,
        tmp=str(tmp),
        database_url=database_url,
        redis_url=args.redis_url,
        duration=args.duration,
        options={
            "pools": args.pools,
            **({"before": str(Path(args.before).resolve())} if args.before else {}),
        },
    )
    data_file = tmp / "records.csv"
    # The file is deterministic for --rows and --seed: a --reuse run keeps the one it has.
    if not (args.reuse and data_file.exists()):
        write_file(data_file, args.rows, args.seed)
    bench.data_file = str(data_file)
    if not args.reuse:
        database_recreate(bench.database_url)
    manage(bench, "migrate", "--verbosity", "0")
    print(f"machine: {machine()}")
    print(f"records: {args.rows:,} (seed {args.seed}), database {bench.database_url}")
    print()
    figures: list[Figure] = []
    for part in (p for p in PARTS if p in chosen):
        if importlib.util.find_spec(PARTS[part]) is None:
            figures.append(Figure(part, "not measured", float("nan"), "", note="no module yet"))
            continue
        if database_vacuum(bench.database_url):
            print(f"autovacuum is off: VACUUM ANALYZE before {part}", file=sys.stderr)
        found = run_child(bench, part, Path(__file__))
        figures.extend(found)
        # Each part's rows as soon as it ends: a long run that is stopped keeps what it measured.
        print("\n".join(table(found).splitlines()[2:]), file=sys.stderr, flush=True)
    print(table(figures))
    return 0


__all__ = ["ROOT", "django_setup"]

if __name__ == "__main__":
    raise SystemExit(main())
