"""Benchmark: per-collection calibration on a catalogue the shipped language model never read.

Usage: nice -n 10 .venv/bin/python bench/collection_calibration.py [--splits 20]
                                                                     [--prior-weight W]

Data: the records of ``../shared/data/catalogue-marc`` from the sources the shipped base model's
build did not read (its build information lists the sources it did; marc4j and marc-perl are
kept out of every model by their licences), read whole as the app reads a record.

As the app does for a collection it has never seen (``catalogue/services/calibration.py``): the
collection's imported values are evidence. The records are divided by a hash into an evidence
half, whose (raw confidence, right) pairs fill the collection's calibration bands, and a report
half, on which three readings of the model's confidence are scored: as the model gives it
(raw), as a new collection with no evidence reads it (the default GLAMML_NEW_COLLECTION_RATIO,
0.9), and calibrated by the evidence half. Nothing is fitted or chosen here: the bands, the
prior weight and the prior ratio are the app's. The division is repeated with ``--splits``
different hash salts, and the table gives the mean and the range over them. ``--prior-weight``
reads the evidence with another prior weight than the app's, to set a weight chosen elsewhere
(``bench/calibration_prior.py``, on other sources) beside the app's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glamml.ml.catalogue_corpora import read_catalogue_marc  # noqa: E402
from glamml.ml.collection_calibration import (  # noqa: E402
    PRIOR_RATIO,
    PRIOR_WEIGHT,
    CollectionCalibrator,
    count_evidence,
)
from glamml.ml.evaluation import coverage_at_precision, expected_calibration_error  # noqa: E402
from glamml.ml.hashing import stable_fraction  # noqa: E402
from glamml.ml.records import RecordLanguageModel  # noqa: E402

DATA_DIR = ROOT.parent / "shared" / "data"
THRESHOLD = 0.9  # the app's default threshold


def scores(right: list[bool], confidence: list[float]) -> dict[str, float]:
    applied = [r for r, c in zip(right, confidence, strict=True) if c >= THRESHOLD]
    return {
        "ece": expected_calibration_error(right, confidence),
        "cov99": coverage_at_precision(right, confidence, 0.99)[0],
        "applied": len(applied) / len(right),
        "precision": sum(applied) / len(applied) if applied else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--prior-weight", type=float, default=PRIOR_WEIGHT)
    args = parser.parse_args(argv)
    model = RecordLanguageModel.base()
    read = set(model.identifier.info.get("build", {}).get("sources", {}).get("catalogue-marc", []))
    records = [r for r in read_catalogue_marc(DATA_DIR) if r.source not in read]
    answers = model.predict_records([{k: v for k, v in r.fields.items() if v} for r in records])
    right = [label == r.label for (label, _), r in zip(answers, records, strict=True)]
    raw = [confidence for _, confidence in answers]
    sources = sorted({r.source for r in records})
    print(f"records: {len(records)} from {', '.join(sources)} (never read by the shipped model)")
    print(f"accuracy (whole record): {np.mean(right):.3f}\n")
    rows: dict[str, list[dict[str, float]]] = {"raw": [], "new": [], "calibrated": []}
    evidence_sizes = []
    for split in range(args.splits):
        evidence = [
            stable_fraction(f"collection-calibration:{split}:{r.key}") < 0.5 for r in records
        ]
        pairs = [(c, ok) for c, ok, e in zip(raw, right, evidence, strict=True) if e]
        evidence_sizes.append(len(pairs))
        report = [i for i, e in enumerate(evidence) if not e]
        truth = [right[i] for i in report]
        readings = {
            "raw": CollectionCalibrator.conservative(1.0),
            "new": CollectionCalibrator.conservative(PRIOR_RATIO),
            "calibrated": CollectionCalibrator(
                count_evidence(pairs), PRIOR_RATIO, prior_weight=args.prior_weight
            ),
        }
        for name, calibrator in readings.items():
            rows[name].append(scores(truth, [calibrator.calibrate(raw[i]) for i in report]))
    print(
        f"{args.splits} divisions; evidence half {min(evidence_sizes)}-{max(evidence_sizes)} "
        f"records; threshold {THRESHOLD}; prior weight {args.prior_weight:g}\n"
    )
    print(
        "| confidence read | ECE | coverage at 99% precision | applied at 0.9 "
        "| precision of applied |"
    )
    print("| --- | --- | --- | --- | --- |")
    names = {
        "raw": "as the model gives it",
        "new": f"a new collection (ratio {PRIOR_RATIO}, no evidence)",
        "calibrated": "calibrated by the evidence half",
    }
    for name, runs in rows.items():
        cells = []
        for key in ("ece", "cov99", "applied", "precision"):
            values = np.array([run[key] for run in runs])
            values = values[~np.isnan(values)]
            cells.append(
                f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})"
                if len(values)
                else "-"
            )
        print(f"| {names[name]} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
