"""How close each transliteration library comes to the romanisation catalogues actually write.

    .venv/bin/python scripts/measure_romanisers.py [--data-dir ../shared/data]

Reads the catalogue-marc records that carry their title twice, romanised (``title``, as the
cataloguer wrote it: ALA-LC, pinyin, Hepburn...) and in the original script
(``title_original_script``), romanises the original with each candidate library and prints,
per language and library, the mean similarity to the cataloguer's romanisation: the F1 of
character trigrams of the two texts lower-cased, with diacritics and modifier letters (ʹ ʻ ʼ,
ligature halves) removed, and, separately, with them kept. The library chosen for a language
in ``glamml/ml/romanise.py`` is the best on the first figure (the letters), then on the second.
Needs the build dependencies: ``pip install -e ".[build]"``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.catalogue_corpora import read_catalogue_marc, text_script  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for record in read_catalogue_marc(args.data_dir):
        original = record.fields.get("title_original_script", "")
        if original and text_script(record.title) == "LATIN" and text_script(original) != "LATIN":
            pairs[record.label].append((original, record.title))
    print("| language | pairs | library | letters | with diacritics |")
    print("| --- | ---: | --- | ---: | ---: |")
    for label in sorted(pairs, key=lambda lab: -len(pairs[lab])):
        for name, romanise in CANDIDATES.get(label, CANDIDATES["*"]).items():
            letters, marks = [], []
            for original, romanised in pairs[label]:
                output = romanise(original)
                letters.append(similarity(fold_to_letters(output), fold_to_letters(romanised)))
                marks.append(similarity(output, romanised))
            n = len(pairs[label])
            print(f"| {label} | {n} | {name} | {sum(letters) / n:.3f} | {sum(marks) / n:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
