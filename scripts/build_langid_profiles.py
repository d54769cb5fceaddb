"""Build the shipped language-identification profiles from the shared data sets.

    .venv/bin/python scripts/build_langid_profiles.py [--data-dir ../shared/data] [--no-write]

Needs the build dependencies (the ``build`` extra: the transliteration libraries), at the
versions pyproject.toml pins, and refuses to start without them (a build without them would
quietly leave out the romanised profiles); and ``../shared/data``. The model is built by
:func:`glamml.ml.langid_build.build_base_model` from every source (the leave-one-source-out
benchmark, ``bench/langid_loso.py``, builds its models the same way without one source each):
the training parts of British Library, FinGreyLit, Tatoeba, UDHR and classics, the
catalogue-marc records that may ship, and romanised copies of native-script text; every
setting is fitted on out-of-fold scores of records dealt into folds by institution. Then it is
evaluated on the held-out parts, and:

- ``glamml/ml/data/langid_profiles.npz`` and its ``.sha256`` (committed; deterministic),
- ``glamml/ml/data/langid_eval_sample.csv``, a small held-out sample the app can evaluate the
  base model on (committed),
- ``var/heldout/<source>.csv`` (``text,label``) and ``var/heldout/metrics.json`` (not committed).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import json
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.artefacts import write_checksum_file  # noqa: E402
from glamml.ml.catalogue_corpora import read_classics  # noqa: E402
from glamml.ml.corpora import SOURCES, Corpus, is_evaluation_text, write_heldout  # noqa: E402
from glamml.ml.evaluation import evaluate  # noqa: E402
from glamml.ml.examples import Example  # noqa: E402
from glamml.ml.hashing import stable_fraction  # noqa: E402
from glamml.ml.langid import BASE_MODEL_PATH  # noqa: E402
from glamml.ml.langid.artefact import EVAL_SAMPLE_PATH  # noqa: E402
from glamml.ml.langid_build import build_base_model, read_build_data, write_cache  # noqa: E402
from glamml.ml.records import RecordLanguageModel  # noqa: E402

INSTALL_BUILD = '.venv/bin/python -m pip install -e ".[build]"'
BUILD_MISSING = (
    "The language profiles are built with the transliteration libraries of the `build` extra "
    "(pyproject.toml); without them the build would leave out the romanised profiles and make a "
    "different model. Not as pinned: {problems}. Install them with:\n    {command}"
)
installed_version: Callable[[str], str] = importlib.metadata.version
EVAL_SAMPLE_SIZES = {"bl": 150, "fingreylit": 150, "tatoeba": 50, "udhr": 100}
ROMANISED_CACHE = REPO / "var" / "cache" / "romanised.json"


def relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def evaluate_source(model: RecordLanguageModel, examples: Corpus) -> dict:
    texts = [example.text for example in examples]
    truth = [example.label for example in examples]
    best = model.predict(texts)
    metrics = evaluate(truth, [label for label, _ in best], [conf for _, conf in best])
    # Plain multinomial naive Bayes posterior: what calibration starts from.
    raw = model.identifier.with_hyperparameters(
        temperature=1.0, length_exponent=0.0, prior_weight=1.0, lapse=0.0
    ).predict(texts)
    metrics["ece_uncalibrated"] = evaluate(
        truth, [label for label, _ in raw], [conf for _, conf in raw]
    )["ece"]
    unknown = sorted({label for label in truth if label not in set(model.labels_)})
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


def measure_speed(model: RecordLanguageModel, texts: list[str], n: int = 10_000) -> float:
    batch = (texts * (n // max(len(texts), 1) + 1))[:n]
    start = time.perf_counter()
    model.predict_top_k(batch, k=3)
    return n / (time.perf_counter() - start)


def build_requirements(pyproject: Path = REPO / "pyproject.toml") -> dict[str, str]:
    """The ``build`` extra's packages and the versions it pins."""
    extra = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    pins = extra["optional-dependencies"]["build"]
    return dict(pin.split("==", 1) for pin in pins)


def build_problems(requirements: dict[str, str]) -> list[str]:
    """Each package of the extra that is missing or at another version than pinned."""
    problems = []
    for name, pinned in requirements.items():
        try:
            found = installed_version(name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        if found != pinned:
            problems.append(f"{name} is {found}, not {pinned}")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=BASE_MODEL_PATH)
    parser.add_argument("--heldout-dir", type=Path, default=REPO / "var" / "heldout")
    parser.add_argument(
        "--no-write", action="store_true", help="evaluate only; leave the shipped files alone"
    )
    return parser.parse_args(argv)


def measure(model: RecordLanguageModel, heldout: dict[str, Corpus]) -> dict:
    """Held-out metrics per source and the speed on British Library titles, printed too."""
    metrics: dict = {"params": model.params(), "sources": {}}
    metrics["params"].pop("classes")
    metrics["params"].pop("profiles")
    for source in heldout:
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
    model: RecordLanguageModel, heldout: dict[str, Corpus], output: Path, metrics: dict
) -> None:
    """The model file, its checksum and the evaluation sample, beside each other."""
    digest = model.identifier.save(output)
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


def classics_heldout(data_dir: Path) -> Corpus:
    return [
        Example(text=row.text, label=row.label, key=row.key, source="classics", split="test")
        for row in read_classics(data_dir)
        if row.split == "test"
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problems = build_problems(build_requirements())
    if problems:
        print(
            BUILD_MISSING.format(problems="; ".join(problems), command=INSTALL_BUILD),
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    data = read_build_data(args.data_dir, cache=ROMANISED_CACHE)
    heldout = {
        source: [e for e in data.shared[source] if e.split == "test" and is_evaluation_text(e)]
        for source in SOURCES
    }
    heldout["classics"] = classics_heldout(args.data_dir)
    print(f"held-out examples: { {s: len(v) for s, v in heldout.items()} }")
    model = build_base_model(data)
    write_cache(data, ROMANISED_CACHE)
    print(f"model: {model.identifier!r}")
    print(f"settings: {model.settings}")
    metrics = measure(model, heldout)
    for source in SOURCES:
        path = args.heldout_dir / f"{source}.csv"
        rows = write_heldout([e for e in data.shared[source] if e.split == "test"], path)
        print(f"wrote {relative(path)} ({rows} rows)")
    rows = write_heldout(heldout["classics"], args.heldout_dir / "classics.csv")
    print(f"wrote {relative(args.heldout_dir / 'classics.csv')} ({rows} rows)")
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
