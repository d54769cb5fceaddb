"""Write the label samples for fields other than language, and the test fixture cut from them.

    .venv/bin/python scripts/build_label_samples.py [--data-dir ../shared/data]

- ``data/label-samples/bl-genre.csv``: British Library books with their annotated genre
  (Fiction / Non-fiction), columns ``identifier,title,description,genre,language,shelfmark``.
- ``data/label-samples/tate-object-type.csv``: Tate artworks with their classification (object
  type), columns ``identifier,title,description,object_type``.
- ``tests/ml/fixtures/label_samples.csv``: 200 rows taken from both, for fast tests.

Deterministic: records are taken in the order of a sha256 of their id, so the same input gives
the same files. The Tate collection is 55% Turner, so no artist gives more than
``TATE_MAX_PER_ARTIST`` works and no object type more than ``TATE_MAX_PER_LABEL``; object types
with fewer than ``TATE_MIN_LABEL`` works in the whole collection (and blank ones) are left out.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.languages import UnknownLanguageError, normalise_language  # noqa: E402

BL_MAX_ROWS = 1300
TATE_MAX_ROWS = 2000
TATE_MAX_PER_ARTIST = 10
TATE_MAX_PER_LABEL = 500
TATE_MIN_LABEL = 100
FIXTURE_ROWS = {"bl-genre": 100, "tate-object-type": 100}

BL_COLUMNS = ["identifier", "title", "description", "genre", "language", "shelfmark"]
TATE_COLUMNS = ["identifier", "title", "description", "object_type"]
FIXTURE_COLUMNS = ["sample", "identifier", "text", "label"]


def order_key(sample: str, key: str) -> str:
    return hashlib.sha256(f"{sample}:{key}".encode()).hexdigest()


def tidy(value: str | None) -> str:
    return " ".join((value or "").split())


def _rows(path: Path) -> Iterator[dict[str, str]]:
    # newline="" matters: some titles hold line separators that would otherwise split rows.
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def bl_rows(data_dir: Path) -> list[dict[str, str]]:
    rows = []
    for row in _rows(data_dir / "bl-books-genre" / "records.csv"):
        identifier, title, genre = (
            tidy(row["BL record ID"]),
            tidy(row["Title"]),
            tidy(row["annotated_genre"]),
        )
        if not identifier or not title or not genre:
            continue
        imprint = ", ".join(
            part
            for part in (
                tidy(row.get("Place of publication")),
                tidy(row.get("Publisher")),
                tidy(row.get("Date of publication")),
            )
            if part
        )
        description = "; ".join(
            part for part in (imprint, tidy(row.get("Physical description"))) if part
        )
        try:
            language = normalise_language(tidy(row.get("language_primary")))
        except UnknownLanguageError:
            language = ""
        rows.append(
            {
                "identifier": identifier,
                "title": title,
                "description": description,
                "genre": genre,
                "language": language,
                # The press-mark without the storage location ("Digital Store"): the BL's
                # press-marks are shelved by subject, as a call number is.
                "shelfmark": tidy(row.get("BL shelfmark")).removeprefix("Digital Store").strip(),
            }
        )
    rows.sort(key=lambda r: order_key("bl-genre", r["identifier"]))
    return rows[:BL_MAX_ROWS]


def tate_rows(data_dir: Path) -> list[dict[str, str]]:
    source = list(_rows(data_dir / "tate" / "artworks.csv"))
    label_sizes = Counter(tidy(row["classification"]) for row in source)
    source.sort(key=lambda r: order_key("tate-object-type", r["id"]))
    per_artist: Counter[str] = Counter()
    per_label: Counter[str] = Counter()
    rows = []
    for row in source:
        label = tidy(row["classification"])
        artist = tidy(row["all_artists"])
        title = tidy(row["title"])
        if not label or label_sizes[label] < TATE_MIN_LABEL or not title:
            continue
        if per_artist[artist] >= TATE_MAX_PER_ARTIST or per_label[label] >= TATE_MAX_PER_LABEL:
            continue
        per_artist[artist] += 1
        per_label[label] += 1
        date = tidy(row["dateText"])
        description = "; ".join(
            part
            for part in (
                tidy(row["medium"]),
                "" if date == "date not known" else date,
                artist,
            )
            if part
        )
        rows.append(
            {
                "identifier": tidy(row["acno"]) or tidy(row["id"]),
                "title": title,
                "description": description,
                "object_type": label,
            }
        )
        if len(rows) >= TATE_MAX_ROWS:
            break
    return rows


def fixture_rows(samples: dict[str, tuple[list[dict[str, str]], str]]) -> list[dict[str, str]]:
    """The first rows of each sample (already in hash order), text = title. description."""
    rows = []
    for name, (sample, label_column) in samples.items():
        for row in sample[: FIXTURE_ROWS[name]]:
            rows.append(
                {
                    "sample": name,
                    "identifier": row["identifier"],
                    "text": f"{row['title']}. {row['description']}".strip(),
                    "label": row[label_column],
                }
            )
    return rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--output-dir", type=Path, default=REPO / "data" / "label-samples")
    parser.add_argument(
        "--fixture", type=Path, default=REPO / "tests" / "ml" / "fixtures" / "label_samples.csv"
    )
    args = parser.parse_args(argv)

    bl = bl_rows(args.data_dir)
    tate = tate_rows(args.data_dir)
    write_csv(args.output_dir / "bl-genre.csv", BL_COLUMNS, bl)
    write_csv(args.output_dir / "tate-object-type.csv", TATE_COLUMNS, tate)
    fixture = fixture_rows({"bl-genre": (bl, "genre"), "tate-object-type": (tate, "object_type")})
    write_csv(args.fixture, FIXTURE_COLUMNS, fixture)
    for name, rows, column in (
        ("bl-genre", bl, "genre"),
        ("tate-object-type", tate, "object_type"),
    ):
        counts = Counter(row[column] for row in rows)
        print(f"{name}.csv: {len(rows)} rows, {dict(counts.most_common())}")
    print(f"{args.fixture.name}: {len(fixture)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
