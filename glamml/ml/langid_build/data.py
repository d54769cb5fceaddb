"""What a build reads: the shared data sets, imprints, and romanisations of native-script text."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from glamml.ml.catalogue_corpora import (
    CatalogueRecord,
    ClassicsRow,
    read_catalogue_marc,
    read_classics,
    text_script,
    usual_scripts,
)
from glamml.ml.corpora import read_all
from glamml.ml.examples import Example
from glamml.ml.langid import LanguageIdentifier
from glamml.ml.romanise import (
    Romaniser,
    anyascii,
    cutlet_macrons,
    fold_to_letters,
    iast,
    iuliia_ala_lc,
    pinyin,
    uroman,
    wade_giles,
)


@dataclass
class FixedCounts:
    """Untruncated counts of the texts every model has (UDHR and its romanisation).

    Hashing and counting them is most of the work of a build; done once, each of the many
    models of a build or a benchmark only adds its own texts to them.
    """

    models: dict[bool, LanguageIdentifier]  # romanised or not → counts
    chars: Counter[tuple[str, bool]]


@dataclass
class BuildData:
    shared: dict[str, list[Example[str]]]
    record_fields: dict[tuple[str, str], dict[str, str]]  # (source, key) → place, publisher
    catalogue: list[CatalogueRecord]
    classics: list[ClassicsRow]
    native_scripts: dict[str, str]
    romanised_cache: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    fixed: FixedCounts | None = None  # counted on the first build, shared by the next ones


def read_build_data(data_dir: Path, *, cache: Path | None = None) -> BuildData:
    """Everything a build reads; ``cache`` (a JSON file) keeps romanisations between runs."""
    shared = read_all(data_dir)
    udhr_texts: dict[str, list[str]] = defaultdict(list)
    for example in shared["udhr"]:
        udhr_texts[example.label].append(example.text)
    scripts = usual_scripts(udhr_texts)
    scripts["grc"] = "GREEK"
    return BuildData(
        shared=shared,
        record_fields=_imprints(data_dir),
        catalogue=read_catalogue_marc(data_dir),
        classics=read_classics(data_dir),
        native_scripts=scripts,
        romanised_cache=_read_cache(cache),
    )


def _read_cache(path: Path | None) -> dict[tuple[str, str], list[str]]:
    if path is None or not path.exists():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {(label, text): forms for label, text, forms in stored}


def write_cache(data: BuildData, path: Path) -> None:
    """Save the romanisations (the libraries are deterministic; this only saves time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [[label, text, forms] for (label, text), forms in sorted(data.romanised_cache.items())]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def _imprints(data_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Place and publisher of the British Library and FinGreyLit records, by record key."""
    fields: dict[tuple[str, str], dict[str, str]] = {}
    with (data_dir / "bl-books-genre" / "records.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            fields[("bl", row["BL record ID"].strip())] = {
                "place": (row.get("Place of publication") or "").strip(),
                "publisher": (row.get("Publisher") or "").strip(),
            }
    with (data_dir / "fingreylit" / "records.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            publisher = (row.get("gt_publisher") or "").replace("|", "; ").strip()
            fields.setdefault(
                ("fingreylit", (row.get("id") or "").strip()), {"publisher": publisher}
            )
    return fields


# -- romanisation ---------------------------------------------------------------------------------


def romaniser_for(label: str, script: str) -> list[Romaniser]:
    """The transliterations a language's texts are romanised with (scripts/measure_romanisers.py).

    The closest library to the catalogue's own romanisation for each language measured, among
    those whose licence lets what is derived from their output ship: Unidecode came first for
    Hebrew, Armenian and (after iuliia) Cyrillic but is GPL, so uroman, next within 0.02-0.07,
    romanises those. Chinese gets pinyin and, for older records, Wade-Giles.
    """
    by_label: dict[str, list[Romaniser]] = {
        "zho": [pinyin, wade_giles],
        "jpn": [cutlet_macrons],
        "kor": [anyascii],
        "rus": [iuliia_ala_lc],
    }
    if label in by_label:
        return by_label[label]
    if script == "DEVANAGARI":
        return [iast]
    return [uroman]


def romanised_forms(data: BuildData, text: str, label: str) -> list[str]:
    """The text in each of its language's romanisations, and each folded to plain letters."""
    romanisers = romaniser_for(label, data.native_scripts.get(label, ""))
    recipe = f"{label}:{','.join(r.__name__ for r in romanisers)}"
    cached = data.romanised_cache.get((recipe, text))
    if cached is not None:
        return cached
    forms: list[str] = []
    for romanise in romanisers:
        try:
            romanised = " ".join(romanise(text).split())
        except ImportError:
            # A missing library is not one text's failure: losing every romanised text of the
            # language would build a different model without a word.
            raise
        except Exception:  # noqa: BLE001 - a library that fails on one text loses that text
            continue
        if text_script(romanised) != "LATIN":
            continue
        forms.append(romanised)
        folded = fold_to_letters(romanised)
        if folded != romanised.lower():
            forms.append(folded)
    data.romanised_cache[(recipe, text)] = forms
    return forms


def is_romanisable(data: BuildData, label: str) -> bool:
    return data.native_scripts.get(label, "LATIN") not in ("LATIN", "")
