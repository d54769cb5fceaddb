"""Write the demo sample ``data/sample/records.csv`` from the held-out catalogue records.

    .venv/bin/python scripts/build_sample.py [--data-dir ../shared/data]

Takes every British Library and FinGreyLit record of the held-out parts (the ones the shipped
language profiles were not built from, see ``glamml/ml/corpora.py``), and blanks the language of
about 60% of them, chosen by a hash of the record id, so the demo has records to predict and
records to check the predictions against. Deterministic: the same input gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.corpora import Corpus, read_bl, read_fingreylit  # noqa: E402
from glamml.ml.hashing import stable_fraction  # noqa: E402

SOURCE_NAMES = {"bl": "British Library", "fingreylit": "FinGreyLit"}
BLANK_SHARE = 0.6
MAX_RECORDS = 1500
COLUMNS = ["identifier", "title", "description", "language", "source"]


def sample_rows(examples: Corpus) -> list[dict[str, str]]:
    held_out = [example for example in examples if example.split == "test"]
    # A mixed order (not all British Library first), the same on every run.
    held_out.sort(key=lambda e: stable_fraction(f"order{e.source}:{e.key}"))
    rows = []
    for example in held_out[:MAX_RECORDS]:
        blank = stable_fraction(f"blank{example.source}:{example.key}") < BLANK_SHARE
        rows.append(
            {
                "identifier": example.key,
                "title": " ".join(example.text.split()),
                "description": example.extra.get("description", ""),
                "language": "" if blank else example.label,
                "source": SOURCE_NAMES[example.source],
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=REPO / "data" / "sample" / "records.csv")
    args = parser.parse_args(argv)

    rows = sample_rows(read_bl(args.data_dir) + read_fingreylit(args.data_dir))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    blank = sum(1 for row in rows if not row["language"])
    print(f"wrote {len(rows)} records ({blank} without a language) to {args.output.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
