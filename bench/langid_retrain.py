"""Benchmark: adding labelled examples to the base language model, merge against full re-sort.

Usage: nice -n 10 .venv/bin/python bench/langid_retrain.py [--sizes 30,300,3000] [--repeat 3]

Each retraining (``LanguageIdentifier.fit_incremental`` on the shipped base model, as training
a collection's language field does) adds the examples' n-gram counts to the base model's
1.1 million (1.8 million before the compact profiles). The counts are added either by
slotting the sorted new counts into the already sorted old ones (``_merged``, what the model
does) or by sorting everything again (``_merged_by_sorting``, what it did before); both give
the same bytes, which this script checks. The examples are the catalogue titles of the test
fixtures, repeated to each size.
Prints a Markdown table of the CPU time of the count step and of the whole retraining
(median of ``--repeat``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path
from unittest import mock

from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid import profiles as profiles_module

FIXTURE = (
    Path(__file__).resolve().parent.parent / "tests" / "ml" / "fixtures" / "catalogue_titles.csv"
)


def _examples(size: int) -> tuple[list[str], list[str]]:
    with FIXTURE.open(newline="", encoding="utf-8") as handle:
        rows = [(row["text"], row["label"]) for row in csv.DictReader(handle)]
    picked = [rows[i % len(rows)] for i in range(size)]
    return [f"{text} {i}" for i, (text, _) in enumerate(picked)], [label for _, label in picked]


def _time(base: LanguageIdentifier, texts: list[str], labels: list[str], merge: object):
    timed = {"count": 0.0}
    real = merge

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.process_time()
        result = real(*args, **kwargs)  # type: ignore[operator]
        timed["count"] += time.process_time() - start
        return result

    with mock.patch.object(profiles_module, "_merged", counted):
        start = time.process_time()
        model = base.fit_incremental(texts, labels)
        whole = time.process_time() - start
    return timed["count"], whole, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,300,3000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = LanguageIdentifier.base()
    fast, slow = profiles_module._merged, profiles_module._merged_by_sorting
    print(f"base model: {base._counts.nnz:,} counts, {len(base.classes_)} classes\n")
    print(
        "| examples | count step, re-sort | count step, merge "
        "| retraining, re-sort | retraining, merge |"
    )
    print("| --- | --- | --- | --- | --- |")
    for size in (int(s) for s in args.sizes.split(",")):
        texts, labels = _examples(size)
        runs: dict[str, list[tuple[float, float]]] = {"slow": [], "fast": []}
        for _ in range(args.repeat):
            for name, merge in (("slow", slow), ("fast", fast)):
                count, whole, model = _time(base, texts, labels, merge)
                runs[name].append((count, whole))
                counts = model._counts
                if name == "slow":
                    expected = (
                        counts.data.tobytes(),
                        counts.indices.tobytes(),
                        model._keys.tobytes(),
                    )
                elif expected != (
                    counts.data.tobytes(),
                    counts.indices.tobytes(),
                    model._keys.tobytes(),
                ):
                    raise SystemExit(f"the merge and the re-sort differ at {size} examples")
        med = {n: [statistics.median(r[i] for r in runs[n]) for i in (0, 1)] for n in runs}
        print(
            f"| {size:,} | {med['slow'][0]:.2f} s | {med['fast'][0]:.2f} s "
            f"| {med['slow'][1]:.2f} s | {med['fast'][1]:.2f} s |"
        )
    print(f"\nsame bytes both ways: yes; CPU seconds (time.process_time), median of {args.repeat}")


if __name__ == "__main__":
    main()
