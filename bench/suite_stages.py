"""Benchmark: how long the README's test command takes, stage by stage.

Usage: .venv/bin/python bench/suite_stages.py [--workers 0,3] [-- PYTEST ARGS]

Runs ``bash scripts/test.sh`` once for each number of parallel pytest processes given
(``GLAMML_TEST_WORKERS``; 0 is one process, as the suite ran before issue 7), one after the
other, and prints a Markdown table of the times each stage reports (``== time: STAGE N s``),
the CPU of the whole command (user + system of every process it started, PostgreSQL's aside), the
pytest summary line, and the machine: CPU count and the load average before and after each run,
since the machine may be shared. ``-- -p tests.cpu_report`` adds pytest's list of the tests and
files that used the most CPU (in ``var/suite-stages-N.log``). Services come from the
environment as for scripts/test.sh (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``; ``CI=true`` to
fail on any skip).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = re.compile(r"^== time: (\S+) ([\d.]+) s$")
SUMMARY = re.compile(r"^=+ (.*(passed|failed|error).*) in [\d.]+s")


def children_cpu() -> float:
    """User + system CPU of every process this one started and waited for, and of theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workers: int, pytest_args: list[str]) -> tuple[dict[str, float], str, int]:
    """One run of the test command: stage times (and its CPU), pytest's summary and the exit
    status."""
    env = {**os.environ, "GLAMML_TEST_WORKERS": str(workers)}
    cpu = children_cpu()
    result = subprocess.run(
        ["bash", "scripts/test.sh", *pytest_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    cpu = children_cpu() - cpu
    # The whole output, to read which tests failed or were slow.
    log = ROOT / "var" / f"suite-stages-{workers}.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    print(f"workers={workers}: output in {log.relative_to(ROOT)}", file=sys.stderr)
    times, summary = {}, ""
    for line in result.stdout.splitlines():
        if m := STAGE.match(line):
            times[m.group(1)] = float(m.group(2))
        elif m := SUMMARY.match(line):
            summary = m.group(1)
    # Every process of the command that ended with it (setup, pytest and its processes, the
    # servers, workers and browsers they started, ruff, mypy); PostgreSQL's and Redis's not.
    times["CPU (user + system)"] = cpu
    return times, summary, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="0,3", help="comma-separated process counts")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]

    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    results = []
    for workers in counts:
        load = os.getloadavg()
        start = time.monotonic()
        times, summary, status = run(workers, args.pytest_args)
        wall = time.monotonic() - start
        results.append((workers, load, times, summary, status, wall, os.getloadavg()))
        print(f"workers={workers}: exit {status} in {wall:.0f} s; {summary}", file=sys.stderr)

    stages = list(dict.fromkeys(s for r in results for s in r[2]))
    print()
    print(
        "| stage | "
        + " | ".join(f"{r[0] or 1} process{'es' if r[0] else ''}" for r in results)
        + " |"
    )
    print("| --- |" + " --- |" * len(results))
    for stage in stages:
        cells = [f"{r[2][stage]:.1f} s" if stage in r[2] else "–" for r in results]
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print("| pytest result | " + " | ".join(r[3] or f"exit {r[4]}" for r in results) + " |")
    print(
        "| load average before (1, 5, 15 min) | "
        + " | ".join(", ".join(f"{x:.1f}" for x in r[1]) for r in results)
        + " |"
    )
    print(
        "| load average after (1, 5, 15 min) | "
        + " | ".join(", ".join(f"{x:.1f}" for x in r[6]) for r in results)
        + " |"
    )
    if any(r[4] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
