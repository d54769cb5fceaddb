"""Benchmark: importing N records (default 100,000) with `records_import`, first and again.

Usage: .venv/bin/python bench/import_records.py [--rows 100000] [--database-url URL]

Rows are synthetic (titles cycled from tests/fixtures with a running number) so the benchmark
needs no external data. Prints a Markdown table: rows, database, first import, re-import, rows/s.
Prediction is not part of it (no model is active), so this measures the import path alone.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française. [With plates.]",
    "A Treatise on the Steam Engine, with its application to navigation",
    "Storia della letteratura italiana",
    "Suomen kansan vanhat runot",
]
LANGS = ["ger", "fre", "eng", "", ""]


def write_rows(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "lang", "shelfmark"])
        for i in range(n):
            w.writerow([f"r{i:07d}", f"{TITLES[i % 5]} ({i})", LANGS[i % 5], f"S.{i}"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="glamml-bench-"))
    os.environ["GLAMML_DATA_DIR"] = str(tmp)
    os.environ.pop("REDIS_URL", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamml.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        # A fresh database per run so the numbers compare.
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        call_command("migrate", verbosity=0)
    from catalogue.models import Collection
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.imports import records_import

    field_ensure_language()
    source = tmp / "records.csv"
    write_rows(source, args.rows)
    collection = Collection.objects.create(slug="bench", name="Bench")
    mapping = {"identifier": "id", "language": "lang"}
    t0 = time.perf_counter()
    records_import(path=source, collection=collection, mapping=mapping)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    records_import(path=source, collection=collection, mapping=mapping)
    again = time.perf_counter() - t0
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print()
    print("| rows | database | first import (s) | re-import (s) | rows/s (first) |")
    print("| ---: | --- | ---: | ---: | ---: |")
    print(
        f"| {args.rows:,} | {connection.vendor} | {first:.1f} | {again:.1f} "
        f"| {args.rows / first:,.0f} |"
    )


if __name__ == "__main__":
    main()
