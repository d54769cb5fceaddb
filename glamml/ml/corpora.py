"""Readers for the shared data sets, with deterministic held-out splits by source.

Only the build and sample scripts use this: the app never needs ``../shared``. Each source is
split by a hash of a stable record key, so a record is in the same part on every machine and in
every run, and the test parts are never in the shipped profiles.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from glamml.ml.languages import UnknownLanguageError, normalise_language

# Share of each source held out for testing.
TEST_FRACTION = {"bl": 0.3, "fingreylit": 0.3, "tatoeba": 0.2, "udhr": 0.2}
SOURCES = ("bl", "fingreylit", "tatoeba", "udhr")


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # ISO 639-3, macrolanguage-folded
    source: str
    key: str  # stable record id within the source
    split: str  # "train" or "test"
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def hash_fraction(source: str, key: str, salt: str = "") -> float:
    """A number in [0, 1) that depends only on the source, the key and the salt."""
    digest = hashlib.sha256(f"{salt}{source}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_for(source: str, key: str) -> str:
    return "test" if hash_fraction(source, key) < TEST_FRACTION[source] else "train"


def _rows(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    # newline="" matters: some titles hold line separators that would otherwise split rows.
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter)


def read_bl(data_dir: Path) -> list[Example]:
    """British Library books: title and the cataloguer's primary language (an English name)."""
    examples = []
    for row in _rows(data_dir / "bl-books-genre" / "records.csv"):
        key = row["BL record ID"].strip()
        title = (row["Title"] or "").strip()
        try:
            label = normalise_language(row["language_primary"])
        except UnknownLanguageError:
            continue
        if not key or not title:
            continue
        place_date = _joined(
            row.get("Place of publication"), row.get("Publisher"), row.get("Date of publication")
        )
        examples.append(
            Example(
                text=title,
                label=label,
                source="bl",
                key=key,
                split=split_for("bl", key),
                extra={
                    "n_languages": row.get("n_languages", "1") or "1",
                    "languages": row.get("Languages", ""),
                    "description": place_date,
                },
            )
        )
    return examples


def _joined(*parts: str | None) -> str:
    """The non-empty parts, stripped, joined with commas."""
    return ", ".join(p.strip() for p in parts if p and p.strip())


def read_fingreylit(data_dir: Path) -> list[Example]:
    """FinGreyLit: title and ISO 639-1 language of Finnish grey literature, deduplicated on id."""
    examples = []
    seen: set[str] = set()
    for row in _rows(data_dir / "fingreylit" / "records.csv"):
        key = (row.get("id") or "").strip()
        title = (row.get("gt_title") or "").strip()
        code = (row.get("gt_language") or "").strip()
        if not key or not title or not code or key in seen:
            continue
        try:
            label = normalise_language(code)
        except UnknownLanguageError:
            continue
        seen.add(key)
        description = _joined(
            (row.get("gt_publisher") or "").replace("|", "; "),
            row.get("gt_year"),
            row.get("gt_type_coar"),
        )
        examples.append(
            Example(
                text=title,
                label=label,
                source="fingreylit",
                key=key,
                split=split_for("fingreylit", key),
                extra={"description": description},
            )
        )
    return examples


def read_tatoeba(data_dir: Path) -> list[Example]:
    """Tatoeba sentences; their own ``tatodet_split`` is used when it has a test part."""
    rows = list(_rows(data_dir / "tatoeba" / "sentences.tsv", delimiter="\t"))
    has_test = any(row.get("tatodet_split") == "test" for row in rows)
    examples = []
    for row in rows:
        key = row["tatoeba_sentence_id"].strip()
        text = (row.get("text") or "").strip()
        try:
            label = normalise_language(row["lang"])
        except UnknownLanguageError:
            continue
        if not text:
            continue
        if has_test:
            split = "test" if row["tatodet_split"] == "test" else "train"
        else:
            split = split_for("tatoeba", key)
        examples.append(Example(text=text, label=label, source="tatoeba", key=key, split=split))
    return examples


def read_udhr(data_dir: Path) -> list[Example]:
    """UDHR headings and paragraphs, labelled with the macrolanguage-folded ISO 639-3 code.

    Versions whose language is unidentified (BCP 47 ``und``) are left out.
    """
    examples = []
    path = data_dir / "udhr" / "udhr_paragraphs.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            text = (row.get("text") or "").strip()
            if not text or row.get("bcp47") == "und":
                continue
            try:
                label = normalise_language(row["iso6393"])
            except UnknownLanguageError:
                continue
            key = f"{row['code']}:{row['seq']}"
            examples.append(
                Example(
                    text=text,
                    label=label,
                    source="udhr",
                    key=key,
                    split=split_for("udhr", key),
                    extra={"element": row.get("element", ""), "version": row["code"]},
                )
            )
    return examples


READERS = {
    "bl": read_bl,
    "fingreylit": read_fingreylit,
    "tatoeba": read_tatoeba,
    "udhr": read_udhr,
}


def read_all(data_dir: Path) -> dict[str, list[Example]]:
    return {source: READERS[source](data_dir) for source in SOURCES}


def is_evaluation_text(example: Example) -> bool:
    """Held-out examples worth scoring: UDHR paragraphs only (headings repeat "Article 1")."""
    if example.source == "udhr":
        return example.extra.get("element") == "p" and len(example.text) >= 20
    return True


def write_heldout(examples: list[Example], path: Path) -> int:
    """Write ``text,label`` CSV of the evaluation examples; returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [example for example in examples if is_evaluation_text(example)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for example in rows:
            writer.writerow([example.text, example.label])
    return len(rows)
