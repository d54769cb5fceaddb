"""Readers for the shared data sets, with deterministic held-out splits by source.

Only the build and sample scripts use this: the app never needs ``../shared``. Each source is
split by a hash of a stable record key, so a record is in the same part on every machine and in
every run, and the test parts are never in the shipped profiles.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from glamml.ml.examples import Example
from glamml.ml.hashing import stable_fraction
from glamml.ml.languages import UnknownLanguageError, normalise_language

# Share of each source held out for testing.
TEST_FRACTION = {"bl": 0.3, "fingreylit": 0.3, "tatoeba": 0.2, "udhr": 0.2}
SOURCES = ("bl", "fingreylit", "tatoeba", "udhr")


# Examples read here are Example[str]: labelled ISO 639-3 (macrolanguage-folded), keyed by the
# record's id within its source, with "train" or "test" as their split.
Corpus = list[Example[str]]


def split_side(source: str, key: str) -> str:
    """``"test"`` for the share :data:`TEST_FRACTION` of a source's records, else ``"train"``.

    Decided by :func:`~glamml.ml.hashing.stable_fraction` of ``"{source}:{key}"`` alone, so a
    record is on the same side on every machine and in every run.
    """
    return "test" if stable_fraction(f"{source}:{key}") < TEST_FRACTION[source] else "train"


def _rows(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    # newline="" matters: some titles hold line separators that would otherwise split rows.
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter)


def read_bl(data_dir: Path) -> Corpus:
    """British Library books: title and the cataloguer's primary language (an English name)."""
    examples: Corpus = []
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
                split=split_side("bl", key),
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


def read_fingreylit(data_dir: Path) -> Corpus:
    """FinGreyLit: title and ISO 639-1 language of Finnish grey literature, deduplicated on id."""
    examples: Corpus = []
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
                split=split_side("fingreylit", key),
                extra={"description": description},
            )
        )
    return examples


def read_tatoeba(data_dir: Path) -> Corpus:
    """Tatoeba sentences; their own ``tatodet_split`` is used when it has a test part."""
    rows = list(_rows(data_dir / "tatoeba" / "sentences.tsv", delimiter="\t"))
    has_test = any(row.get("tatodet_split") == "test" for row in rows)
    examples: Corpus = []
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
            split = split_side("tatoeba", key)
        examples.append(Example(text=text, label=label, source="tatoeba", key=key, split=split))
    return examples


def read_udhr(data_dir: Path) -> Corpus:
    """UDHR headings and paragraphs, labelled with the macrolanguage-folded ISO 639-3 code.

    Versions whose language is unidentified (BCP 47 ``und``) are left out.
    """
    examples: Corpus = []
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
                    split=split_side("udhr", key),
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


def read_all(data_dir: Path) -> dict[str, Corpus]:
    return {source: READERS[source](data_dir) for source in SOURCES}


def is_evaluation_text(example: Example[str]) -> bool:
    """Held-out examples worth scoring: UDHR paragraphs only (headings repeat "Article 1")."""
    if example.source == "udhr":
        return example.extra.get("element") == "p" and len(example.text) >= 20
    return True


def write_heldout(examples: Corpus, path: Path) -> int:
    """Write ``text,label`` CSV of the evaluation examples; returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [example for example in examples if is_evaluation_text(example)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for example in rows:
            writer.writerow([example.text, example.label])
    return len(rows)
