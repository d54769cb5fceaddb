"""The embedded default: the demo on SQLite with in-process tasks, from an empty data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    # Models saved at zlib level 1, as in the rest of the suite: the same arrays, a fifth of the CPU.
    env.update(
        GLAMML_DATA_DIR=str(data_dir),
        CELERY_TASK_ALWAYS_EAGER="true",
        GLAMML_MODEL_COMPRESS_LEVEL="1",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# The test's own look at the result: without the system checks, which import every view and the
# API for the URL checks (0.7 s of CPU a process). migrate and demo run them, as a newcomer's do.
STATS = ("stats", "--json", "--skip-checks")


def test_the_demo_loads_trains_predicts_routes_and_is_safe_to_run_twice(tmp_path):
    # The whole path on a small sample (30 records of each of its four collections rather than
    # about 4,000 records, which took minutes); the same code runs either way.
    manage(tmp_path, "migrate", "--no-input")
    out = manage(tmp_path, "demo", "--rows", "30")
    assert "Imported 30 records into bl-books." in out
    assert "Imported 30 records into fingreylit." in out
    assert "Imported 30 records with genre (some values hidden) and trained." in out
    assert "Demo admin: admin / " in out and "Demo cataloguer: cataloguer / " in out
    stats = json.loads(manage(tmp_path, *STATS))
    language = stats["fields"]["language"]
    assert stats["records"] >= 100
    assert language["active_model"]["version"] == 1
    assert language["predictions"]["applied"] > 0
    assert language["predictions"]["queued"] > 0

    again = manage(tmp_path, "demo", "--rows", "30")
    stats_again = json.loads(manage(tmp_path, *STATS))
    assert stats_again == stats
    # The same logins are printed again: a newcomer's saved password keeps working.
    logins = [line for line in out.splitlines() if line.startswith("Demo ")]
    assert logins == [line for line in again.splitlines() if line.startswith("Demo ")]
