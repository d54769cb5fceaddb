"""Evaluate a language model on a labelled CSV file: what ``manage.py evaluate`` prints.

Labels in the file may be ISO 639-1, ISO 639-2/B (MARC), ISO 639-3 or English names; they are
normalised with :func:`glamml.ml.languages.normalise_language`. A file that cannot be read as
asked raises :class:`LabelledDataError` naming the file, line, column or label.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from glamml.ml.evaluation import evaluate
from glamml.ml.languages import UnknownLanguageError, normalise_language

NOT_UTF8 = "{path}: line {line} is not UTF-8 ({reason})"
MISSING_COLUMN = "{path}: no column {column!r} (the header has {header})"
UNKNOWN_LABEL = "{path}: line {line}, column {column!r}: unknown language label {label!r}"
EMPTY_LABEL = "{path}: line {line}, column {column!r}: empty label"
NO_ROWS = "{path}: no labelled rows"


class LabelledDataError(ValueError):
    """A labelled file that cannot be evaluated on; the message says where and why."""


class Predictor(Protocol):
    def predict(self, texts: list[str]) -> list[tuple[str, float]]: ...


def read_labelled_csv(
    path: str | os.PathLike[str], *, text_column: str = "text", label_column: str = "label"
) -> tuple[list[str], list[str]]:
    """Texts and normalised ISO 639-3 labels of a CSV file with a header row."""
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
    texts: list[str] = []
    labels: list[str] = []
    for row in reader:
        line = reader.line_num  # the physical line the row ends on (texts may hold newlines)
        label = (row.get(label_column) or "").strip()
        if not label:
            raise LabelledDataError(EMPTY_LABEL.format(path=name, line=line, column=label_column))
        try:
            labels.append(normalise_language(label))
        except UnknownLanguageError:
            raise LabelledDataError(
                UNKNOWN_LABEL.format(path=name, line=line, column=label_column, label=label)
            ) from None
        texts.append(row.get(text_column) or "")
    if not texts:
        raise LabelledDataError(NO_ROWS.format(path=name))
    return texts, labels


def benchmark(model: Predictor, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label figures, ECE, coverage at precision and speed.

    ``labels`` must already be normalised. ``texts_per_second`` times one batch prediction of
    all texts (the model is already loaded).
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
    }
