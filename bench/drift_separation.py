"""Benchmark: do the drift scores tell new data from more of the same?

Usage: .venv/bin/python bench/drift_separation.py [--resamples 200]

A genre model (glamml.ml.textclf) is trained on 240 English British Library titles and its
reference taken as monitoring takes it (its predictions on 60 held-out English titles; text
length and script of all 300; trigrams of the 240). Then each drift score is computed, as a
snapshot computes it, for samples of records it was not trained on: more English titles from
the same catalogue, BL titles in other languages, Finnish grey literature, Japanese titles.
Last, the false-alarm rate of the alert rule (distance at or above 0.2, p below 0.001, at least
50 records) on random samples of the fresh English titles.

Reads only files in the repository (data/label-samples, data/sample, tests/fixtures); no
database. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import platform
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glamml.ml.drift import (  # noqa: E402
    DEFAULT_DRIFT_THRESHOLD,
    confidence_histogram,
    distribution_shift,
    input_stats,
    reference_profile,
    trigram_vocabulary,
    unseen_shares,
)
from glamml.ml.textclf import TextClassifier  # noqa: E402

MIN_RECORDS = 50
TRAIN, HELD_OUT = 240, 60
SCORES = ("labels", "confidence", "length", "script", "unseen")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ordered(items: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(items, key=lambda r: hashlib.sha256(r["identifier"].encode()).hexdigest())


def scores(model, reference, unseen, texts: list[str]) -> dict[str, object]:
    predictions = model.predict(texts)
    live = input_stats(texts, unseen=unseen)
    live["labels"] = dict(Counter(label for label, _ in predictions))
    live["confidence"] = confidence_histogram(c for _, c in predictions)
    pairs = {
        "labels": (live["labels"], reference["labels"]),
        "confidence": (live["confidence"], reference["confidence"]),
        "length": (live["length"], reference["length"]),
        "script": (live["scripts"], reference["scripts"]),
        "unseen": (live["unseen"], reference["unseen"]),
    }
    result: dict[str, object] = {name: distribution_shift(*pair) for name, pair in pairs.items()}
    result["unseen_mean"] = live["unseen_sum"] / len(texts)
    return result


def alerts(result: dict[str, object]) -> list[str]:
    return [
        name
        for name in SCORES
        if result[name] is not None
        and result[name].crosses(threshold=DEFAULT_DRIFT_THRESHOLD, min_records=MIN_RECORDS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args()

    bl = rows(ROOT / "data" / "label-samples" / "bl-genre.csv")
    english = ordered([r for r in bl if r["language"] == "eng"])
    train, held_out, fresh = (
        english[:TRAIN],
        english[TRAIN : TRAIN + HELD_OUT],
        english[TRAIN + HELD_OUT :],
    )
    model = TextClassifier().fit([r["title"] for r in train], [r["genre"] for r in train])
    vocabulary = trigram_vocabulary(r["title"] for r in train)

    def unseen(texts):
        return unseen_shares(texts, vocabulary)

    reference = reference_profile(
        train_texts=[r["title"] for r in train],
        train_labels=[r["genre"] for r in train],
        test_texts=[r["title"] for r in held_out],
        test_predictions=model.predict([r["title"] for r in held_out]),
        unseen=unseen,
    )
    reference_unseen = reference["unseen_sum"] / reference["unseen_n"]

    samples = [("more English BL titles", [r["title"] for r in fresh])]
    for code, name in (("nld", "Dutch"), ("swe", "Swedish"), ("dan", "Danish"), ("deu", "German")):
        samples.append((f"BL titles in {name}", [r["title"] for r in bl if r["language"] == code]))
    demo = rows(ROOT / "data" / "sample" / "records.csv")
    samples.append(
        (
            "FinGreyLit titles in Finnish",
            [r["title"] for r in demo if r["source"] == "FinGreyLit" and r["language"] == "fin"],
        )
    )
    japanese = rows(ROOT / "tests" / "fixtures" / "japanese_titles.csv")
    samples.append(("Japanese titles (880, original script)", [r["title"] for r in japanese]))

    print(
        f"Reference: {TRAIN} English BL titles trained on, {HELD_OUT} held out; mean share of "
        f"held-out trigrams never seen in training {reference_unseen:.2f}.\n"
    )
    print("| sample | n | " + " | ".join(SCORES) + " | mean unseen | alerts |")
    print("| --- | ---: | " + " | ".join("---:" for _ in SCORES) + " | ---: | --- |")
    for name, texts in samples:
        result = scores(model, reference, unseen, texts)
        cells = []
        for score in SCORES:
            shift = result[score]
            cells.append("—" if shift is None else f"{shift.distance:.2f} (p {shift.p_value:.0e})")
        crossed = ", ".join(alerts(result)) or "none"
        print(
            f"| {name} | {len(texts)} | "
            + " | ".join(cells)
            + f" | {result['unseen_mean']:.2f} | {crossed} |"
        )

    rng = np.random.default_rng(0)
    fresh_titles = [r["title"] for r in fresh]
    print(
        f"\nFalse alarms on random samples of the {len(fresh_titles)} fresh English titles "
        f"({args.resamples} samples per size):\n"
    )
    print("| sample size | samples with any alert | largest distance seen |")
    print("| ---: | ---: | ---: |")
    for size in (50, 100, 200):
        alarmed, largest = 0, 0.0
        for _ in range(args.resamples):
            pick = rng.choice(len(fresh_titles), size=size, replace=False)
            result = scores(model, reference, unseen, [fresh_titles[i] for i in pick])
            alarmed += bool(alerts(result))
            largest = max(largest, *(result[s].distance for s in SCORES if result[s] is not None))
        print(f"| {size} | {alarmed} of {args.resamples} | {largest:.2f} |")
    print(f"\n{platform.machine()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
