"""Choose the per-collection calibration prior on validation sources, then report on a test one.

Usage: nice -n 10 .venv/bin/python bench/calibration_prior.py [--weights 1,2,5,10,20,50]
                                                               [--splits 10] [--rescore]

A collection's calibration (``glamml.ml.collection_calibration``) shrinks each band's evidence
towards a conservative prior ratio by ``PRIOR_WEIGHT`` pseudo-answers. How heavy that prior
should be is a setting, so it is chosen here on **validation sources** and reported on a
**test source** that played no part in the choice:

- validation: every catalogue-marc group that the shipped model's build read (solrmarc,
  pymarc_basics, lc-marcedit, marc-to-argot and the small sources less marc-perl), each read
  whole by a model rebuilt without that group (``glamml.ml.langid_build.build_base_model``,
  settings included), so every raw confidence is that of a model that never saw the source,
  as in a new institution. The scores are cached in ``var/bench/calibration_prior_scores.json``
  (``--rescore`` builds them again; five builds, several minutes on a busy machine).
- test: marc4j and marc-perl, which no model counts (their licences), read by the shipped
  model, as ``bench/collection_calibration.py`` reads them.

For each candidate weight and each source, a collection is simulated as the app sees one: a
hash draws an evidence part of 50, 150 or 300 records (at most half of the source; the app
measures up to 300 imported values per collection), its (raw confidence, right) pairs fill
the bands, and the rest is the report part whose ECE (15 bins) is measured, ``--splits``
times with different salts. A weight's validation score is the mean ECE over sources (each
counts the same), evidence sizes and splits. The chosen weight is the heaviest whose score is
within 0.001 of the best (a heavier prior is the safer side when they tie). The prior ratio
stays the app's (0.9): what a collection with no evidence is promised is a policy, not a fit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glamml.ml.catalogue_corpora import (  # noqa: E402
    CatalogueRecord,
    loso_groups,
    read_catalogue_marc,
)
from glamml.ml.collection_calibration import (  # noqa: E402
    PRIOR_RATIO,
    PRIOR_WEIGHT,
    CollectionCalibrator,
    count_evidence,
)
from glamml.ml.evaluation import expected_calibration_error  # noqa: E402
from glamml.ml.hashing import stable_fraction  # noqa: E402
from glamml.ml.records import RecordLanguageModel  # noqa: E402

DATA_DIR = ROOT.parent / "shared" / "data"
SCORES = ROOT / "var" / "bench" / "calibration_prior_scores.json"
# Never in any model (licences): the test source.
TEST_SOURCES = {"marc4j", "marc-perl"}
EVIDENCE_SIZES = (50, 150, 300)
TIE = 0.001

Scored = list[tuple[float, bool]]  # (raw confidence, right) per record, in record order


def fields(record: CatalogueRecord) -> dict[str, str]:
    return {name: value for name, value in record.fields.items() if value}


def score(model: RecordLanguageModel, records: list[CatalogueRecord]) -> Scored:
    answers = model.predict_records([fields(r) for r in records])
    return [(float(c), label == r.label) for (label, c), r in zip(answers, records, strict=True)]


def validation_scores(records: list[CatalogueRecord], rescore: bool) -> dict[str, dict]:
    """Each validation group's records scored by a model built without that group."""
    if SCORES.exists() and not rescore:
        return json.loads(SCORES.read_text())
    from glamml.ml.langid_build import build_base_model, read_build_data

    group_of = loso_groups(records)
    by_group: dict[str, list[CatalogueRecord]] = defaultdict(list)
    for record in records:
        if record.source not in TEST_SOURCES:
            by_group[group_of[record.source]].append(record)
    data = read_build_data(DATA_DIR, cache=ROOT / "var" / "cache" / "romanised.json")
    out = {}
    for group, members in sorted(by_group.items(), key=lambda kv: -len(kv[1])):
        sources = {r.source for r in members}
        print(f"building without {group} ({len(members)} records) ...", flush=True)
        model = build_base_model(data, exclude_sources=sources, verbose=False)
        pairs = score(model, members)
        out[group] = {"keys": [r.key for r in members], "scored": pairs}
        print(f"  accuracy {np.mean([ok for _, ok in pairs]):.3f}", flush=True)
    SCORES.parent.mkdir(parents=True, exist_ok=True)
    SCORES.write_text(json.dumps(out))
    return out


def simulate(
    keys: list[str], scored: Scored, weight: float, size: int, split: int
) -> tuple[float, float]:
    """ECE of the report part, calibrated by an evidence part of ``size`` records, and raw."""
    order = sorted(range(len(keys)), key=lambda i: stable_fraction(f"prior:{split}:{keys[i]}"))
    chosen = set(order[: min(size, len(keys) // 2)])
    evidence = [scored[i] for i in chosen]
    report = [scored[i] for i in range(len(keys)) if i not in chosen]
    calibrator = CollectionCalibrator(count_evidence(evidence), PRIOR_RATIO, prior_weight=weight)
    truth = [ok for _, ok in report]
    calibrated = [calibrator.calibrate(c) for c, _ in report]
    return (
        expected_calibration_error(truth, calibrated),
        expected_calibration_error(truth, [c for c, _ in report]),
    )


def table(
    groups: dict[str, tuple[list[str], Scored]], weights: list[float], splits: int
) -> dict[float, dict[str, float]]:
    """Mean ECE per weight and group (over evidence sizes and splits), and 'raw'."""
    results: dict[float, dict[str, float]] = {}
    raw: dict[str, float] = {}
    for weight in weights:
        results[weight] = {}
        for group, (keys, scored) in groups.items():
            runs = [
                simulate(keys, scored, weight, size, split)
                for size in EVIDENCE_SIZES
                for split in range(splits)
            ]
            results[weight][group] = float(np.mean([c for c, _ in runs]))
            raw[group] = float(np.mean([r for _, r in runs]))
    results[0.0] = raw  # 0 stands for "as the model gives it" in the printed table
    return results


def print_table(title: str, results: dict[float, dict[str, float]], groups: list[str]) -> None:
    print(f"\n{title}\n")
    print("| prior weight | " + " | ".join(groups) + " | mean |")
    print("| ---: | " + " | ".join("---:" for _ in groups) + " | ---: |")
    for weight, by_group in results.items():
        name = "raw (no calibration)" if weight == 0.0 else f"{weight:g}"
        cells = [f"{by_group[g]:.3f}" for g in groups]
        print(f"| {name} | " + " | ".join(cells) + f" | {np.mean(list(by_group.values())):.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="1,2,3,5,10,20,50")
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--rescore", action="store_true")
    args = parser.parse_args(argv)
    weights = [float(w) for w in args.weights.split(",")]
    records = read_catalogue_marc(DATA_DIR)

    validation = validation_scores(records, args.rescore)
    groups = {g: (v["keys"], [tuple(p) for p in v["scored"]]) for g, v in validation.items()}
    sizes = ", ".join(f"{g} {len(k)}" for g, (k, _) in groups.items())
    print(f"validation: {sizes}; evidence {EVIDENCE_SIZES} (at most half); {args.splits} splits")
    results = table(groups, weights, args.splits)  # type: ignore[arg-type]
    print_table("Validation ECE (mean over evidence sizes and splits)", results, list(groups))
    means = {w: float(np.mean(list(r.values()))) for w, r in results.items() if w != 0.0}
    best = min(means.values())
    chosen = max(w for w, m in means.items() if m <= best + TIE)
    print("\nmean validation ECE: " + ", ".join(f"{w:g} {m:.4f}" for w, m in means.items()))
    print(f"chosen on validation: prior weight {chosen:g} (mean ECE {means[chosen]:.4f})")

    test_records = [r for r in records if r.source in TEST_SOURCES]
    test = {
        "marc4j + marc-perl": (
            [r.key for r in test_records],
            score(RecordLanguageModel.base(), test_records),
        )
    }
    shown = sorted({chosen, PRIOR_WEIGHT})
    test_results = table(test, shown, args.splits)  # type: ignore[arg-type]
    print_table(
        f"Test (shipped model; weights {', '.join(f'{w:g}' for w in shown)} only)",
        test_results,
        list(test),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
