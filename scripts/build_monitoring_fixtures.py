"""Write the test fixture of catalogue records in another script, for the drift tests.

    .venv/bin/python scripts/build_monitoring_fixtures.py [--data-dir ../shared/data]

- ``tests/fixtures/japanese_titles.csv``: 100 Japanese catalogue records (University of Florida
  records in LibraryCarpentry's lc-marcedit sample, CC BY 4.0) with their title in the original
  script (the MARC 880 paired with 245), columns ``identifier,title,romanised``.

Deterministic: records are taken in the order of a sha256 of their id.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROWS = 100
OUT = REPO / "tests" / "fixtures" / "japanese_titles.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    source = args.data_dir / "catalogue-marc" / "records.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row["source"] == "lc-marcedit"
            and row["language"] == "jpn"
            and row["title_original_script"]
        ]
    rows.sort(key=lambda row: hashlib.sha256(row["id"].encode()).hexdigest())
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["identifier", "title", "romanised"])
        for row in rows[:ROWS]:
            writer.writerow(
                [row["id"].split(":", 1)[1], row["title_original_script"], row["title"]]
            )
    print(f"wrote {min(ROWS, len(rows))} of {len(rows)} records to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
