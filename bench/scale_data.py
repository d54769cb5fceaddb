"""Deterministic synthetic catalogues of any size, drawn from the real titles of ../shared/data.

    .venv/bin/python bench/scale_data.py --rows 100000 --out records.csv [--seed 0] [--format jsonl]

Each row is a real catalogue record (title, description, cataloguer's language) from the
British Library books, the FinGreyLit records, the other institutions' MARC records or the Tate
artworks, drawn at random with a fixed seed, under a new identifier. A share of the languages is
left blank (by default 70%: the records a model has to predict). The same ``n`` and ``seed`` give
the same rows on every machine. The file is in the import format the app accepts
(``import_records FILE --collection SLUG``: identifier, title, description, language columns,
plus ``source`` kept as an extra value).

API for other benchmarks: ``generate(n, seed)`` yields the rows as dicts; ``write_file(path, n,
seed)`` writes them (CSV or JSON Lines by the suffix); ``load(path, collection_slug)`` imports a
written file into the configured database through the app's own import.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT.parent / "shared" / "data"
COLUMNS = ("identifier", "title", "description", "language", "source")
BLANK_SHARE = 0.7
# How often each source is drawn: a national library's mix of its own books, other libraries'
# records, grey literature and an art collection. Within a source every record is equally likely.
SOURCE_WEIGHTS = {"bl": 0.35, "catalogue-marc": 0.3, "fingreylit": 0.15, "tate": 0.2}


class Base(NamedTuple):
    title: str
    description: str
    language: str  # ISO 639-3 as the app stores it


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read_marc(data_dir: Path) -> list[Base]:
    from glamml.ml.catalogue_corpora import read_catalogue_marc
    from glamml.ml.languages import UnknownLanguageError, normalise_catalogue_language

    bases = []
    for record in read_catalogue_marc(data_dir):
        try:
            language = normalise_catalogue_language(record.code, marc=True)
        except UnknownLanguageError:
            continue
        title = _one_line(record.fields.get("title_original_script") or record.title)
        place = ", ".join(
            v for v in (record.fields.get("place"), record.fields.get("publisher")) if v
        )
        if title:
            bases.append(Base(title, _one_line(place), language))
    return bases


def _read_tate(data_dir: Path) -> list[Base]:
    bases = []
    with (data_dir / "tate" / "artworks.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            title = _one_line(row.get("title") or "")
            if title:
                bases.append(Base(title, _one_line(row.get("medium") or ""), "eng"))
    return bases


@lru_cache(maxsize=2)
def pools(data_dir: Path = DATA_DIR) -> dict[str, list[Base]]:
    """Every usable base record, by source, in file order (so draws are reproducible)."""
    from glamml.ml.corpora import read_bl, read_fingreylit

    if not data_dir.is_dir():
        raise SystemExit(f"{data_dir}: the shared data is not there (see ../shared/data).")
    found: dict[str, list[Base]] = {}
    for name, reader in (("bl", read_bl), ("fingreylit", read_fingreylit)):
        found[name] = [
            Base(_one_line(e.text), _one_line(e.extra.get("description", "")), e.label)
            for e in reader(data_dir)
        ]
    found["catalogue-marc"] = _read_marc(data_dir)
    found["tate"] = _read_tate(data_dir)
    return found


def generate(
    n: int, seed: int = 0, *, blank_share: float = BLANK_SHARE, data_dir: Path = DATA_DIR
) -> Iterator[dict[str, str]]:
    """``n`` rows (identifier, title, description, language, source), the same for a seed."""
    by_source = pools(data_dir)
    names = sorted(SOURCE_WEIGHTS)
    weights = [SOURCE_WEIGHTS[name] for name in names]
    rng = random.Random(seed)
    for i in range(n):
        source = rng.choices(names, weights)[0]
        base = rng.choice(by_source[source])
        blank = rng.random() < blank_share
        yield {
            "identifier": f"s{seed}-{i:08d}",
            "title": base.title,
            "description": base.description,
            "language": "" if blank else base.language,
            "source": source,
        }


def write_file(
    path: Path | str, n: int, seed: int = 0, *, blank_share: float = BLANK_SHARE
) -> Path:
    """Write ``generate(n, seed)`` to ``path``: JSON Lines if it ends in ``.jsonl``, else CSV."""
    path = Path(path)
    rows = generate(n, seed, blank_share=blank_share)
    with path.open("w", encoding="utf-8", newline="") as handle:
        if path.suffix == ".jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return path


def load(path: Path | str, collection_slug: str = "scale") -> int:
    """Import a written file into the configured database (Django set up); returns its rows.

    Goes through the app's own import, so values are stored with ``import`` provenance and
    prediction is enqueued as for any import.
    """
    from catalogue.models import Collection
    from catalogue.services.imports import records_import

    path = Path(path)
    collection, _ = Collection.objects.get_or_create(
        slug=collection_slug, defaults={"name": collection_slug.title()}
    )
    fmt = "jsonl" if path.suffix == ".jsonl" else "csv"
    result = records_import(path=path, collection=collection, fmt=fmt)
    return result.created + result.updated + result.unchanged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blank-share", type=float, default=BLANK_SHARE)
    parser.add_argument("--out", type=Path, required=True, help="a .csv or .jsonl file")
    args = parser.parse_args(argv)
    write_file(args.out, args.rows, args.seed, blank_share=args.blank_share)
    print(f"{args.out}: {args.rows:,} rows (seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
