"""Measuring a field's active model on a labelled file, read as the app reads its records."""

from __future__ import annotations

import os
from typing import Any

from catalogue.machine import Model
from catalogue.models import Field
from catalogue.services.inference import EXTRA_EVIDENCE, record_reader
from catalogue.services.labels import label_normalise
from glamml.ml.benchmark import benchmark, read_labelled_rows
from glamml.ml.langid import LanguageIdentifier

# Columns of a labelled file a language model reads beside its text, as in a record.
LANGUAGE_COLUMNS = (*EXTRA_EVIDENCE, "notes")


class _RecordPredictor:
    """A language model reading each row as a record: the text as title, and the rest."""

    def __init__(self, model: LanguageIdentifier) -> None:
        self.reader = record_reader(model)

    def predict(self, texts: list[dict[str, str]]) -> list[tuple[str, float]]:
        return self.reader.predict_records(texts)


def field_evaluate(
    *,
    field: Field,
    model: Model,
    path: str | os.PathLike[str],
    text_column: str = "text",
    label_column: str = "label",
) -> dict[str, Any]:
    """The model's figures on the file, labels normalised by ``field``'s vocabulary.

    Raises :class:`~glamml.ml.benchmark.LabelledDataError` for a file that cannot be read as
    asked (the message names the line and label). A row whose label the model cannot output is
    scored as an error and counted in ``result["unpredictable"]``.
    """
    rows = read_labelled_rows(
        path,
        text_column=text_column,
        label_column=label_column,
        normalise=lambda value: label_normalise(field=field, value=value),
        extra_columns=LANGUAGE_COLUMNS if isinstance(model, LanguageIdentifier) else (),
    )
    if isinstance(model, LanguageIdentifier):
        records = [
            {"title": text, **extra} for text, extra in zip(rows.texts, rows.extras, strict=True)
        ]
        predictor = _RecordPredictor(model)
        return benchmark(
            predictor, records, rows.labels, output_labels=predictor.reader.output_labels()
        )
    return benchmark(model, rows.texts, rows.labels, output_labels=model.classes_)
