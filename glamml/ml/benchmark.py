"""Evaluate a model on a labelled CSV file: what ``manage.py evaluate`` prints.

Labels are normalised by a function the caller gives (a field's vocabulary in the app); by
default as languages: ISO 639-1, ISO 639-2/B (MARC), ISO 639-3 or English names, normalised
with :func:`glamml.ml.languages.normalise_language`. A file that cannot be read as asked raises
:class:`LabelledDataError` naming the file, line, column or label. A label the model cannot
output (a collective language code, a label it has no examples of) is not a reason to stop:
it counts as an error, and the result says how many rows had one.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from glamml.ml.evaluation import evaluate
from glamml.ml.languages import UnknownLanguageError, normalise_language

NOT_UTF8 = "{path}: line {line} is not UTF-8 ({reason})"
MISSING_COLUMN = "{path}: no column {column!r} (the header has {header})"
UNKNOWN_LABEL = "{path}: line {line}, column {column!r}: unknown label {label!r} ({reason})"
EMPTY_LABEL = "{path}: line {line}, column {column!r}: empty label"
NO_ROWS = "{path}: no labelled rows"


class LabelledDataError(ValueError):
    """A labelled file that cannot be evaluated on; the message says where and why."""


Item = TypeVar("Item")


class Predictor(Protocol[Item]):
    def predict(self, texts: list[Item]) -> list[tuple[str, float]]: ...


@dataclass
class LabelledRows:
    """A labelled file's texts, normalised labels and, per row, the other columns asked for."""

    texts: list[str]
    labels: list[str]
    extras: list[dict[str, str]] = field(default_factory=list)


def read_labelled_csv(
    path: str | os.PathLike[str], *, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str]]:
    """Texts and normalised ISO 639-3 labels of a CSV file with a header row."""
    rows = read_labelled_rows(path, text_column=text_column, label_column=label_column)
    return rows.texts, rows.labels


def read_labelled_rows(
    path: str | os.PathLike[str],
    *,
    text_column: str = "text",
    label_column: str = "label",
    normalise: Callable[[str], str] = normalise_language,
    extra_columns: Sequence[str] = (),
) -> LabelledRows:
    """Texts, labels normalised by ``normalise`` (which raises ValueError for an unknown one),
    and the values of those ``extra_columns`` the file has."""
    name = str(path)
    raw = Path(path).read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LabelledDataError(NOT_UTF8.format(path=name, line=line, reason=exc.reason)) from None
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = reader.fieldnames or []
    for column in (text_column, label_column):
        if column not in header:
            raise LabelledDataError(
                MISSING_COLUMN.format(path=name, column=column, header=", ".join(header) or "none")
            )
    extras = [column for column in extra_columns if column in header]
    result = LabelledRows([], [], [])
    for row in reader:
        line = reader.line_num  # the physical line the row ends on (texts may hold newlines)
        label = (row.get(label_column) or "").strip()
        if not label:
            raise LabelledDataError(EMPTY_LABEL.format(path=name, line=line, column=label_column))
        try:
            result.labels.append(normalise(label))
        except (UnknownLanguageError, ValueError) as exc:
            raise LabelledDataError(
                UNKNOWN_LABEL.format(
                    path=name, line=line, column=label_column, label=label, reason=exc
                )
            ) from None
        result.texts.append(row.get(text_column) or "")
        result.extras.append({column: row.get(column) or "" for column in extras})
    if not result.texts:
        raise LabelledDataError(NO_ROWS.format(path=name))
    return result


def benchmark(
    model: Predictor[Item],
    texts: Sequence[Item],
    labels: Sequence[str],
    *,
    output_labels: Collection[str] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label figures, ECE, coverage at precision and speed.

    ``labels`` must already be normalised. ``texts_per_second`` times one batch prediction of
    all texts (the model is already loaded). With ``output_labels`` (what the model can
    answer), ``unpredictable`` counts the rows whose label is not one of them: they are in
    every figure, as errors.
    """
    batch = list(texts)
    start = time.perf_counter()
    answers = model.predict(batch)
    seconds = time.perf_counter() - start
    metrics = evaluate(list(labels), [label for label, _ in answers], [conf for _, conf in answers])
    return {
        "n": metrics["n"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "per_label": {
            label: {
                "precision": figures["precision"],
                "recall": figures["recall"],
                "f1": figures["f1"],
                "support": figures["support"],
            }
            for label, figures in metrics["per_label"].items()
        },
        "ece": metrics["ece"],
        "coverage_at_precision": metrics["coverage_at_precision"],
        "texts_per_second": len(batch) / seconds if seconds > 0 else None,
        "unpredictable": _unpredictable(labels, output_labels),
    }


def _unpredictable(
    labels: Sequence[str], output_labels: Collection[str] | None
) -> dict[str, Any] | None:
    if output_labels is None:
        return None
    missing = Counter(label for label in labels if label not in output_labels)
    return {"n": sum(missing.values()), "labels": dict(sorted(missing.items()))}
