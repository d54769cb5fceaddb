"""Leave one source out: glamml and the peers on each catalogue it never saw.

    .venv/bin/python bench/langid_loso.py [--model shipped|loso] [--tools ...] [--no-shared]
                                          [--json var/bench/langid_loso.json]

For every source of ``../shared/data/catalogue-marc`` (sources with fewer than 100 records are
left out together as "small sources"), glamml's figure comes from a model that never saw a
record of that source, and the six peers answer the same titles:

- ``--model shipped``: the shipped base model, for every source. Allowed only when its build
  read no catalogue-marc record (the script checks the model's build information).
- ``--model loso`` (default): for each group, the base model rebuilt by
  ``glamml.ml.langid_build`` from the shared data less that group's records (its settings are
  fitted within the build, on the other sources).

Labels are the cataloguers' MARC codes as macrolanguage-folded ISO 639-3
(``glamml.ml.catalogue_corpora.marc_label``); a code with no ISO 639-3 equivalent (``roa``)
stays as it is and counts as an error for every tool. The output: per group, the peers' table
(as ``bench/langid_peers.py``: accuracy, macro-F1, ECE, coverage at 95%/99% precision,
texts/s timed in interleaved rounds); a summary by source against the best peer; title only
against the whole record (glamml reads title, original-script title, place, publisher and
notes); romanised against original-script titles; and each group's five most confident
errors, with how many peers read the title as glamml did and as coded; glamml scored against
the title's language (the catalogue's errors relabelled: an estimate, never used for a setting).
``--shared`` (default on) adds the held-out parts of the shared sets (British Library,
FinGreyLit, Tatoeba, UDHR, classics) scored by the model built from all sources.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import langid_peers  # noqa: E402

from glamml.ml.catalogue_corpora import (  # noqa: E402
    SMALL_SOURCES_GROUP,
    CatalogueRecord,
    is_romanised,
    loso_groups,
    read_catalogue_marc,
    usual_scripts,
)

DATA_DIR = REPO.parent / "shared" / "data"
CONFIDENT_ERRORS = 5
# "The catalogue's error": at least this many of the six peers read the title as glamml did.
PEERS_AGREE = 4

Prediction = tuple[str, float]


class GlammlModel:
    """What the benchmark needs of a glamml language model."""

    def __init__(self, model: Any, label: str) -> None:
        self.model = model
        self.label = label

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        return list(self.model.predict(list(texts)))

    def predict_records(self, records: Sequence[dict[str, str]]) -> list[Prediction]:
        if hasattr(self.model, "predict_records"):
            return list(self.model.predict_records(list(records)))
        # A model that reads one text: the record's fields joined, title first.
        return self.predict([" . ".join(v for v in record.values() if v) for record in records])

    def output_labels(self) -> set[str]:
        if hasattr(self.model, "output_labels"):
            return set(self.model.output_labels())
        return set(self.model.classes_)


def shipped_model() -> GlammlModel:
    from glamml.ml.langid import LanguageIdentifier

    model = LanguageIdentifier.base()
    sources = model.info.get("build", {}).get("sources", {})
    if any(source.startswith("catalogue") for source in sources):
        raise SystemExit(
            "the shipped model was built from catalogue-marc records: its figures on them "
            "would not be left-out figures; use --model loso"
        )
    return GlammlModel(_catalogue_model(model), "glamml (shipped base model)")


def _catalogue_model(model: Any) -> Any:
    """The shipped model behind the whole-record API when the ML core has one."""
    try:
        from glamml.ml.records import RecordLanguageModel
    except ImportError:
        return model
    return RecordLanguageModel.from_identifier(model)


def loso_model_factory(
    data_dir: Path, weightings: tuple[str, ...]
) -> Callable[[set[str] | None], list[GlammlModel]]:
    from glamml.ml.langid_build import build_base_models, read_build_data

    data = read_build_data(data_dir, cache=REPO / "var" / "cache" / "romanised.json")

    def models_without(sources: set[str] | None) -> list[GlammlModel]:
        # One build per group: the weightings share its profiles and out-of-fold scores.
        models = build_base_models(
            data, exclude_sources=sources or set(), weightings=weightings, verbose=False
        )
        name = "glamml (built without this source)" if sources else "glamml (all sources)"
        if len(weightings) > 1:
            return [GlammlModel(models[w], f"{name}, weighing {w}") for w in weightings]
        return [GlammlModel(models[weightings[0]], name)]

    return models_without


# -- scoring ---------------------------------------------------------------------------------------


def record_fields(record: CatalogueRecord) -> dict[str, str]:
    return {name: value for name, value in record.fields.items() if value}


def confident_errors(
    records: list[CatalogueRecord],
    answers: dict[str, list[Prediction]],
    tool_names: list[str],
    romanised: list[bool],
) -> list[dict[str, Any]]:
    glamml = answers["glamml"]
    peers = [tool for tool in tool_names if tool != "glamml"]
    errors = []
    for i, record in enumerate(records):
        predicted, confidence = glamml[i]
        if predicted == record.label:
            continue
        as_glamml = sum(answers[tool][i][0] == predicted for tool in peers)
        as_catalogue = sum(answers[tool][i][0] == record.label for tool in peers)
        errors.append(
            {
                "key": record.key,
                "title": record.title,
                "coded": record.label,
                "predicted": predicted,
                "confidence": confidence,
                "peers_reading_as_glamml": as_glamml,
                "peers_reading_as_coded": as_catalogue,
                "n_peers": len(peers),
                "verdict": _verdict(
                    record, as_glamml, as_catalogue, len(peers), romanised=romanised[i]
                ),
            }
        )
    errors.sort(key=lambda error: -error["confidence"])
    return errors[:CONFIDENT_ERRORS]


def _verdict(
    record: CatalogueRecord, as_glamml: int, as_catalogue: int, n_peers: int, *, romanised: bool
) -> str:
    """Whose error, as far as a script can tell; docs/benchmarks.md gives the reading by eye."""
    if " = " in record.title:
        return "both: a parallel title in two languages"
    if romanised:
        # No peer reads romanised titles, so their agreement says nothing here.
        return "model's (a romanised title)"
    if not n_peers:
        return "no peers to judge"
    if as_glamml >= min(PEERS_AGREE, n_peers) and as_catalogue == 0:
        return "catalogue's (the title is in the language glamml read)"
    if as_catalogue >= 1:
        return "model's"
    return "unclear (peers disagree with both)"


def subset_accuracy(
    labels: list[str], answers: list[Prediction], rows: list[int]
) -> dict[str, float]:
    if not rows:
        return {"n": 0, "accuracy": 0.0}
    hits = sum(answers[i][0] == labels[i] for i in rows)
    return {"n": len(rows), "accuracy": hits / len(rows)}


def run_group(
    name: str,
    records: list[CatalogueRecord],
    glamml: GlammlModel,
    predictors: dict[str, langid_peers.Predictor],
    native_scripts: dict[str, str],
) -> dict[str, Any]:
    texts = [record.title for record in records]
    labels = [record.label for record in records]
    tools = {"glamml": glamml.predict, **predictors}
    runs = langid_peers.run_interleaved(tools, texts, langid_peers.rounds_for(len(texts)))
    table = {tool: langid_peers.score(a, s, labels) for tool, (a, s) in runs.items()}
    answers = {tool: a for tool, (a, _) in runs.items()}
    known = glamml.output_labels()
    unknown = Counter(label for label in labels if label not in known)

    whole = glamml.predict_records([record_fields(record) for record in records])
    whole_score = langid_peers.score(whole, 1.0, labels)
    as_title = title_language_labels(records, answers, list(tools), native_scripts)

    romanised = [i for i, r in enumerate(records) if is_romanised(r, native_scripts)]
    with_original = [i for i in romanised if records[i].fields.get("title_original_script")]
    original_answers = dict.fromkeys(tools)
    if with_original:
        original_texts = [records[i].fields["title_original_script"] for i in with_original]
        for tool, predict in tools.items():
            original_answers[tool] = predict(original_texts)
    scripts: dict[str, Any] = {}
    for tool in tools:
        scripts[tool] = {
            "romanised_title": subset_accuracy(labels, answers[tool], romanised),
            "romanised_title_of_rows_with_original": subset_accuracy(
                labels, answers[tool], with_original
            ),
            "original_script_title": (
                subset_accuracy(
                    [labels[i] for i in with_original],
                    original_answers[tool],
                    list(range(len(with_original))),
                )
                if with_original
                else {"n": 0, "accuracy": 0.0}
            ),
        }
    return {
        "name": name,
        "n": len(records),
        "sources": dict(Counter(record.source for record in records)),
        "labels": dict(Counter(labels).most_common()),
        "labels_glamml_cannot_output": dict(unknown),
        "tools": table,
        "whole_record": whole_score,
        "title_language": {
            "relabelled": sum(a != b for a, b in zip(as_title, labels, strict=True)),
            "title": langid_peers.score(answers["glamml"], 1.0, as_title),
            "whole_record": langid_peers.score(whole, 1.0, as_title),
        },
        "scripts": scripts,
        "confident_errors": confident_errors(
            records, answers, list(tools), [i in set(romanised) for i in range(len(records))]
        ),
        "answers": {tool: answers[tool] for tool in tools},
        "rows": [[r.key, r.label] for r in records],
        "whole_answers": whole,
    }


def title_language_labels(
    records: list[CatalogueRecord],
    answers: dict[str, list[Prediction]],
    tools: list[str],
    native_scripts: dict[str, str],
) -> list[str]:
    """The coded labels, with glamml's reading where the script's verdict is the catalogue's."""
    peers = [tool for tool in tools if tool != "glamml"]
    labels = []
    for i, record in enumerate(records):
        predicted = answers["glamml"][i][0]
        as_glamml = sum(answers[tool][i][0] == predicted for tool in peers)
        as_coded = sum(answers[tool][i][0] == record.label for tool in peers)
        romanised = is_romanised(record, native_scripts)
        verdict = _verdict(record, as_glamml, as_coded, len(peers), romanised=romanised)
        labels.append(predicted if verdict.startswith("catalogue") else record.label)
    return labels


# -- printing --------------------------------------------------------------------------------------


def best_peer(tools: dict[str, dict], metric: str, lower_is_better: bool = False) -> tuple:
    peers = {tool: m[metric] for tool, m in tools.items() if tool != "glamml"}
    if not peers:
        return ("-", float("nan"))
    pick = min if lower_is_better else max
    tool = pick(peers, key=peers.get)
    return tool, peers[tool]


def summary_table(groups: list[dict]) -> str:
    lines = [
        "| left-out source | n | glamml accuracy / macro-F1 / cov@0.99 / ECE | best peer "
        "accuracy | best peer macro-F1 | best peer cov@0.99 | best peer ECE | glamml whole "
        "record accuracy / macro-F1 / cov@0.99 / ECE | labels glamml cannot output |",
        "| --- | ---: | --- | --- | --- | --- | --- | --- | ---: |",
    ]
    for group in groups:
        tools = group["tools"]
        g = tools["glamml"]
        cells = []
        for metric, low in (
            ("accuracy", False),
            ("macro_f1", False),
            ("coverage_0.99", False),
            ("ece", True),
        ):
            tool, value = best_peer(tools, metric, low)
            cells.append(f"{value:.3f} ({tool})")
        w = group["whole_record"]
        unknown = sum(group["labels_glamml_cannot_output"].values())
        lines.append(
            f"| {group['name']} | {group['n']:,} | {g['accuracy']:.3f} / {g['macro_f1']:.3f} / "
            f"{g['coverage_0.99']:.3f} / {g['ece']:.3f} | " + " | ".join(cells) + " | "
            f"{w['accuracy']:.3f} / {w['macro_f1']:.3f} / {w['coverage_0.99']:.3f} / "
            f"{w['ece']:.3f} | {unknown} |"
        )
    return "\n".join(lines)


def scripts_table(groups: list[dict], tools: list[str]) -> str:
    pooled: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for group in groups:
        for tool in tools:
            for part, figures in group["scripts"][tool].items():
                pooled[tool][part][0] += figures["accuracy"] * figures["n"]
                pooled[tool][part][1] += figures["n"]
    parts = (
        "romanised_title",
        "romanised_title_of_rows_with_original",
        "original_script_title",
    )
    n = {part: pooled[tools[0]][part][1] for part in parts}
    lines = [
        "| tool | romanised titles (n = {romanised_title}) | the same rows with an original-script "
        "title (n = {romanised_title_of_rows_with_original}) | their original-script titles "
        "(n = {original_script_title}) |".format(**n),
        "| --- | ---: | ---: | ---: |",
    ]
    for tool in tools:
        cells = []
        for part in parts:
            hits, count = pooled[tool][part]
            cells.append(f"{hits / count:.3f}" if count else "-")
        lines.append(f"| {langid_peers.TOOLS[tool][0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def errors_block(group: dict) -> str:
    lines = [f"**{group['name']}**: the {CONFIDENT_ERRORS} most confident errors", ""]
    for error in group["confident_errors"]:
        lines.append(
            f"- {error['title'][:90]!r}: coded `{error['coded']}`, read `{error['predicted']}` "
            f"at {error['confidence']:.3f}; peers as glamml {error['peers_reading_as_glamml']}"
            f"/{error['n_peers']}, as coded {error['peers_reading_as_coded']}/{error['n_peers']}"
            f": {error['verdict']}"
        )
    return "\n".join(lines)


# -- shared held-out sets --------------------------------------------------------------------------


def shared_heldout(data_dir: Path) -> dict[str, tuple[list[str], list[str]]]:
    from glamml.ml.catalogue_corpora import read_classics
    from glamml.ml.corpora import is_evaluation_text, read_all

    files: dict[str, tuple[list[str], list[str]]] = {}
    for source, examples in read_all(data_dir).items():
        kept = [e for e in examples if e.split == "test" and is_evaluation_text(e)]
        files[source] = ([e.text for e in kept], [e.label for e in kept])
    classics = [row for row in read_classics(data_dir) if row.split == "test"]
    files["classics"] = ([row.text for row in classics], [row.label for row in classics])
    return files


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("shipped", "loso"), default="loso")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--tools", default=",".join(langid_peers.TOOLS))
    parser.add_argument("--no-shared", action="store_true", help="catalogue-marc only")
    parser.add_argument("--groups", default="", help="comma-separated subset of the groups")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--weightings",
        default="",
        help=(
            "comma-separated weightings of the calibration fit (records, institutions) to "
            "measure side by side from one build per group; default: the build's own"
        ),
    )
    return parser.parse_args(argv)


def records_by_group(
    data_dir: Path, wanted: str
) -> tuple[dict[str, str], dict[str, list[CatalogueRecord]], list[str]]:
    """Each source's group, each group's records, and the groups to run (largest first)."""
    records = read_catalogue_marc(data_dir)
    group_of = loso_groups(records)
    by_group: dict[str, list[CatalogueRecord]] = defaultdict(list)
    for record in records:
        by_group[group_of[record.source]].append(record)
    names = sorted(by_group, key=lambda g: (g == SMALL_SOURCES_GROUP, -len(by_group[g])))
    if wanted:
        chosen = {g.strip() for g in wanted.split(",")}
        names = [name for name in names if name in chosen]
    return group_of, by_group, names


def native_scripts_of(data_dir: Path) -> dict[str, str]:
    from glamml.ml.corpora import read_udhr

    udhr_by_label: dict[str, list[str]] = defaultdict(list)
    for example in read_udhr(data_dir):
        udhr_by_label[example.label].append(example.text)
    native_scripts = usual_scripts(udhr_by_label)
    native_scripts["grc"] = "GREEK"
    return native_scripts


def model_chooser(
    args: argparse.Namespace, group_of: dict[str, str]
) -> Callable[[str | None], list[GlammlModel]]:
    """The models a group is measured with (None: those for the shared held-out sets)."""
    if args.model == "shipped":
        shipped = shipped_model()
        return lambda group: [shipped]
    from glamml.ml.langid_build import DEFAULT_WEIGHTING

    weightings = tuple(w.strip() for w in args.weightings.split(",") if w.strip())
    factory = loso_model_factory(args.data_dir, weightings or (DEFAULT_WEIGHTING,))

    def models_for(group: str | None) -> list[GlammlModel]:
        if group is None:
            print("  building the model from all sources", file=sys.stderr)
            return factory(None)
        left_out = {s for s, g in group_of.items() if g == group}
        print(f"  building the model without {', '.join(sorted(left_out))}", file=sys.stderr)
        return factory(left_out)

    return models_for


def print_speed(results: dict) -> None:
    ratio = langid_peers.speed_ratio(results)
    if ratio is not None:
        print(f"\nglamml/py3langid speed: {ratio:.2f}x")
    print()


def run_shared(data_dir: Path, models: list[GlammlModel], predictors: dict) -> dict[str, dict]:
    """glamml (built from every source) and the peers on the held-out parts of the shared sets."""
    shared: dict[str, dict] = {}
    for source, (texts, labels) in shared_heldout(data_dir).items():
        for full in models:
            runs = langid_peers.run_interleaved(
                {"glamml": full.predict, **predictors}, texts, langid_peers.rounds_for(len(texts))
            )
            name = source if len(models) == 1 else f"{source}, {full.label.rsplit(', ', 1)[-1]}"
            shared[name] = {t: langid_peers.score(a, s, labels) for t, (a, s) in runs.items()}
            table = langid_peers.markdown_table(f"{name} (held-out part)", shared[name], full.label)
            print(table)
            print_speed(shared[name])
    return shared


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip() and t.strip() != "glamml"]
    predictors = {tool: langid_peers.TOOLS[tool][1]() for tool in tools}
    group_of, by_group, names = records_by_group(args.data_dir, args.groups)
    native_scripts = native_scripts_of(args.data_dir)
    model_for = model_chooser(args, group_of)

    groups = []
    for name in names:
        models = model_for(name)
        for glamml in models:
            result = run_group(name, by_group[name], glamml, predictors, native_scripts)
            if len(models) > 1:
                result["name"] = f"{name}, {glamml.label.rsplit(', ', 1)[-1]}"
            groups.append(result)
            print(f"  {result['name']} done", file=sys.stderr)
            title = f"{result['name']} (left out; {glamml.label})"
            print(langid_peers.markdown_table(title, result["tools"], glamml.label))
            print_speed(result["tools"])

    print("**By left-out source** (title only unless said)\n")
    print(summary_table(groups))
    print("\n**Scored against the title's language** (the catalogue's errors relabelled)\n")
    for g in groups:
        t, w, n = g["title_language"]["title"], g["title_language"]["whole_record"], g["n"]
        print(
            f"- {g['name']}: {g['title_language']['relabelled']} of {n:,} relabelled; title "
            f"{t['accuracy']:.3f} / cov@0.99 {t['coverage_0.99']:.3f} / ECE {t['ece']:.3f}; "
            f"whole record {w['accuracy']:.3f} / {w['coverage_0.99']:.3f} / {w['ece']:.3f}"
        )
    print("\n**Romanised and original-script titles** (all groups pooled)\n")
    print(scripts_table(groups, ["glamml", *tools]))
    print()
    for group in groups:
        print(errors_block(group))
        print()

    shared = {} if args.no_shared else run_shared(args.data_dir, model_for(None), predictors)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in langid_peers.machine().items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": args.model,
            "groups": groups,
            "shared": shared,
            "machine": langid_peers.machine(),
        }
        args.json.write_text(json.dumps(payload, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
