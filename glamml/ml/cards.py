"""Model cards: one document per model version, built as data from what training measured.

The card is written for a collections admin deciding whether to trust a model, and for other
institutions judging it: what it is for, what it learnt from, how it does against the baselines
on the same held-out records, where it is weak, how far its confidences can be taken at face
value, and how its predictions reach records. Limitations are derived from the numbers, not
written by hand.

:func:`model_card` returns the document: sections of paragraphs, lists and tables whose text
is final (numbers formatted, sentences written). The app renders that one document to HTML for
its pages and to Markdown for download, so the two never say different things.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from glamml.ml.evaluation import FEW_TRAINING_EXAMPLES, HIGH_ECE, LOW_RECALL, SMALL_TEST_SET

__all__ = [
    "Bullets",
    "ModelCard",
    "Paragraph",
    "Row",
    "Section",
    "Table",
    "Text",
    "known_limitations",
    "model_card",
]

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
NONE = "–"


@dataclass(frozen=True)
class Text:
    """A run of text: ``style`` is ``""`` (plain), ``"strong"`` or ``"code"``."""

    text: str
    style: str = ""


Inline = tuple[Text, ...]


@dataclass(frozen=True)
class Paragraph:
    parts: Inline
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]
    kind: ClassVar[str] = "bullets"


@dataclass(frozen=True)
class Row:
    """A table row: its name (the row header), its cells, and whether it is the one to notice."""

    name: str
    cells: tuple[str, ...]
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """``header`` names every column, the row names' column first."""

    header: tuple[str, ...]
    rows: tuple[Row, ...]
    kind: ClassVar[str] = "table"


Block = Paragraph | Bullets | Table


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ModelCard:
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]


def _plain(*sentences: str) -> Paragraph:
    return Paragraph((Text(" ".join(sentences)),))


def _number(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return NONE
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _labels(labels: Sequence[Any]) -> str:
    # Semicolons, because labels themselves hold commas ("on paper, print").
    return "; ".join(str(label) for label in labels)


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
    lines = _label_limitations(counts, per_label, vocabulary)
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
        "worse."
    )
    return lines


def _label_limitations(
    counts: Mapping[str, int], per_label: Mapping[str, Any], vocabulary: list[str]
) -> list[str]:
    lines = []
    few = sorted(label for label, n in counts.items() if n < FEW_TRAINING_EXAMPLES)
    if few:
        lines.append(
            f"Labels with fewer than {FEW_TRAINING_EXAMPLES} training examples: "
            + "; ".join(f"{label} ({counts[label]})" for label in few)
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
            + ", ".join(f"{label} ({per_label[label]['recall']:.2f})" for label in weak)
            + "."
        )
    return lines


def _intended_use(card: Mapping[str, Any]) -> Section:
    field = card.get("field") or {}
    labels = field.get("labels") or []
    blocks: list[Block] = [
        _plain(
            str(card.get("intended_use") or "")
            or f"Suggest the {field.get('name', 'value')} of catalogue records."
        )
    ]
    if labels:
        blocks.append(_plain("Labels: " + _labels(labels) + "."))
    blocks.append(
        _plain(
            "Not intended for: records of a kind the training data does not cover, or deciding "
            "a value without a person where the field's policy asks for review."
        )
    )
    return Section("Intended use", tuple(blocks))


def _training_data(card: Mapping[str, Any]) -> Section:
    data = card.get("training_data") or {}
    metrics = card.get("metrics") or {}
    counts = _label_counts(data, metrics)
    test_counts = metrics.get("label_counts_test") or {}
    date_range = data.get("date_range")
    items: list[Inline] = [
        (Text(f"Sources: {_labels(data.get('sources') or []) or 'not recorded'}"),),
        (Text(f"Licences: {_labels(data.get('licences') or []) or 'not recorded'}"),),
    ]
    if date_range:
        items.append((Text(f"Labelled between {date_range[0]} and {date_range[1]}"),))
    items.append(
        (
            Text(
                f"{_number(data.get('n_train', metrics.get('n_train')))} training records, "
                f"{_number(data.get('n_test', metrics.get('n_test')))} held-out records "
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
            Row(label, (_number(n), _number(int(test_counts.get(label, 0)))))
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
                f"All measured on the same {_number(metrics.get('n_test', metrics.get('n')))} "
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
            _plain(
                f"The rules answer {float(rules['coverage']):.0%} of the records; the rest "
                "count as wrong."
            )
        )
    return Section("Metrics against baselines", tuple(blocks))


def _scores(metrics: Mapping[str, Any]) -> tuple[str, ...]:
    coverage = metrics.get("coverage", 1.0 if metrics else None)
    return (
        _number(metrics.get("accuracy")),
        _number(metrics.get("macro_f1")),
        _number(metrics.get("ece")),
        f"{float(coverage):.0%}" if isinstance(coverage, int | float) else NONE,
    )


def _per_label(card: Mapping[str, Any]) -> Section:
    title = "Per-label results"
    per_label = (card.get("metrics") or {}).get("per_label") or {}
    if not per_label:
        return Section(title, (_plain("No held-out records to measure labels on."),))
    rows = [
        Row(
            str(label),
            (
                _number(row.get("precision")),
                _number(row.get("recall")),
                _number(row.get("f1")),
                _number(int(row.get("support", 0))),
            ),
        )
        for label, row in sorted(per_label.items())
    ]
    blocks: list[Block] = [Table(("label", "precision", "recall", "F1", "support"), tuple(rows))]
    measured = [(label, row) for label, row in per_label.items() if row.get("support", 0) > 0]
    weakest = sorted(measured, key=lambda item: (item[1].get("f1", 0.0), item[0]))[:WEAKEST]
    if weakest and len(measured) > 1:
        blocks.append(
            _plain(
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
        blocks.append(_plain("Most frequent confusions: " + "; ".join(confusion) + "."))
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
        blocks.append(_plain(f"Method: {method['method']}."))
    if isinstance(ece, int | float):
        blocks.append(
            _plain(
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
                    _number(int(b.get("count", b.get("n", 0)))),
                    _number(b.get("confidence")),
                    _number(b.get("accuracy")),
                ),
            )
            for b in bins
        ]
        header = ("confidence bin", "records", "mean confidence", "accuracy")
        blocks.append(Table(header, tuple(rows)))
    notes = _threshold_notes(metrics)
    if notes:
        blocks.append(_plain("On the held-out records, " + "; ".join(notes) + "."))
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
            _plain(
                "Labels marked sensitive and records in sensitive collections always go to a "
                "person. Predictions are shown on public record pages with their confidence and "
                "a way to flag them."
            ),
        ),
    )


def _share(p: Mapping[str, Any]) -> str:
    return (
        f"{p['estimate']:.0%} ({p['successes']} of {p['n']}; 95% Wilson interval "
        f"{p['low']:.0%}–{p['high']:.0%})"
    )


def _monitoring(facts: Mapping[str, Any]) -> Section:
    """What watches the version now, since when, and the latest figures: only what is true.

    ``facts`` come from the app when the card is shown (they change after the version is made):
    ``live`` (is it the active version), ``watched_since`` and ``latest_day`` (ISO dates, or
    absent when no snapshot has been taken), the settings, ``precision`` (its spot checks) and
    ``drift`` (the latest scores).
    """
    blocks: list[Block] = []
    precision = facts.get("precision")
    if not facts.get("live"):
        blocks.append(
            _plain(
                "This version is not live, so nothing watches its predictions now: "
                "monitoring follows the field's active version."
            )
        )
    elif not facts.get("watched_since"):
        blocks.append(
            _plain(
                "Not monitored yet: no monitoring snapshot has been taken since this version "
                "went live, so there are no live figures to report."
            )
        )
    else:
        rate = float(facts.get("audit_rate") or 0.0)
        blocks.append(
            Paragraph(
                (
                    Text("Watched since "),
                    Text(str(facts["watched_since"]), "strong"),
                    Text(f"; latest snapshot {facts.get('latest_day') or NONE}."),
                )
            )
        )
        watched = [
            f"Spot checks: {rate:.0%} of the values it applies on its own, drawn at random, "
            "go to a person; the share confirmed is its live precision."
            if rate
            else "Spot checks are switched off (audit rate 0): no live precision is measured.",
            "Every day, per collection: predictions by status and label, confidence, the share "
            "sent to people, how often reviewers accept by confidence band, public flags.",
            f"Drift over {facts.get('window_days')} days: predicted labels, confidence, text "
            "length, script and the share of trigrams never seen in training, against the "
            "records it was trained and tested on (Jensen–Shannon distance; an alert at "
            f"{float(facts.get('drift_threshold') or 0):.2f} when chance explains the shift less "
            f"than once in a thousand and at least {facts.get('min_records')} records stand on "
            "each side).",
        ]
        blocks.append(Bullets(tuple((Text(line),) for line in watched)))
        rows = []
        if precision and precision.get("n"):
            expected = precision.get("expected")
            rows.append(
                Row(
                    "Live precision (spot checks)",
                    (_share(precision), f"{expected:.0%} held-out" if expected else NONE),
                    strong=bool(precision.get("below_expected")),
                )
            )
        for score in facts.get("drift") or []:
            crossed = " (crossed)" if score.get("crossed") else ""
            rows.append(
                Row(
                    str(score["title"]),
                    (f"{float(score['distance']):.3f}{crossed}", f"{float(score['line']):.2f}"),
                    strong=bool(score.get("crossed")),
                )
            )
        if rows:
            blocks.append(Table(("Latest figures", "value", "line"), tuple(rows)))
        alerts = int(facts.get("open_alerts") or 0)
        blocks.append(
            _plain(
                f"{alerts} open alert{'s' if alerts != 1 else ''}." if alerts else "No open alert."
            )
        )
    if precision and precision.get("n") and not facts.get("live"):
        blocks.append(_plain(f"While it was live, spot checks confirmed {_share(precision)}."))
    return Section("Monitoring", tuple(blocks))


def model_card(card: Mapping[str, Any], monitoring: Mapping[str, Any] | None = None) -> ModelCard:
    """The card for the facts stored with a version (see the module docstring).

    ``monitoring`` (what watches the version now, see :func:`_monitoring`) adds a section; the
    card says nothing about monitoring without it.
    """
    field = card.get("field") or {}
    title = f"Model card: {field.get('name') or field.get('key') or 'model'}"
    if card.get("version") is not None:
        title += f", version {card['version']}"
    intro: list[Block] = []
    made = [
        f"Created {card['created_at']}" if card.get("created_at") else "",
        f"by {card['created_by']}" if card.get("created_by") else "",
    ]
    if any(made):
        intro.append(_plain(" ".join(part for part in made if part) + "."))
    params = card.get("params") or {}
    if params.get("model"):
        intro.append(_plain(f"Model: {params['model']}."))
    limitations = Bullets(tuple((Text(line),) for line in known_limitations(card)))
    sections = (
        _intended_use(card),
        _training_data(card),
        _metrics_against_baselines(card),
        _per_label(card),
        _calibration(card),
        Section("Known limitations", (limitations,)),
        _routing(card),
    ) + ((_monitoring(monitoring),) if monitoring is not None else ())
    return ModelCard(title=title, intro=tuple(intro), sections=sections)
