"""Records sent by another system (the JSON API), imported exactly as a file would be.

The submitted records become the same row stream the file readers make, so they go through the
one import path: checked whole before anything is written, re-submission updates in place, a
value a person decided is kept, and prediction is enqueued after the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from catalogue.models import Collection, Field, Record
from catalogue.services.fields import LANGUAGE
from catalogue.services.imports import RECORD_ATTRIBUTES, ImportResult, records_import

UNKNOWN_FIELD = "{where}: no field {key!r}; the fields are {known}."
CLASHING_EXTRA = "{where}: {key!r} is a record attribute or a field, not an extra column."
SOURCE = "request"


class SubmissionError(ValueError):
    """A submitted record is wrong; ``where`` is its place in the request (``records.2.values``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


@dataclass
class SubmittedRecord:
    identifier: str
    title: str = ""
    description: str = ""
    values: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Submitted:
    result: ImportResult
    codes: list[UUID]


def _check(records: Sequence[SubmittedRecord], fields: set[str]) -> None:
    for i, record in enumerate(records):
        for key in record.values:
            if key not in fields:
                where = f"records.{i}.values.{key}"
                known = ", ".join(sorted(fields))
                raise SubmissionError(
                    where, UNKNOWN_FIELD.format(where=where, key=key, known=known)
                )
        for key in record.extra:
            if key in RECORD_ATTRIBUTES or key in fields:
                where = f"records.{i}.extra.{key}"
                raise SubmissionError(where, CLASHING_EXTRA.format(where=where, key=key))


def _stream(
    records: Sequence[SubmittedRecord], columns: list[str]
) -> Iterator[tuple[str, dict[str, str]]]:
    yield "", {c: c for c in columns}
    for i, r in enumerate(records):
        row = {"identifier": r.identifier, "title": r.title, "description": r.description}
        yield f"records.{i}", {**row, **r.extra, **r.values}


def records_submit(*, collection: Collection, records: Sequence[SubmittedRecord]) -> Submitted:
    """Import ``records`` into ``collection``, their values stored as imported.

    Raises ``SubmissionError`` for an unknown field and ``ImportFileError`` for what the import
    refuses (a duplicate identifier, an unknown label), naming the record; nothing is stored.
    """
    fields = {LANGUAGE, *Field.objects.values_list("key", flat=True)}
    _check(records, fields)
    used = sorted({key for r in records for key in r.values})
    result = records_import(
        path=SOURCE,
        collection=collection,
        fmt="jsonl",
        mapping={key: key for key in used},
        stream=_stream(records, [*RECORD_ATTRIBUTES, *used]),
    )
    identifiers = [r.identifier.strip() for r in records]
    codes = dict(
        Record.objects.filter(collection=collection, identifier__in=identifiers).values_list(
            "identifier", "code"
        )
    )
    return Submitted(result=result, codes=[codes[i] for i in identifiers])
