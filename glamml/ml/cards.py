"""Model cards: a Markdown page per model version, generated from what training measured.

The card is written for a collections admin deciding whether to trust a model, and for other
institutions judging it: what it is for, what it learnt from, how it does against the baselines
on the same held-out records, where it is weak, how far its confidences can be taken at face
value, and how its predictions reach records. Limitations are derived from the numbers, not
written by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glamml.ml.evaluation import FEW_TRAINING_EXAMPLES, HIGH_ECE, LOW_RECALL, SMALL_TEST_SET

__all__ = ["known_limitations", "model_card_markdown"]

BASELINE_ROWS = (
    ("stratified", "Proportional random guessing"),
    ("majority", "Majority label"),
    ("rules", "Rules (regular expressions)"),
)
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1"}
ROUTING = {
    "auto": "Every prediction is written into the record directly, with its provenance "
    "(model, version, confidence).",
    "review": "Every prediction is a suggestion until a cataloguer accepts or corrects it.",
    "threshold": "Predictions at or above the accept threshold are applied directly; the rest go "
    "to the review queue.",
}
# How many of the weakest labels the per-label section names.
WEAKEST = 3


def _escape(value: Any) -> str:
    """Text safe inside a Markdown table cell or inline."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _number(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return _escape(value)


def _labels(labels: Sequence[Any]) -> str:
    # Semicolons, because labels themselves hold commas ("on paper, print").
    return "; ".join(_escape(label) for label in labels)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _label_counts(data: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, int]:
    counts = data.get("label_counts") or metrics.get("label_counts_train") or {}
    return {str(label): int(n) for label, n in counts.items()}


def known_limitations(card: Mapping[str, Any]) -> list[str]:
    """Limitations that follow from the card's numbers, one sentence each."""
    metrics = card.get("metrics") or {}
    data = card.get("training_data") or {}
    counts = _label_counts(data, metrics)
    per_label = metrics.get("per_label") or {}
    vocabulary = [str(label) for label in (card.get("field") or {}).get("labels") or []]
    lines = []

    few = sorted(label for label, n in counts.items() if n < FEW_TRAINING_EXAMPLES)
    if few:
        lines.append(
            f"Labels with fewer than {FEW_TRAINING_EXAMPLES} training examples: "
            + "; ".join(f"{_escape(label)} ({counts[label]})" for label in few)
            + ". Predictions of these labels rest on very little evidence."
        )
    untrained = sorted(set(vocabulary) - set(counts))
    if untrained:
        lines.append(
            "Labels in the field's vocabulary with no training examples, which the model "
            "cannot predict: " + _labels(untrained) + "."
        )
    never = sorted(
        label
        for label, row in per_label.items()
        if row.get("support", 0) > 0 and row.get("predicted", 0) == 0
    )
    if never:
        lines.append("Labels never predicted on the held-out records: " + _labels(never) + ".")
    weak = sorted(
        label
        for label, row in per_label.items()
        if row.get("support", 0) > 0 and row.get("recall", 0.0) < LOW_RECALL
    )
    if weak:
        lines.append(
            f"Labels with recall below {LOW_RECALL:.1f} (the model misses most of them): "
            + ", ".join(f"{_escape(label)} ({per_label[label]['recall']:.2f})" for label in weak)
            + "."
        )
    ece = metrics.get("ece")
    if isinstance(ece, int | float) and ece > HIGH_ECE:
        lines.append(
            f"Confidences are poorly calibrated (expected calibration error {ece:.3f}, above "
            f"{HIGH_ECE}): a stated confidence can be far from how often the model is right."
        )
    n_test = data.get("n_test", metrics.get("n_test", metrics.get("n", 0))) or 0
    if n_test < SMALL_TEST_SET:
        lines.append(
            f"Small held-out set ({n_test} records): the metrics are rough estimates and can "
            "change a lot from one version to the next."
        )
    test_counts = metrics.get("label_counts_test")
    if isinstance(test_counts, Mapping) and n_test:
        unmeasured = sorted(set(counts) - set(test_counts))
        if unmeasured:
            lines.append(
                "Labels with no held-out records, so not measured at all: "
                + _labels(unmeasured)
                + "."
            )
    calibration = metrics.get("calibration")
    if isinstance(calibration, Mapping) and calibration.get("method") == "none":
        lines.append(
            "Probabilities are not calibrated (too few examples to fit a calibration on): "
            "treat confidences as a ranking, not as a rate of being right."
        )
    lines.append(
        "Measured only on held-out records of the same collections and period as the training "
        "data; records from elsewhere (other languages, other cataloguing practice) may fare "
        "worse. Monitoring compares live predictions with the training distribution."
    )
    return lines


def _intended_use(card: Mapping[str, Any]) -> list[str]:
    field = card.get("field") or {}
    labels = field.get("labels") or []
    lines = ["## Intended use", ""]
    lines.append(
        _escape(card.get("intended_use") or "")
        or f"Suggest the {_escape(field.get('name', 'value'))} of catalogue records."
    )
    if labels:
        lines += ["", "Labels: " + _labels(labels) + "."]
    lines += [
        "",
        "Not intended for: records of a kind the training data does not cover, or deciding a "
        "value without a person where the field's policy asks for review.",
    ]
    return lines


def _training_data(card: Mapping[str, Any]) -> list[str]:
    data = card.get("training_data") or {}
    metrics = card.get("metrics") or {}
    counts = _label_counts(data, metrics)
    test_counts = metrics.get("label_counts_test") or {}
    lines = ["## Training data", ""]
    sources = data.get("sources") or []
    licences = data.get("licences") or []
    date_range = data.get("date_range")
    n_train = data.get("n_train", metrics.get("n_train"))
    n_test = data.get("n_test", metrics.get("n_test"))
    lines.append(f"- Sources: {_labels(sources) or 'not recorded'}")
    lines.append(f"- Licences: {_labels(licences) or 'not recorded'}")
    if date_range:
        lines.append(f"- Labelled between {_escape(date_range[0])} and {_escape(date_range[1])}")
    lines.append(
        f"- {_number(n_train)} training records, {_number(n_test)} held-out records "
        "(a frozen, stratified split: every version of this field is measured on it)"
    )
    if data.get("fingerprint"):
        lines.append(f"- Training-data fingerprint (sha256): `{_escape(data['fingerprint'])}`")
    if counts:
        lines += [
            "",
            *_table(
                ["label", "training examples", "held-out examples"],
                [
                    [_escape(label), _number(n), _number(int(test_counts.get(label, 0)))]
                    for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                ],
            ),
        ]
    return lines


def _metrics_against_baselines(card: Mapping[str, Any]) -> list[str]:
    metrics = card.get("metrics") or {}
    baselines = card.get("baselines") or {}
    chosen = card.get("metric") or "macro_f1"
    lines = ["## Metrics against baselines", ""]
    lines.append(
        f"All measured on the same {_number(metrics.get('n_test', metrics.get('n')))} held-out "
        f"records. The field optimises **{METRIC_NAMES.get(chosen, _escape(chosen))}**; a model "
        "that does not beat the rules baseline on it is not promoted."
    )
    lines.append("")
    rows = [["**this model**", *_scores(metrics)]]
    for key, name in BASELINE_ROWS:
        scores = baselines.get(key)
        if scores is None:
            rows.append([name, "not run", "–", "–", "–"])
            continue
        if key == "rules" and scores.get("n_rules") == 0:
            name += " (no rules defined)"
        rows.append([name, *_scores(scores)])
    lines += _table(["", "accuracy", "macro-F1", "ECE", "coverage"], rows)
    rules = baselines.get("rules") or {}
    if rules and 0 < float(rules.get("coverage", 1.0)) < 1.0:
        lines += [
            "",
            f"The rules answer {float(rules['coverage']):.0%} of the records; the rest count as "
            "wrong.",
        ]
    return lines


def _scores(metrics: Mapping[str, Any]) -> list[str]:
    coverage = metrics.get("coverage", 1.0 if metrics else None)
    return [
        _number(metrics.get("accuracy")),
        _number(metrics.get("macro_f1")),
        _number(metrics.get("ece")),
        f"{float(coverage):.0%}" if isinstance(coverage, int | float) else "–",
    ]


def _per_label(card: Mapping[str, Any]) -> list[str]:
    per_label = (card.get("metrics") or {}).get("per_label") or {}
    lines = ["## Per-label results", ""]
    if not per_label:
        return [*lines, "No held-out records to measure labels on."]
    rows = [
        [
            _escape(label),
            _number(row.get("precision")),
            _number(row.get("recall")),
            _number(row.get("f1")),
            _number(int(row.get("support", 0))),
        ]
        for label, row in sorted(per_label.items())
    ]
    lines += _table(["label", "precision", "recall", "F1", "support"], rows)
    measured = [(label, row) for label, row in per_label.items() if row.get("support", 0) > 0]
    weakest = sorted(measured, key=lambda item: (item[1].get("f1", 0.0), item[0]))[:WEAKEST]
    if weakest and len(measured) > 1:
        lines += [
            "",
            "Weakest labels (lowest F1): "
            + "; ".join(
                f"{_escape(label)} (F1 {row.get('f1', 0.0):.2f}, recall "
                f"{row.get('recall', 0.0):.2f}, {int(row.get('support', 0))} held out)"
                for label, row in weakest
            )
            + ".",
        ]
    confusion = _top_confusions((card.get("metrics") or {}).get("confusion"))
    if confusion:
        lines += ["", "Most frequent confusions: " + "; ".join(confusion) + "."]
    return lines


def _top_confusions(confusion: Any, limit: int = 3) -> list[str]:
    if not isinstance(confusion, Mapping) or "matrix" not in confusion:
        return []
    labels = confusion.get("labels") or []
    pairs = [
        (n, labels[i], labels[j])
        for i, row in enumerate(confusion["matrix"])
        for j, n in enumerate(row)
        if i != j and n
    ]
    pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [f"{_escape(true)} taken for {_escape(pred)} ({n}×)" for n, true, pred in pairs[:limit]]


def _calibration(card: Mapping[str, Any]) -> list[str]:
    metrics = card.get("metrics") or {}
    lines = ["## Calibration", ""]
    ece = metrics.get("ece")
    method = metrics.get("calibration") or (card.get("params") or {}).get("calibration") or {}
    if isinstance(method, Mapping) and method.get("method"):
        lines += [f"Method: {_escape(method['method'])}.", ""]
    if isinstance(ece, int | float):
        lines.append(
            f"Expected calibration error {ece:.3f} (mean confidence "
            f"{float(metrics.get('mean_confidence', 0.0)):.3f}, accuracy "
            f"{float(metrics.get('accuracy', 0.0)):.3f}): the smaller, the closer a stated "
            "confidence is to how often the model is right."
        )
    bins = metrics.get("reliability") or []
    if bins:
        lines += [
            "",
            *_table(
                ["confidence bin", "records", "mean confidence", "accuracy"],
                [
                    [
                        f"{float(b.get('lower', 0)):.2f}–{float(b.get('upper', 1)):.2f}",
                        _number(int(b.get("count", b.get("n", 0)))),
                        _number(b.get("confidence")),
                        _number(b.get("accuracy")),
                    ]
                    for b in bins
                ],
            ),
        ]
    thresholds = metrics.get("threshold_at_precision") or {}
    coverage = metrics.get("coverage_at_precision") or {}
    notes = []
    for target, threshold in sorted(thresholds.items()):
        if threshold is None:
            notes.append(f"no threshold reaches a precision of {float(target):.0%}")
        else:
            notes.append(
                f"a threshold of {float(threshold):.3f} gives a precision of {float(target):.0%} "
                f"on {float(coverage.get(target, 0.0)):.0%} of the records"
            )
    if notes:
        lines += ["", "On the held-out records, " + "; ".join(notes) + "."]
    return lines


def _routing(card: Mapping[str, Any]) -> list[str]:
    routing = card.get("routing") or {}
    mode = routing.get("mode")
    lines = ["## How predictions are routed", ""]
    first = f"Decision mode: **{_escape(mode or 'not set')}**."
    if mode in ROUTING:
        first += " " + ROUTING[mode]
    threshold = routing.get("threshold")
    if mode == "threshold" and isinstance(threshold, int | float):
        first += f" Accept threshold: {threshold:.2f}."
    floor = routing.get("floor")
    if mode == "threshold" and isinstance(floor, int | float):
        first += f" Below {floor:.2f} the model abstains (queued with no suggestion)."
    lines += [first, ""]
    lines.append(
        "Labels marked sensitive and records in sensitive collections always go to a person. "
        "Predictions are shown on public record pages with their confidence and a way to flag "
        "them."
    )
    return lines


def model_card_markdown(card: Mapping[str, Any]) -> str:
    """The model card as Markdown (see the module docstring for what goes in)."""
    field = card.get("field") or {}
    title = f"# Model card: {_escape(field.get('name') or field.get('key') or 'model')}"
    if card.get("version") is not None:
        title += f", version {_escape(card['version'])}"
    header = [title, ""]
    made = [
        f"Created {_escape(card['created_at'])}" if card.get("created_at") else "",
        f"by {_escape(card['created_by'])}" if card.get("created_by") else "",
    ]
    if any(made):
        header += [" ".join(part for part in made if part) + ".", ""]
    params = card.get("params") or {}
    if params.get("model"):
        header += [f"Model: {_escape(params['model'])}.", ""]
    sections = [
        _intended_use(card),
        _training_data(card),
        _metrics_against_baselines(card),
        _per_label(card),
        _calibration(card),
        ["## Known limitations", "", *(f"- {line}" for line in known_limitations(card))],
        _routing(card),
    ]
    body = header
    for section in sections:
        body += [*section, ""]
    return "\n".join(body).rstrip() + "\n"
