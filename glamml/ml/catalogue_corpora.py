"""Readers for the catalogue records and classical texts of ``../shared/data``, by source.

Only build and benchmark scripts use this (the app never needs ``../shared``). Catalogue
records are grouped by the institution (repository) they come from, so that a model can be
measured on a whole source it has never seen: one institution's habits (its cataloguing
language, its romanisation, its subjects) must not leak into the figures for it.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from glamml.ml.hashing import stable_fraction
from glamml.ml.languages import (
    UnknownLanguageError,
    normalise_catalogue_language,
    normalise_language,
)

# Sources with fewer records than this are left out together, as one group: alone, a score on
# 4 to 50 records says little. Each of them is still another institution the model never saw.
MIN_GROUP_ROWS = 100
SMALL_SOURCES_GROUP = "small sources"

# The record fields a catalogue may hold besides the title, in the order they are read.
RECORD_FIELDS = ("title", "title_original_script", "place", "publisher", "notes")

CLASSICS_TEST_FRACTION = 0.2

# Licences written for code that bind what is derived from the rows (marc4j's LGPL, marc-perl's
# Artistic/GPL): ../shared/data/README.md says to ship no copyleft rows, so no model learns from
# them; they are still left-out sources to measure on.
COPYLEFT = ("GPL", "Artistic")


@dataclass(frozen=True)
class CatalogueRecord:
    """One bibliographic record with the language its cataloguer coded."""

    key: str
    source: str
    code: str  # the MARC code as catalogued
    label: str  # macrolanguage-folded ISO 639-3; the MARC code itself when it has none
    fields: dict[str, str] = field(compare=False, hash=False)
    licence: str = ""  # SPDX identifier of the source repository's licence

    @property
    def shippable(self) -> bool:
        """Whether counts derived from it may ship: copyleft sources are for measuring only."""
        return not any(term in self.licence for term in COPYLEFT)

    @property
    def title(self) -> str:
        return self.fields.get("title", "")


def marc_label(code: str) -> str:
    """A cataloguer's MARC language code as the label a model is scored against.

    :func:`~glamml.ml.languages.normalise_catalogue_language` as the import reads it: obsolete
    MARC codes follow their successor (``scr`` → ``hrv``), a collective code stays as it is
    (``roa``, Romance languages: no identifier answers it, and a benchmark counts it as an
    error rather than dropping the record). A code nothing knows is kept as catalogued.
    """
    try:
        return normalise_catalogue_language(code, marc=True)
    except UnknownLanguageError:
        return code.strip().lower()


def read_catalogue_marc(data_dir: Path) -> list[CatalogueRecord]:
    """Every record of ``catalogue-marc/records.csv`` (see its SOURCE.md), in file order."""
    path = data_dir / "catalogue-marc" / "records.csv"
    records = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["language"].strip()
            records.append(
                CatalogueRecord(
                    key=row["id"],
                    source=row["source"],
                    code=code,
                    label=marc_label(code),
                    fields={name: (row.get(name) or "").strip() for name in RECORD_FIELDS},
                    licence=row.get("licence", ""),
                )
            )
    return records


def loso_groups(
    records: Iterable[CatalogueRecord], *, min_rows: int = MIN_GROUP_ROWS
) -> dict[str, str]:
    """Source → the group it is left out with: itself, or the group of the small sources."""
    sizes = Counter(record.source for record in records)
    return {
        source: source if size >= min_rows else SMALL_SOURCES_GROUP
        for source, size in sizes.items()
    }


@dataclass(frozen=True)
class ClassicsRow:
    key: str
    text: str
    label: str  # grc or lat
    form: str  # polytonic, monotonic, plain, title_like, title
    work: str
    split: str  # train or test, by work: a monotonic copy stays with its polytonic row


def read_classics(data_dir: Path) -> list[ClassicsRow]:
    """Ancient Greek and Latin rows of ``classics/sentences.csv``, split by a hash of the work."""
    path = data_dir / "classics" / "sentences.csv"
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            work = row["work"]
            fraction = stable_fraction(f"classics:{work}")
            rows.append(
                ClassicsRow(
                    key=row["id"],
                    text=row["text"],
                    label=normalise_language(row["language"]),
                    form=row["script_form"],
                    work=work,
                    split="test" if fraction < CLASSICS_TEST_FRACTION else "train",
                )
            )
    return rows


# -- scripts ---------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _char_script(char: str) -> str:
    # The first word of a letter's Unicode name is its script: LATIN, CYRILLIC, CJK, HANGUL...
    return unicodedata.name(char, "").split(" ")[0]


def text_script(text: str) -> str:
    """The Unicode script most of the text's letters belong to (``LATIN``, ``CYRILLIC``, ...)."""
    scripts = Counter(_char_script(char) for char in text if char.isalpha())
    scripts.pop("", None)
    return scripts.most_common(1)[0][0] if scripts else ""


def is_romanised(record: CatalogueRecord, native_scripts: dict[str, str]) -> bool:
    """A Latin-script title of a language normally written in another script.

    ``native_scripts`` maps a label to the script its own texts are written in (see
    :func:`usual_scripts`); a record with an original-script title also counts.
    """
    if text_script(record.title) != "LATIN":
        return False
    if record.fields.get("title_original_script"):
        return text_script(record.fields["title_original_script"]) != "LATIN"
    usual = native_scripts.get(record.label, "LATIN")
    return usual not in ("LATIN", "")


def usual_scripts(texts_by_label: dict[str, list[str]]) -> dict[str, str]:
    """Each label's most frequent script over the given texts (its own writing, not romanised)."""
    result = {}
    for label, texts in texts_by_label.items():
        counts = Counter(text_script(text) for text in texts)
        counts.pop("", None)
        if counts:
            result[label] = counts.most_common(1)[0][0]
    return result
