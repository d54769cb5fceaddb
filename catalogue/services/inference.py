"""What a field's model reads from a record, and its answers for a batch of records.

A label field's model reads one text (the record values named by ``field.text_source``). A
language field's model reads the whole record as separate evidence
(:class:`~glamml.ml.records.RecordLanguageModel`): the title text, the title in its original
script, place of publication, publisher and notes, where the record has them. "Leipzig : Verlag
von …" is evidence for German under an English title, and a record with no letters is an
abstention (``("und", 0.0)``), never a confident guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from catalogue.machine import Model
from catalogue.models import Field
from glamml.ml.langid import LanguageIdentifier
from glamml.ml.records import RecordLanguageModel
from glamml.ml.text import record_text
from glamml.ml.topk import TopK

# Record.extra keys read as their own evidence by a language field (MARC import fills them).
EXTRA_EVIDENCE = ("title_original_script", "place", "publisher")


class RecordText(Protocol):
    """What a model reads of a record: a ``Record``, or a prediction batch's plain row."""

    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def extra(self) -> Any: ...


def text_for_model(*, record: RecordText, field: Field) -> str:
    """The text a field's model reads: the record's values named by ``field.text_source``.

    ``title`` and ``description`` are the record's own; any other name is a column of its
    ``extra`` values.
    """
    extra = record.extra if isinstance(record.extra, dict) else {}
    values = {**extra, "title": record.title, "description": record.description}
    return record_text(values, field.text_source or ["title"])


def language_evidence(*, record: RecordText, field: Field) -> dict[str, str]:
    """The texts a language model reads from ``record``, by the name the model weighs them by.

    The field's text is the title evidence. The description counts as notes (MARC 5xx notes
    are imported there) unless the field already reads it as part of its text.
    """
    extra = record.extra if isinstance(record.extra, dict) else {}
    evidence = {"title": text_for_model(record=record, field=field)}
    for key in EXTRA_EVIDENCE:
        value = extra.get(key)
        if isinstance(value, str) and value.strip():
            evidence[key] = value
    notes = extra.get("notes")
    if not (isinstance(notes, str) and notes.strip()) and "description" not in field.text_source:
        notes = record.description
    if isinstance(notes, str) and notes.strip():
        evidence["notes"] = notes
    return evidence


def language_evidence_columns(
    *, records: Sequence[RecordText], field: Field
) -> dict[str, list[str]]:
    """:func:`language_evidence` of each record, field by field ("" where a record has none).

    What a batch hands the model (:meth:`RecordLanguageModel.predict_columns_top_k`): one list
    per field instead of a dictionary per record.
    """
    extras = [r.extra if isinstance(r.extra, dict) else {} for r in records]
    if (field.text_source or ["title"]) == ["title"]:  # the usual field: its title alone
        titles = [str(r.title) if r.title else "" for r in records]
    else:
        titles = [text_for_model(record=r, field=field) for r in records]
    columns = {"title": titles}
    for key in EXTRA_EVIDENCE:
        columns[key] = [
            v if isinstance(v := extra.get(key), str) and v.strip() else "" for extra in extras
        ]
    # The catalogue's notes; else the description, unless the field reads it as its text.
    described = "description" not in field.text_source
    columns["notes"] = [
        v
        if isinstance(v := extra.get("notes"), str) and v.strip()
        else (d if described and isinstance(d := r.description, str) and d.strip() else "")
        for r, extra in zip(records, extras, strict=True)
    ]
    return columns


def record_reader(model: LanguageIdentifier) -> RecordLanguageModel:
    """The whole-record reader around a language identifier, with the settings of its file."""
    return RecordLanguageModel.from_identifier(model)


def predict_records_top_k(
    *, model: Model, field: Field, records: Sequence[RecordText], k: int = 3
) -> list[list[tuple[str, float]]]:
    """The ``k`` likeliest values of ``field`` for each record, best first."""
    if isinstance(model, LanguageIdentifier):
        top = predict_records_top_k_arrays(model=model, field=field, records=records, k=k)
        return top.as_lists()
    return model.predict_top_k([text_for_model(record=r, field=field) for r in records], k=k)


def predict_records_top_k_arrays(
    *, model: Model, field: Field, records: Sequence[RecordText], k: int = 3
) -> TopK:
    """:func:`predict_records_top_k` as arrays, for a prediction batch's array work."""
    if isinstance(model, LanguageIdentifier):
        columns = language_evidence_columns(records=records, field=field)
        return record_reader(model).predict_columns_top_k(columns, len(records), k=k)
    texts = [text_for_model(record=r, field=field) for r in records]
    return TopK.from_lists(model.predict_top_k(texts, k=k))


def predict_records(
    *, model: Model, field: Field, records: Sequence[RecordText]
) -> list[tuple[str, float]]:
    """The best value of ``field`` and its confidence for each record."""
    return [top[0] for top in predict_records_top_k(model=model, field=field, records=records, k=1)]
