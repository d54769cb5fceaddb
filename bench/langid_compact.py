"""How far the language profiles can be pruned: candidates side by side on validation data.

    .venv/bin/python bench/langid_compact.py [--data-dir ../shared/data] [--json out.json]

Nothing here reads a held-out (test) part. The validation data are the build's own
out-of-fold items (``glamml.ml.langid_build``: catalogue titles dealt into folds by
institution, Tatoeba sentences, classics, single words of titles; each scored by a model built
without its fold) plus a development slice of the UDHR *training* paragraphs, 10% by hash,
left out of every model here (the UDHR is in every fold's model, so it has no out-of-fold
items of its own). Each fold's profiles are counted once, then each candidate prunes them as
the build would (``Profiles.pruned`` or a smaller top-n per profile).

The items are split in two by hash: on part A each candidate's settings are fitted (as the
build fits them) and the candidate is chosen; part B, not looked at for the choice, gives the
side-by-side comparison with the unpruned profiles. Printed per part and corpus: accuracy, log
loss and ECE (title only), with the file size each candidate's counts would take.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.evaluation import expected_calibration_error  # noqa: E402
from glamml.ml.hashing import stable_fraction  # noqa: E402
from glamml.ml.langid import Hyperparameters, LanguageIdentifier  # noqa: E402
from glamml.ml.langid.profiles import Profiles  # noqa: E402
from glamml.ml.langid.variants import VARIANT_SEPARATOR  # noqa: E402
from glamml.ml.langid_build import (  # noqa: E402
    CalibrationItem,
    ScoredPart,
    TrainingText,
    fit_field_weights,
    fit_title_settings,
    fixed_counts,
    gather,
    read_build_data,
    score_items,
)
from glamml.ml.langid_build.counts import MIN_COUNT, build_profiles  # noqa: E402
from glamml.ml.langid_build.fit import part_probabilities, sample_items  # noqa: E402
from glamml.ml.langid_build.texts import FOLDS  # noqa: E402
from glamml.ml.records import RecordLanguageModel, RecordSettings  # noqa: E402

UDHR_DEV_SHARE = 0.1
MIN_UDHR_CHARS = 20  # as the held-out UDHR part is scored


def _top(top_n: int) -> Callable[[Profiles], Profiles]:
    """Each profile cut to its ``top_n`` most frequent n-grams, a romanised one to half as many
    (as the build cuts them: by count, ties by key)."""

    def cut(profiles: Profiles) -> Profiles:
        counts = profiles.counts.tocsr().copy()
        for c, name in enumerate(profiles.classes):
            limit = top_n // 2 if VARIANT_SEPARATOR in name else top_n
            start, end = counts.indptr[c], counts.indptr[c + 1]
            if end - start > limit:
                data, idx = counts.data[start:end], counts.indices[start:end]
                order = np.lexsort((profiles.keys[idx], -data))
                counts.data[start + order[limit:]] = 0.0
        zeroed = Profiles(profiles.classes, profiles.keys, counts, profiles.totals, profiles.docs)
        return zeroed.pruned(0.0)  # drops the zeros and the n-grams left in no profile

    return cut


CANDIDATES: dict[str, Callable[[Profiles], Profiles]] = {
    "unpruned": lambda profiles: profiles,
    "no count-1 n-gram of one profile only": lambda p: p.pruned(2.0, unshared_only=True),
    "no count-1 n-gram (chosen: MIN_COUNT)": lambda p: p.pruned(MIN_COUNT),
    "top 4,000 (romanised 2,000)": _top(4000),
    "top 3,000 (romanised 1,500)": _top(3000),
}


def half_of(item: CalibrationItem) -> str:
    key = f"compact:{item.corpus}:{item.label}:{item.fields.get('title', '')}"
    return "A" if stable_fraction(key) < 0.5 else "B"


def udhr_split(texts: list[TrainingText]) -> tuple[list[TrainingText], list[CalibrationItem]]:
    """The texts without a 10% development slice of UDHR paragraphs (and the romanised copies
    made of them, which follow their paragraph in the list), and that slice as items."""
    kept: list[TrainingText] = []
    dev: list[CalibrationItem] = []
    dropping = False
    for text in texts:
        if text.fold >= 0:
            kept.append(text)
            continue
        if not text.romanised:
            dropping = stable_fraction(f"udhrdev:{text.label}:{text.text}") < UDHR_DEV_SHARE
            if dropping and len(text.text) >= MIN_UDHR_CHARS:
                fold = int(stable_fraction(f"udhrfold:{text.text}") * FOLDS)
                dev.append(CalibrationItem({"title": text.text}, text.label, "udhr", fold))
        if not dropping:
            kept.append(text)
    return kept, dev


def stored_size(profiles: Profiles, identifier: LanguageIdentifier) -> int:
    model = LanguageIdentifier(profiles, hyper=identifier.hyper)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.npz"
        model.save(path)
        return path.stat().st_size


def metrics(parts: list[ScoredPart], settings: RecordSettings) -> dict[str, dict[str, float]]:
    by_corpus: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for part in parts:
        by_corpus[part.corpus].append((part_probabilities(part, settings, ("title",)), part))
    result = {}
    for corpus, pieces in sorted(by_corpus.items()):
        probs = np.concatenate([p for p, _ in pieces])
        targets = np.concatenate([part.targets for _, part in pieces])
        best = probs.argmax(axis=1)
        confidence = probs.max(axis=1)
        correct = best == targets
        p_target = probs[np.arange(len(targets)), targets]
        result[corpus] = {
            "n": len(targets),
            "accuracy": float(correct.mean()),
            "log_loss": float(-np.log(np.maximum(p_target, 1e-12)).mean()),
            "ece": float(expected_calibration_error(correct, confidence)),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    data = read_build_data(args.data_dir, cache=REPO / "var" / "cache" / "romanised.json")
    texts, items, catalogue_labels = gather(data, set())
    texts, udhr_items = udhr_split(texts)
    items = sample_items(items) + udhr_items
    print(f"items: {dict(Counter((i.corpus, half_of(i)) for i in items))}", flush=True)
    fixed = fixed_counts(texts, Hyperparameters())
    scored: dict[str, dict[str, list[ScoredPart]]] = {
        name: {"A": [], "B": []} for name in CANDIDATES
    }
    sizes: dict[str, list[int]] = defaultdict(list)
    for fold in range(FOLDS):
        inside = [t for t in texts if t.fold != fold]
        fold_counts = Counter(label for label, f in catalogue_labels if f != fold)
        full = build_profiles(inside, fixed, fold_counts, min_count=0.0)
        for name, prune in CANDIDATES.items():
            profiles = prune(full._profiles())
            identifier = LanguageIdentifier(profiles, hyper=full.hyper)
            if fold == 0:
                sizes[name].append(stored_size(identifier._profiles(), identifier))
            model = RecordLanguageModel(identifier, RecordSettings())
            for half in ("A", "B"):
                mine = [i for i in items if i.fold == fold and half_of(i) == half]
                scored[name][half] += score_items(model, mine)
        print(f"fold {fold + 1}/{FOLDS} scored", flush=True)
    report = {}
    for name in CANDIDATES:
        fit_on = [part for part in scored[name]["A"] if part.corpus != "udhr"]
        settings = fit_field_weights(fit_on, fit_title_settings(fit_on))
        report[name] = {
            "file_bytes_fold_1": sizes[name][0],
            "settings": settings.as_info(),
            "A": metrics(scored[name]["A"], settings),
            "B": metrics(scored[name]["B"], settings),
        }
        print(f"\n{name}: fold 1's file {sizes[name][0] / 1e6:.2f} MB")
        for half in ("A", "B"):
            for corpus, m in report[name][half].items():
                print(
                    f"  {half} {corpus:<10} n={m['n']:>5} accuracy={m['accuracy']:.4f} "
                    f"log_loss={m['log_loss']:.4f} ece={m['ece']:.4f}"
                )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
