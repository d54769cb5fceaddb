"""What a field learns from: labelled records, and the rules of its rules baseline."""

from __future__ import annotations

from catalogue.models import Field
from catalogue.selectors import settled_values
from catalogue.services.inference import text_for_model
from glamml.ml.examples import Example
from glamml.ml.languages import is_training_language


def training_examples(*, field: Field) -> list[Example[int]]:
    """Labelled records from imported values and human decisions, never from model values.

    Each example's key is its record's id and its source the value's (import or human).
    Rejections carry no positive label (their value is empty): they are negative evidence,
    kept in the decision history, and never become a training label. Neither do the codes a
    catalogue stores that name no single language (``mul``, ``und``, collective codes).
    """
    values = settled_values(field=field).select_related("record").order_by("record_id")
    examples = []
    for value in values.iterator(chunk_size=2000):
        if field.kind == Field.Kind.LANGUAGE and not is_training_language(value.label):
            continue
        text = text_for_model(record=value.record, field=field)
        if text.strip():
            examples.append(
                Example(text=text, label=value.label, key=value.record_id, source=value.source)
            )
    return examples


def field_rules(*, field: Field) -> dict[str, list[str]]:
    """The rules baseline: per-label regular expressions, in label order."""
    return {
        label.code: [line.strip() for line in label.rules.splitlines() if line.strip()]
        for label in field.labels.exclude(rules="").order_by("code")
    }
