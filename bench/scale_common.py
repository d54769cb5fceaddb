"""What every part of the scale benchmark shares: its settings, its figures, its processes.

``bench/scale.py`` runs each part in a child process of its own (so a part's peak memory is its
own) with the settings in :class:`Bench`; a part is a function ``run(bench) -> list[Figure]``.
A part module outside scale.py (``bench/scale_web.py``) follows the same shape.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FIGURES_MARK = "SCALE-FIGURES "


@dataclass
class Bench:
    """One run's settings, handed to every part (as JSON to its process)."""

    rows: int
    seed: int
    tmp: str  # scratch directory: the generated file, model artefacts, logs
    database_url: str  # the benchmark's own database, created afresh for the run
    redis_url: str
    data_file: str = ""  # the generated CSV (written once by the parent)
    duration: int = 60  # seconds of load for the web part
    options: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a process that works on the benchmark's database."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "GLAMML_DATA_DIR": str(Path(self.tmp) / "data"),
            "DEBUG": "false",  # Django keeps every query in memory when DEBUG is on
            "DJANGO_SETTINGS_MODULE": "glamml.settings",
            **extra,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> Bench:
        return cls(**json.loads(raw))


@dataclass
class Figure:
    """One row of the table: a measured figure, and what it is compared with."""

    part: str
    what: str
    value: float
    unit: str
    baseline: str = ""  # what the figure is compared with, in words and numbers
    ratio: float | None = None  # value / baseline value, where that means something
    note: str = ""


def bench_database_url(url: str) -> str:
    """The benchmark's database beside the one named: ``.../glamml`` -> ``.../glamml_bench``.

    The benchmark drops and creates it, so it never touches the database it was pointed at.
    """
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "glamml"
    return urlunsplit(parts._replace(path=f"/{name}_bench"))


def database_recreate(url: str) -> None:
    """Drop and create the benchmark's database (connecting to the server's ``postgres``)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_vacuum(url: str) -> bool:
    """``VACUUM ANALYZE`` the benchmark's database where the server's autovacuum is off.

    A server in service runs autovacuum, which would have refreshed the statistics and the
    visibility map before a part (after the last part, or a ``--reuse`` run's earlier work);
    without it a part's plans are made on stale statistics (a table of 120,000 predictions
    estimated at 4 rows). Returns whether it ran.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
        if row and row[0] == "on":
            return False
        conn.execute("VACUUM ANALYZE")
    return True


def django_setup(bench: Bench) -> None:
    """Configure this process for the benchmark's database and load Django."""
    os.environ.update(bench.env())
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """Resident memory of a running process now, in MB (``key="VmHWM"``: its peak so far)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def run_child(bench: Bench, part: str, script: Path) -> list[Figure]:
    """Run one part in its own process; its figures come back on a marked line of stdout.

    A stopped run stops its part too (which stops the workers it started): a part left running
    would go on writing to the benchmark's database under the next run's figures.
    """
    with subprocess.Popen(
        [PYTHON, str(script), "--child", part],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=bench.env(),
        cwd=ROOT,
        text=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(bench.to_json())
        except BaseException:
            process.terminate()
            process.wait(timeout=60)
            raise
    figures = [
        Figure(**row)
        for line in stdout.splitlines()
        if line.startswith(FIGURES_MARK)
        for row in json.loads(line[len(FIGURES_MARK) :])
    ]
    if process.returncode != 0:
        sys.stderr.write(stdout[-4000:] + stderr[-4000:])
        figures.append(Figure(part, "failed", float("nan"), "", note="see the output above"))
    return figures


def print_figures(figures: list[Figure]) -> None:
    """Print the figures of a child so the parent reads them back."""
    print(FIGURES_MARK + json.dumps([asdict(f) for f in figures]), flush=True)


def manage(bench: Bench, *args: str) -> None:
    """``manage.py ARGS`` against the benchmark's database."""
    subprocess.run(
        [PYTHON, "manage.py", *args], env=bench.env(), cwd=ROOT, check=True, capture_output=True
    )
