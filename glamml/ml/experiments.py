"""Run the learning loop on a labelled CSV outside the app, and print model vs baselines.

    .venv/bin/python -m glamml.ml.experiments data/label-samples/bl-genre.csv --label genre \\
        --rules data/label-samples/rules.json --group language
    .venv/bin/python -m glamml.ml.experiments data/label-samples/tate-object-type.csv \\
        --label object_type --rules data/label-samples/rules.json

The text of a record is its ``title`` and ``description`` joined (``--text`` to change), the
held-out side is :func:`~glamml.ml.splits.frozen_split` of the ``identifier`` column, and
``--json`` prints the whole report (metrics and baselines) instead of the table. The numbers
are what an app run on the same records would store.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glamml.ml.splits import frozen_split
from glamml.ml.text import record_text
from glamml.ml.training import TrainingReport, train_and_evaluate

ROWS = ("stratified", "majority", "rules")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run(
    rows: list[dict[str, str]],
    *,
    label: str,
    text_columns: Sequence[str] = ("title", "description"),
    key: str = "identifier",
    rules: dict[str, list[str]] | None = None,
    params: dict[str, Any] | None = None,
    test_size: float = 0.2,
    seed: int = 0,
) -> tuple[TrainingReport, list[dict[str, str]]]:
    """Train and evaluate on the rows that have a label; returns the report and held-out rows."""
    rows = [row for row in rows if (row.get(label) or "").strip()]
    keys = [row[key] for row in rows]
    labels = [row[label].strip() for row in rows]
    texts = [record_text(row, text_columns) for row in rows]
    held = frozen_split(keys, labels, test_size=test_size, seed=seed)
    train = [i for i, k in enumerate(keys) if k not in held]
    test = [i for i, k in enumerate(keys) if k in held]
    report = train_and_evaluate(
        kind="label",
        train_texts=[texts[i] for i in train],
        train_labels=[labels[i] for i in train],
        test_texts=[texts[i] for i in test],
        test_labels=[labels[i] for i in test],
        rules=rules,
        params=params,
        seed=seed,
    )
    return report, [rows[i] for i in test]


def by_group(
    report: TrainingReport,
    held_out: list[dict[str, str]],
    *,
    group: str,
    label: str,
    text_columns: Sequence[str] = ("title", "description"),
) -> dict[str, dict[str, float]]:
    """Held-out accuracy of the model per value of ``group`` (e.g. per language), largest first."""
    predictions = report.model.predict_top_k(
        [record_text(row, text_columns) for row in held_out], k=1
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, top in zip(held_out, predictions, strict=True):
        value = row.get(group) or "(blank)"
        counts[value][1] += 1
        counts[value][0] += int(bool(top) and top[0][0] == row[label].strip())
    return {
        value: {"n": n, "accuracy": hits / n}
        for value, (hits, n) in sorted(counts.items(), key=lambda item: (-item[1][1], item[0]))
    }


def table(report: TrainingReport) -> str:
    lines = [
        "| | accuracy | macro-F1 | ECE | coverage |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, metrics in [("model", report.metrics), *((r, report.baselines[r]) for r in ROWS)]:
        lines.append(
            f"| {name} | {metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} | "
            f"{metrics['ece']:.3f} | {metrics.get('coverage', 1.0):.0%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--label", required=True, help="the column holding the label")
    parser.add_argument("--text", nargs="+", default=["title", "description"])
    parser.add_argument("--key", default="identifier")
    parser.add_argument("--rules", type=Path, help="JSON: {label column: {label: [patterns]}}")
    parser.add_argument("--group", help="also report held-out accuracy per value of this column")
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    rows = read_rows(args.csv)
    rules = None
    if args.rules:
        rules = json.loads(args.rules.read_text(encoding="utf-8")).get(args.label)
    report, held_out = run(
        rows,
        label=args.label,
        text_columns=args.text,
        key=args.key,
        rules=rules,
        test_size=args.test_size,
        seed=args.seed,
    )
    groups = (
        by_group(report, held_out, group=args.group, label=args.label, text_columns=args.text)
        if args.group
        else None
    )
    if args.json:
        out = {
            "params": report.model.params(),
            "fingerprint": report.fingerprint,
            "metrics": report.metrics,
            "baselines": report.baselines,
        }
        if groups is not None:
            out["by_group"] = groups
        json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(
        f"{args.csv.name}: {report.metrics['n_train']} training and {report.metrics['n_test']} "
        f"held-out records, seed {args.seed}\n\n{table(report)}\n"
    )
    if groups:
        sys.stdout.write(f"\nheld-out accuracy by {args.group}:\n")
        for value, stats in groups.items():
            sys.stdout.write(f"  {value}: {stats['accuracy']:.3f} (n={stats['n']})\n")
    for warning in report.metrics["warnings"]:
        sys.stdout.write(f"warning: {warning}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
