"""The card's sections from the facts stored with a version, and the card itself."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from glamml.ml.cards.document import (
    NONE,
    Block,
    Bullets,
    Inline,
    ModelCard,
    Paragraph,
    Row,
    Section,
    Table,
    Text,
    joined,
    number,
    plain,
)
from glamml.ml.cards.limitations import known_limitations, label_counts
from glamml.ml.cards.monitoring import monitoring_section

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
# A card made with no person named stores the run's trigger; said as a sentence.
MADE_BY_TRIGGER = {
    "manual": "in a training run started by hand",
    "schedule": "by the retraining schedule, after new decisions arrived",
    "command": "from the command line",
    "monitoring": "when monitoring asked for it (drift or falling live precision)",
    "base": "from the shipped base model, for a new deployment",
    "demo": "by the demo's set-up",
}
# How many of the weakest labels the per-label section names.
WEAKEST = 3


def _intended_use(card: Mapping[str, Any]) -> Section:
    field = card.get("field") or {}
    labels = field.get("labels") or []
    blocks: list[Block] = [
        plain(
            str(card.get("intended_use") or "")
            or f"Suggest the {field.get('name', 'value')} of catalogue records."
        )
    ]
    if labels:
        blocks.append(plain("Labels: " + joined(labels) + "."))
    blocks.append(
        plain(
            "Not intended for: records of a kind the training data does not cover, or deciding "
            "a value without a person where the field's policy asks for review."
        )
    )
    return Section("Intended use", tuple(blocks))


def _training_data(card: Mapping[str, Any]) -> Section:
    data = card.get("training_data") or {}
    metrics = card.get("metrics") or {}
    counts = label_counts(data, metrics)
    test_counts = metrics.get("label_counts_test") or {}
    date_range = data.get("date_range")
    items: list[Inline] = [
        (Text(f"Sources: {joined(data.get('sources') or []) or 'not recorded'}"),),
        (Text(f"Licences: {joined(data.get('licences') or []) or 'not recorded'}"),),
    ]
    if date_range:
        items.append((Text(f"Labelled between {date_range[0]} and {date_range[1]}"),))
    items.append(
        (
            Text(
                f"{number(data.get('n_train', metrics.get('n_train')))} training records, "
                f"{number(data.get('n_test', metrics.get('n_test')))} held-out records "
                "(a frozen, stratified split: every version of this field is measured on it)"
            ),
        )
    )
    if data.get("fingerprint"):
        items.append(
            (Text("Training-data fingerprint (sha256): "), Text(str(data["fingerprint"]), "code"))
        )
    blocks: list[Block] = [Bullets(tuple(items))]
    if counts:
        rows = [
            Row(label, (number(n), number(int(test_counts.get(label, 0)))))
            for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        blocks.append(Table(("label", "training examples", "held-out examples"), tuple(rows)))
    return Section("Training data", tuple(blocks))


def _metrics_against_baselines(card: Mapping[str, Any]) -> Section:
    metrics = card.get("metrics") or {}
    baselines = card.get("baselines") or {}
    chosen = card.get("metric") or "macro_f1"
    intro = Paragraph(
        (
            Text(
                f"All measured on the same {number(metrics.get('n_test', metrics.get('n')))} "
                "held-out records. The field optimises "
            ),
            Text(METRIC_NAMES.get(chosen, str(chosen)), "strong"),
            Text("; a model that does not beat the rules baseline on it is not promoted."),
        )
    )
    rows = [Row("this model", _scores(metrics), strong=True)]
    for key, name in BASELINE_ROWS:
        scores = baselines.get(key)
        if scores is None:
            rows.append(Row(name, ("not run", NONE, NONE, NONE)))
            continue
        if key == "rules" and scores.get("n_rules") == 0:
            name += " (no rules defined)"
        rows.append(Row(name, _scores(scores)))
    blocks: list[Block] = [
        intro,
        Table(("", "accuracy", "macro-F1", "ECE", "coverage"), tuple(rows)),
    ]
    rules = baselines.get("rules") or {}
    if rules and 0 < float(rules.get("coverage", 1.0)) < 1.0:
        blocks.append(
            plain(
                f"The rules answer {float(rules['coverage']):.0%} of the records; the rest "
                "count as wrong."
            )
        )
    return Section("Metrics against baselines", tuple(blocks))


def _scores(metrics: Mapping[str, Any]) -> tuple[str, ...]:
    coverage = metrics.get("coverage", 1.0 if metrics else None)
    return (
        number(metrics.get("accuracy")),
        number(metrics.get("macro_f1")),
        number(metrics.get("ece")),
        f"{float(coverage):.0%}" if isinstance(coverage, int | float) else NONE,
    )


def _per_label(card: Mapping[str, Any]) -> Section:
    title = "Per-label results"
    per_label = (card.get("metrics") or {}).get("per_label") or {}
    if not per_label:
        return Section(title, (plain("No held-out records to measure labels on."),))
    rows = [
        Row(
            str(label),
            (
                number(row.get("precision")),
                number(row.get("recall")),
                number(row.get("f1")),
                number(int(row.get("support", 0))),
            ),
        )
        for label, row in sorted(per_label.items())
    ]
    blocks: list[Block] = [Table(("label", "precision", "recall", "F1", "support"), tuple(rows))]
    measured = [(label, row) for label, row in per_label.items() if row.get("support", 0) > 0]
    weakest = sorted(measured, key=lambda item: (item[1].get("f1", 0.0), item[0]))[:WEAKEST]
    if weakest and len(measured) > 1:
        blocks.append(
            plain(
                "Weakest labels (lowest F1): "
                + "; ".join(
                    f"{label} (F1 {row.get('f1', 0.0):.2f}, recall "
                    f"{row.get('recall', 0.0):.2f}, {int(row.get('support', 0))} held out)"
                    for label, row in weakest
                )
                + "."
            )
        )
    confusion = _top_confusions((card.get("metrics") or {}).get("confusion"))
    if confusion:
        blocks.append(plain("Most frequent confusions: " + "; ".join(confusion) + "."))
    return Section(title, tuple(blocks))


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
    return [f"{true} taken for {pred} ({n}×)" for n, true, pred in pairs[:limit]]


def _calibration(card: Mapping[str, Any]) -> Section:
    metrics = card.get("metrics") or {}
    blocks: list[Block] = []
    ece = metrics.get("ece")
    method = metrics.get("calibration") or (card.get("params") or {}).get("calibration") or {}
    if isinstance(method, Mapping) and method.get("method"):
        blocks.append(plain(f"Method: {method['method']}."))
    if isinstance(ece, int | float):
        blocks.append(
            plain(
                f"Expected calibration error {ece:.3f} (mean confidence "
                f"{float(metrics.get('mean_confidence', 0.0)):.3f}, accuracy "
                f"{float(metrics.get('accuracy', 0.0)):.3f}): the smaller, the closer a stated "
                "confidence is to how often the model is right."
            )
        )
    bins = metrics.get("reliability") or []
    if bins:
        rows = [
            Row(
                f"{float(b.get('lower', 0)):.2f}–{float(b.get('upper', 1)):.2f}",
                (
                    number(int(b.get("count", b.get("n", 0)))),
                    number(b.get("confidence")),
                    number(b.get("accuracy")),
                ),
            )
            for b in bins
        ]
        header = ("confidence bin", "records", "mean confidence", "accuracy")
        blocks.append(Table(header, tuple(rows)))
    notes = _threshold_notes(metrics)
    if notes:
        blocks.append(plain("On the held-out records, " + "; ".join(notes) + "."))
    return Section("Calibration", tuple(blocks))


def _threshold_notes(metrics: Mapping[str, Any]) -> list[str]:
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
    return notes


def _routing(card: Mapping[str, Any]) -> Section:
    routing = card.get("routing") or {}
    mode = routing.get("mode")
    parts = [Text("Decision mode: "), Text(str(mode or "not set"), "strong"), Text(".")]
    after = ""
    if mode in ROUTING:
        after += " " + ROUTING[mode]
    threshold = routing.get("threshold")
    if mode == "threshold" and isinstance(threshold, int | float):
        after += f" Accept threshold: {threshold:.2f}."
    floor = routing.get("floor")
    if mode == "threshold" and isinstance(floor, int | float):
        after += f" Below {floor:.2f} the model abstains (queued with no suggestion)."
    if after:
        parts.append(Text(after))
    return Section(
        "How predictions are routed",
        (
            Paragraph(tuple(parts)),
            plain(
                "Labels marked sensitive and records in sensitive collections always go to a "
                "person. Predictions are shown on public record pages with their confidence and "
                "a way to flag them."
            ),
        ),
    )


def made_sentence(created_at: Any, created_by: Any) -> str:
    """ "Created 30 Nov 2026 14:06 UTC by alice." from the stored ISO time and who or what."""
    parts = []
    if created_at:
        try:
            when = datetime.fromisoformat(str(created_at)).astimezone(UTC)
            parts.append(f"Created {when:%-d %b %Y %H:%M} UTC")
        except ValueError:
            parts.append(f"Created {created_at}")
    else:
        parts.append("Created")
    if created_by:
        phrase = MADE_BY_TRIGGER.get(str(created_by))
        parts.append(phrase or f"by {created_by}")
    return " ".join(parts) + "." if len(parts) > 1 or created_at else ""


def model_card(card: Mapping[str, Any], monitoring: Mapping[str, Any] | None = None) -> ModelCard:
    """The card for the facts stored with a version (see the package docstring).

    ``monitoring`` (what watches the version now, see
    :func:`~glamml.ml.cards.monitoring.monitoring_section`) adds a section; the card says
    nothing about monitoring without it.
    """
    field = card.get("field") or {}
    title = f"Model card: {field.get('name') or field.get('key') or 'model'}"
    if card.get("version") is not None:
        title += f", version {card['version']}"
    intro: list[Block] = []
    made = made_sentence(card.get("created_at"), card.get("created_by"))
    if made:
        intro.append(plain(made))
    params = card.get("params") or {}
    if params.get("model"):
        intro.append(plain(f"Model: {params['model']}."))
    limitations = Bullets(tuple((Text(line),) for line in known_limitations(card)))
    sections = (
        _intended_use(card),
        _training_data(card),
        _metrics_against_baselines(card),
        _per_label(card),
        _calibration(card),
        Section("Known limitations", (limitations,)),
        _routing(card),
    ) + ((monitoring_section(monitoring),) if monitoring is not None else ())
    return ModelCard(title=title, intro=tuple(intro), sections=sections)
