"""What a field learns from: labelled records, and the rules of its rules baseline."""

from __future__ import annotations

from typing import Any, NamedTuple

from catalogue.field_records import settled_values
from catalogue.models import Field
from catalogue.services.inference import text_for_model
from glamml.ml.examples import Example
from glamml.ml.languages import is_training_language


class _RecordTexts(NamedTuple):
    """What the model reads of a record, as a row (a ``Record`` object each cost more)."""

    title: str
    description: str
    extra: Any


def training_examples(*, field: Field) -> list[Example[int]]:
    """Labelled records from imported values and human decisions, never from model values.

    Each example's key is its record's id and its source the value's (import or human).
    Rejections carry no positive label (their value is empty): they are negative evidence,
    kept in the decision history, and never become a training label. Neither do the codes a
    catalogue stores that name no single language (``mul``, ``und``, collective codes).
    """
    # Plain rows in chunks, not model objects: a field may have hundreds of thousands.
    rows = (
        settled_values(field=field)
        .order_by("record_id")
        .values_list(
            "record_id", "label", "source", "record__title", "record__description", "record__extra"
        )
    )
    examples = []
    for record_id, label, source, title, description, extra in rows.iterator(chunk_size=5000):
        if field.kind == Field.Kind.LANGUAGE and not is_training_language(label):
            continue
        record = _RecordTexts(title, description, extra)
        text = text_for_model(record=record, field=field)
        if text.strip():
            examples.append(Example(text=text, label=label, key=record_id, source=source))
    return examples


def field_rules(*, field: Field) -> dict[str, list[str]]:
    """The rules baseline: per-label regular expressions, in label order."""
    return {
        label.code: [line.strip() for line in label.rules.splitlines() if line.strip()]
        for label in field.labels.exclude(rules="").order_by("code")
    }
