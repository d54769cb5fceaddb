"""How close each transliteration library comes to the romanisation catalogues actually write.

    .venv/bin/python scripts/measure_romanisers.py [--data-dir ../shared/data]

Reads the catalogue-marc records that carry their title twice, romanised (``title``, as the
cataloguer wrote it: ALA-LC, pinyin, Hepburn...) and in the original script
(``title_original_script``), romanises the original with each candidate library and prints,
per language and library, the mean similarity to the cataloguer's romanisation: the F1 of
character trigrams of the two texts lower-cased, with diacritics and modifier letters (ʹ ʻ ʼ,
ligature halves) removed, and, separately, with them kept. The library chosen for a language
in ``glamml/ml/romanise.py`` is the best on the first figure (the letters), then on the second,
among the libraries whose licence lets derived counts ship (not Unidecode, GPL).

``--leave-one-source-out`` checks that this choice does not lean on the benchmark's records:
for each group of sources that ``bench/langid_loso.py`` leaves out, it chooses again from the
other sources' pairs alone and prints where that choice differs from the shipped one.
Needs the build dependencies: ``pip install -e ".[build]"``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.catalogue_corpora import (  # noqa: E402
    CatalogueRecord,
    loso_groups,
    read_catalogue_marc,
    text_script,
)
from glamml.ml.romanise import CANDIDATES, fold_to_letters  # noqa: E402


def trigrams(text: str) -> Counter[str]:
    padded = f"  {' '.join(text.lower().split())}  "
    return Counter(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(candidate: str, reference: str) -> float:
    a, b = trigrams(candidate), trigrams(reference)
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


# Unidecode is GPL: measured, but what it romanises could not ship.
NOT_SHIPPABLE = frozenset({"unidecode"})


@dataclass(frozen=True)
class Pair:
    label: str
    source: str
    original: str
    romanised: str


def read_pairs(records: list[CatalogueRecord]) -> list[Pair]:
    """Records with a romanised title and the same title in its original script."""
    pairs = []
    for record in records:
        original = record.fields.get("title_original_script", "")
        if original and text_script(record.title) == "LATIN" and text_script(original) != "LATIN":
            pairs.append(Pair(record.label, record.source, original, record.title))
    return pairs


def score_pairs(pairs: list[Pair]) -> dict[str, list[tuple[float, float]]]:
    """Per library name, per pair (in order; absent for another language's candidates)."""
    scores: dict[str, list[tuple[float, float]]] = {}
    for index, pair in enumerate(pairs):
        for name, romanise in CANDIDATES.get(pair.label, CANDIDATES["*"]).items():
            output = romanise(pair.original)
            letters = similarity(fold_to_letters(output), fold_to_letters(pair.romanised))
            marks = similarity(output, pair.romanised)
            scores.setdefault(f"{pair.label}:{name}", [(0.0, 0.0)] * len(pairs))[index] = (
                letters,
                marks,
            )
    return scores


def means(
    pairs: list[Pair], scores: dict[str, list[tuple[float, float]]], keep: set[int]
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Language → library → (mean letters, mean with diacritics, pairs) over ``keep``."""
    table: dict[str, dict[str, tuple[float, float, int]]] = defaultdict(dict)
    for key, values in scores.items():
        label, name = key.split(":", 1)
        mine = [values[i] for i in keep if pairs[i].label == label]
        if mine:
            n = len(mine)
            table[label][name] = (sum(v[0] for v in mine) / n, sum(v[1] for v in mine) / n, n)
    return table


def best(libraries: dict[str, tuple[float, float, int]]) -> str:
    shippable = {name: v for name, v in libraries.items() if name not in NOT_SHIPPABLE}
    return max(sorted(shippable), key=lambda name: shippable[name][:2])


def print_table(table: dict[str, dict[str, tuple[float, float, int]]]) -> None:
    print("| language | pairs | library | letters | with diacritics |")
    print("| --- | ---: | --- | ---: | ---: |")
    for label in sorted(table, key=lambda lab: -next(iter(table[lab].values()))[2]):
        for name, (letters, marks, n) in table[label].items():
            print(f"| {label} | {n} | {name} | {letters:.3f} | {marks:.3f} |")


def print_leave_out(
    pairs: list[Pair], scores: dict[str, list[tuple[float, float]]], group_of: dict[str, str]
) -> None:
    everything = set(range(len(pairs)))
    chosen = {label: best(libs) for label, libs in means(pairs, scores, everything).items()}
    print("From every source: " + ", ".join(f"{k} {v}" for k, v in sorted(chosen.items())))
    print()
    print("| left out | languages with pairs elsewhere | choice changed |")
    print("| --- | ---: | --- |")
    for group in sorted(set(group_of.values())):
        keep = {i for i, pair in enumerate(pairs) if group_of[pair.source] != group}
        table = means(pairs, scores, keep)
        changed = [
            f"{label}: {chosen[label]} → {best(libs)}"
            for label, libs in sorted(table.items())
            if best(libs) != chosen[label]
        ]
        print(f"| {group} | {len(table)} | {'; '.join(changed) or 'none'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--leave-one-source-out", action="store_true")
    args = parser.parse_args(argv)
    records = read_catalogue_marc(args.data_dir)
    pairs = read_pairs(records)
    scores = score_pairs(pairs)
    if args.leave_one_source_out:
        print_leave_out(pairs, scores, loso_groups(records))
    else:
        print_table(means(pairs, scores, set(range(len(pairs)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
