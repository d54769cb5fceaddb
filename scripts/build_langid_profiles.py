"""Build the shipped language-identification profiles from the shared data sets.

    .venv/bin/python scripts/build_langid_profiles.py [--data-dir ../shared/data]

Reads the four sources in ``../shared/data`` (British Library books, FinGreyLit, Tatoeba, UDHR),
splits each by source with a hash of the record key, builds per-language character n-gram count
profiles from the training parts only, fits the calibration temperature by cross-fitting (each
catalogue or Tatoeba training example is scored by a model built without it), evaluates on the
held-out parts and writes:

- ``glamml/ml/data/langid_profiles.npz`` and its ``.sha256`` (committed; deterministic),
- ``glamml/ml/data/langid_eval_sample.csv``, a small held-out sample the app can evaluate the
  base model on (committed),
- ``var/heldout/<source>.csv`` (``text,label``) and ``var/heldout/metrics.json`` (not committed).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.artefacts import write_checksum_file  # noqa: E402
from glamml.ml.calibration import Scores, fit_scaling  # noqa: E402
from glamml.ml.corpora import (  # noqa: E402
    SOURCES,
    Corpus,
    is_evaluation_text,
    read_all,
    write_heldout,
)
from glamml.ml.evaluation import evaluate  # noqa: E402
from glamml.ml.examples import Example  # noqa: E402
from glamml.ml.hashing import stable_fraction  # noqa: E402
from glamml.ml.langid import BASE_MODEL_PATH, Hyperparameters, LanguageIdentifier  # noqa: E402
from glamml.ml.langid.artefact import EVAL_SAMPLE_PATH  # noqa: E402

CATALOGUE_SOURCES = ("bl", "fingreylit")
# Sources whose out-of-fold scores the calibration is fitted on: short texts, like titles. Each
# counts equally (see cross_fitted_scaling); Tatoeba keeps the fit from following two catalogues.
CALIBRATION_SOURCES = ("bl", "fingreylit", "tatoeba")
# Languages with less training text than this are left out of the model.
MIN_TRAIN_CHARS = 2000
# The base prior is worth this many in-domain examples (each adds one pseudo-count).
PRIOR_TOTAL = 1000.0
# The prior counts once, as in Bayes' rule. Fitted, its weight comes out near 1.9 (a slightly
# lower log loss): that leans on the language mix of the two catalogues trained on, which the
# next institution will not share ("Histoire de France" would be English). See docs/langid.md.
PRIOR_WEIGHT = 1.0
EVAL_SAMPLE_SIZES = {"bl": 150, "fingreylit": 150, "tatoeba": 50, "udhr": 100}


def relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def training_examples(sources: dict[str, Corpus]) -> Corpus:
    examples = []
    for source in SOURCES:
        for example in sources[source]:
            if example.split != "train":
                continue
            # A title of a multilingual book may be in any of its languages.
            if source == "bl" and example.extra.get("n_languages", "1") != "1":
                continue
            examples.append(example)
    chars: Counter[str] = Counter()
    for example in examples:
        chars[example.label] += len(example.text)
    return [example for example in examples if chars[example.label] >= MIN_TRAIN_CHARS]


def build(
    examples: Corpus, *, catalogue_weight: float, top_n: int, hyper: Hyperparameters
) -> LanguageIdentifier:
    return LanguageIdentifier.from_examples(
        [example.text for example in examples],
        [example.label for example in examples],
        weights=[catalogue_weight if e.source in CATALOGUE_SOURCES else 1.0 for e in examples],
        top_n=top_n,
        prior_total=PRIOR_TOTAL,
        hyper=hyper,
    )


def cross_fitted_scaling(
    examples: Corpus,
    *,
    folds: int,
    catalogue_weight: float,
    top_n: int,
    hyper: Hyperparameters,
) -> tuple[tuple[float, float, float, float], dict[str, int]]:
    """Fit temperature, length exponent and lapse on out-of-fold scores (prior weight fixed).

    Each calibration source's training examples are dealt into ``folds`` folds by hash and
    scored by a model built without their fold. Every source counts equally in the fitted log
    loss, so the catalogue titles weigh as much as the far more numerous Tatoeba sentences.
    """
    parts: list[tuple[Scores, np.ndarray]] = []
    part_sources: list[str] = []
    for fold in range(folds):

        def in_fold(example: Example[str], fold: int = fold) -> bool:
            return (
                example.source in CALIBRATION_SOURCES
                and int(stable_fraction(f"fold{example.source}:{example.key}") * folds) == fold
            )

        held = [example for example in examples if in_fold(example)]
        rest = [example for example in examples if not in_fold(example)]
        model = build(rest, catalogue_weight=catalogue_weight, top_n=top_n, hyper=hyper)
        for source in CALIBRATION_SOURCES:
            mine = [e for e in held if e.source == source and e.label in set(model.classes_)]
            if not mine:
                continue
            parts.append(model.calibration_scores([e.text for e in mine], [e.label for e in mine]))
            part_sources.append(source)
        print(f"  fold {fold + 1}/{folds}: {len(held)} out-of-fold examples scored")
    n_scored = Counter()
    for source, (_, targets) in zip(part_sources, parts, strict=True):
        n_scored[source] += len(targets)
    weights = [
        len(targets) / n_scored[source]
        for source, (_, targets) in zip(part_sources, parts, strict=True)
    ]
    scaling = fit_scaling(
        parts,
        part_weights=weights,
        start=(1.0, hyper.length_exponent, PRIOR_WEIGHT),
        prior_weight=PRIOR_WEIGHT,
    )
    return scaling, dict(n_scored)


def evaluate_source(model: LanguageIdentifier, examples: Corpus) -> dict:
    texts = [example.text for example in examples]
    truth = [example.label for example in examples]
    best = model.predict(texts)
    metrics = evaluate(truth, [label for label, _ in best], [conf for _, conf in best])
    # Plain multinomial naive Bayes posterior: what calibration starts from.
    raw = model.with_hyperparameters(
        temperature=1.0, length_exponent=0.0, prior_weight=1.0, lapse=0.0
    ).predict(texts)
    metrics["ece_uncalibrated"] = evaluate(
        truth, [label for label, _ in raw], [conf for _, conf in raw]
    )["ece"]
    unknown = sorted({label for label in truth if label not in set(model.classes_)})
    metrics["labels_unknown_to_model"] = unknown
    return metrics


def eval_sample(heldout: dict[str, Corpus]) -> list[tuple[str, str, str]]:
    rows = []
    for source in SOURCES:
        ranked = sorted(
            heldout[source], key=lambda example: stable_fraction(f"sample{source}:{example.key}")
        )
        rows += [
            (example.text, example.label, source) for example in ranked[: EVAL_SAMPLE_SIZES[source]]
        ]
    return rows


def measure_speed(model: LanguageIdentifier, texts: list[str], n: int = 10_000) -> float:
    batch = (texts * (n // max(len(texts), 1) + 1))[:n]
    start = time.perf_counter()
    model.predict_top_k(batch, k=3)
    return n / (time.perf_counter() - start)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=BASE_MODEL_PATH)
    parser.add_argument("--heldout-dir", type=Path, default=REPO / "var" / "heldout")
    parser.add_argument("--top-n", type=int, default=6000, help="n-grams kept per language")
    parser.add_argument("--catalogue-weight", type=float, default=10.0)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--no-write", action="store_true", help="evaluate only; leave the shipped files alone"
    )
    return parser.parse_args(argv)


def build_info(train: Corpus, args: argparse.Namespace, n_calibration: dict[str, int]) -> dict:
    """What the model file records about how it was built."""
    per_source = defaultdict(Counter)
    for example in train:
        per_source[example.source][example.label] += 1
    return {
        "build": {
            "script": "scripts/build_langid_profiles.py",
            "sources": {
                source: {"n_train": sum(per_source[source].values()), "labels": len(labels)}
                for source, labels in per_source.items()
            },
            "weights": {
                source: args.catalogue_weight if source in CATALOGUE_SOURCES else 1.0
                for source in SOURCES
            },
            "top_n": args.top_n,
            "prior_total": PRIOR_TOTAL,
            "min_train_chars": MIN_TRAIN_CHARS,
            "calibration": {
                "method": (
                    "temperature, length exponent and lapse fitted on out-of-fold scores, "
                    "each source weighted equally; prior weight fixed"
                ),
                "folds": args.folds,
                "n": n_calibration,
                "sources": list(CALIBRATION_SOURCES),
            },
            "split": "sha256 of source and record key; see glamml/ml/corpora.py",
        }
    }


def calibrated_model(train: Corpus, args: argparse.Namespace) -> LanguageIdentifier:
    """The profiles of the training parts, with the scaling fitted by cross-fitting."""
    hyper = Hyperparameters()
    print(f"cross-fitting temperature, length exponent and prior weight over {args.folds} folds")
    (temperature, exponent, prior_weight, lapse), n_calibration = cross_fitted_scaling(
        train,
        folds=args.folds,
        catalogue_weight=args.catalogue_weight,
        top_n=args.top_n,
        hyper=hyper,
    )
    model = build(train, catalogue_weight=args.catalogue_weight, top_n=args.top_n, hyper=hyper)
    model = model.with_hyperparameters(
        temperature=temperature, length_exponent=exponent, prior_weight=prior_weight, lapse=lapse
    )
    model.info = build_info(train, args, n_calibration)
    print(f"model: {model!r}")
    print(
        f"calibration: T={temperature:.3f} length exponent={exponent:.3f} "
        f"prior weight={prior_weight:.3f} lapse={lapse:.4f} on {n_calibration}"
    )
    return model


def measure(model: LanguageIdentifier, heldout: dict[str, Corpus]) -> dict:
    """Held-out metrics per source and the speed on British Library titles, printed too."""
    metrics: dict = {"params": model.params(), "sources": {}}
    metrics["params"].pop("classes")
    for source in SOURCES:
        result = evaluate_source(model, heldout[source])
        metrics["sources"][source] = result
        print(
            f"  {source:<11} n={result['n']:>5} accuracy={result['accuracy']:.3f} "
            f"macro_f1={result['macro_f1']:.3f} ece={result['ece']:.3f} "
            f"(uncalibrated {result['ece_uncalibrated']:.3f}) "
            f"coverage@0.95={result['coverage_at_precision']['0.95']:.3f} "
            f"coverage@0.99={result['coverage_at_precision']['0.99']:.3f}"
        )
        if result["labels_unknown_to_model"]:
            print(f"    labels the model cannot output: {result['labels_unknown_to_model']}")
    titles = [example.text for example in heldout["bl"]]
    metrics["speed_texts_per_second"] = measure_speed(model, titles)
    print(f"speed: {metrics['speed_texts_per_second']:.0f} BL titles/second (top-3)")
    return metrics


def write_shipped(
    model: LanguageIdentifier, heldout: dict[str, Corpus], output: Path, metrics: dict
) -> None:
    """The model file, its checksum and the evaluation sample, beside each other."""
    digest = model.save(output)
    write_checksum_file(f"{output}.sha256", digest, output.name)
    size = output.stat().st_size
    metrics["model_file_bytes"] = size
    print(f"wrote {relative(output)} ({size / 1e6:.2f} MB, sha256 {digest[:12]}...)")
    sample = eval_sample(heldout)
    sample_path = output.parent / EVAL_SAMPLE_PATH.name
    with sample_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text", "label", "source"])
        writer.writerows(sample)
    print(f"wrote {relative(sample_path)} ({len(sample)} rows)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    sources = read_all(args.data_dir)
    train = training_examples(sources)
    heldout = {
        source: [e for e in sources[source] if e.split == "test" and is_evaluation_text(e)]
        for source in SOURCES
    }
    print(f"training examples: {dict(Counter(e.source for e in train))}")
    print(f"held-out examples: { {s: len(v) for s, v in heldout.items()} }")
    model = calibrated_model(train, args)
    metrics = measure(model, heldout)
    for source in SOURCES:
        path = args.heldout_dir / f"{source}.csv"
        rows = write_heldout([e for e in sources[source] if e.split == "test"], path)
        print(f"wrote {relative(path)} ({rows} rows)")
    if not args.no_write:
        write_shipped(model, heldout, args.output, metrics)
    metrics_path = args.heldout_dir / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=1, sort_keys=True, default=_json_default))
    print(f"wrote {relative(metrics_path)}; took {time.perf_counter() - started:.0f} s")
    return 0


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
