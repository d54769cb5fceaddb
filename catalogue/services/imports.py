"""Importing records from CSV, JSON Lines, MARC 21 or MARCXML, all or nothing.

The file is read as a stream (``import_readers``) and every row checked as it comes; checked
rows go into a staging table (``import_staging``) and records and values are written from it by
a few set-based statements, all in one transaction: a file with an error stores nothing, and
the message names the file, line (or record) and column (or MARC field). Memory stays flat in
the file's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalogue.field_records import field_applies_to
from catalogue.interop.marc import MARC_SOURCES
from catalogue.models import Collection, Field, ModelVersion, Record
from catalogue.services.applicability import predictions_settle_agreeing
from catalogue.services.fields import LANGUAGE, field_ensure_language
from catalogue.services.import_csv_copy import csv_copy_stage
from catalogue.services.import_readers import (
    ImportFileError,
    Rows,
    rows_csv,
    rows_jsonl,
    rows_marc,
)
from catalogue.services.import_staging import BATCH, StagedRow, Staging, tables_analyze
from catalogue.services.labels import UnknownLabelError, label_normalise, labels_ensure
from catalogue.services.predictions import predicting_field_ids, predictions_enqueue

RECORD_ATTRIBUTES = ("identifier", "title", "description")
FORMATS = ("csv", "jsonl", "marc", "marcxml")
MARC_FORMATS = ("marc", "marcxml")
# Planner statistics are refreshed after an import that wrote at least this many records.
ANALYZE_AFTER = 10_000
# Prediction tasks written to the outbox and sent to the broker together.
TASKS_AT_ONCE = 100

__all__ = ["FORMATS", "ImportFileError", "ImportResult", "parse_mapping", "records_import"]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    values_set: int = 0
    values_kept_human: int = 0
    unchanged: int = 0
    rows: int = 0
    enqueued: int = 0  # records handed to the inference queue (for every predicting field)
    agreeing: int = 0  # waiting suggestions taken off the queue: the file's value agrees


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``["identifier=BL record ID", ...]`` -> ``{"identifier": "BL record ID", ...}``."""
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, column = item.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise ImportFileError(f"--map {item!r} must look like TARGET=COLUMN.")
        mapping[target.strip()] = column.strip()
    return mapping


class _Checker:
    """Checks rows one at a time against a mapping; label spellings are normalised once each."""

    def __init__(
        self, *, path: Path | str, fmt: str, mapping: dict[str, str], fields: dict[str, Field]
    ) -> None:
        self.path, self.fmt, self.fields = path, fmt, fields
        self.columns = {t: mapping.get(t, t) for t in (*RECORD_ATTRIBUTES, *fields)}
        self.mapped = set(self.columns.values())
        self._labels: dict[tuple[str, str], str] = {}

    def label(self, key: str, raw_value: str, line: str) -> str:
        known = self._labels.get((key, raw_value))
        if known is not None:
            return known
        try:
            code = label_normalise(field=self.fields[key], value=raw_value)
        except UnknownLabelError as exc:
            column = _column_name(self.fmt, self.columns[key])
            raise ImportFileError(f"{self.path}, {line}, {column}: {exc}") from None
        self._labels[(key, raw_value)] = code
        return code

    def row(self, line: str, raw: dict[str, str]) -> StagedRow:
        for name, text in raw.items():
            problem = _unstorable(text)
            if problem:
                column = _column_name(self.fmt, name)
                raise ImportFileError(f"{self.path}, {line}, {column}: {problem}")
        identifier = raw.get(self.columns["identifier"], "").strip()
        column = _column_name(self.fmt, self.columns["identifier"])
        if not identifier:
            raise ImportFileError(f"{self.path}, {line}, {column}: the identifier is empty.")
        if len(identifier) > IDENTIFIER_MAX_LENGTH:
            raise ImportFileError(
                f"{self.path}, {line}, {column}: the identifier is {len(identifier):,} "
                f"characters long; at most {IDENTIFIER_MAX_LENGTH} are allowed."
            )
        values = []
        for key in self.fields:
            raw_value = raw.get(self.columns[key], "").strip()
            values.append(self.label(key, raw_value, line) if raw_value else "")
        return StagedRow(
            line=line,
            identifier=identifier,
            title=raw.get(self.columns["title"], "").strip(),
            description=raw.get(self.columns["description"], "").strip(),
            extra={k: v for k, v in raw.items() if v and k not in self.mapped},
            values=values,
        )


IDENTIFIER_MAX_LENGTH = Record._meta.get_field("identifier").max_length or 200


def _unstorable(text: str) -> str:
    """Why a text cannot be stored as it is, or "" if it can."""
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL; without this check the whole import fails with a
        # database error that names no line.
        return "contains a NUL character (U+0000), which cannot be stored; remove it."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a lone surrogate (U+{ord(text[exc.start]):04X}) at character "
            f"{exc.start + 1}, which is not valid Unicode (often half of an emoji escaped "
            "as \\uD83D without its partner)."
        )
    return ""


def _column_name(fmt: str, column: str) -> str:
    """Where in a record a value was, as a message says it."""
    if fmt in MARC_FORMATS:
        return f"field {MARC_SOURCES.get(column, column)}"
    return f"column {column!r}"


def _check_header(
    *,
    path: Path | str,
    fmt: str,
    mapping: dict[str, str],
    columns: dict[str, str],
    header: dict[str, str],
) -> None:
    """Every mapped column is there (and, in a CSV file, an identifier column)."""
    if fmt in MARC_FORMATS:
        for target, column in mapping.items():
            if column not in header:
                raise ImportFileError(
                    f"--map {target}={column}: {column!r} is neither a MARC field (such as "
                    f"655 or 655a) nor one of {', '.join(header)}."
                )
    elif fmt == "csv":
        for target, column in mapping.items():
            if column not in header:
                raise ImportFileError(
                    f"{path}, line 1: column {column!r} (mapped to {target}) is missing; "
                    f"the file has {', '.join(header)}."
                )
        if columns["identifier"] not in header:
            raise ImportFileError(
                f"{path}, line 1: no identifier column; add --map identifier=COLUMN."
            )


def _rows(path: Path | str, fmt: str, mapping: dict[str, str], stream: Rows | None) -> Rows:
    if fmt not in FORMATS:
        raise ImportFileError(f"Unknown format {fmt!r}: use {', '.join(FORMATS)}.")
    if stream is not None:
        return stream
    if fmt in MARC_FORMATS:
        return rows_marc(Path(path), fmt, list(mapping.values()))
    return rows_csv(Path(path)) if fmt == "csv" else rows_jsonl(Path(path))


def _staged_rows(
    *, checker: _Checker, mapping: dict[str, str], stream: Rows | None
) -> Iterator[list[StagedRow]]:
    """The file's checked rows in batches; raises ``ImportFileError`` at the first problem."""
    path, fmt, fields = checker.path, checker.fmt, checker.fields
    for target in mapping:
        if target not in RECORD_ATTRIBUTES and target not in fields:
            known = ", ".join([*RECORD_ATTRIBUTES, *sorted(fields)])
            raise ImportFileError(f"--map {target}=...: {target!r} is not one of {known}.")
    rows = _rows(path, fmt, mapping, stream)
    _, header = next(rows)
    _check_header(path=path, fmt=fmt, mapping=mapping, columns=checker.columns, header=header)
    batch: list[StagedRow] = []
    for line, raw in rows:
        batch.append(checker.row(line, raw))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def records_import(
    *,
    path: Path | str,
    collection: Collection,
    fmt: str = "csv",
    mapping: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
    stream: Rows | None = None,
) -> ImportResult:
    """Create or update the file's records in ``collection``; store mapped values as ``import``.

    A re-import updates records with the same identifier; unchanged records and values are not
    written. A value a person decided is kept; the imported value does not replace it. The
    records that need a prediction (no value from the file or a person, none yet from the
    active version) are enqueued once the transaction commits. ``stream`` is rows another
    reader made (an OAI-PMH page): a header, then ``(where, row)``; ``path`` then only names the
    source in messages.
    """
    mapping = dict(mapping or {})
    if fmt in MARC_FORMATS:
        # A MARC record codes its language: import it unless the caller maps it elsewhere.
        mapping.setdefault(LANGUAGE, LANGUAGE)
    if LANGUAGE in mapping:
        field_ensure_language()
    fields = {
        f.key: f
        for f in Field.objects.filter(key__in=[k for k in mapping if k not in RECORD_ATTRIBUTES])
    }
    result = ImportResult()
    with transaction.atomic():
        checker = _Checker(path=path, fmt=fmt, mapping=mapping, fields=fields)
        staging = _stage(checker=checker, mapping=mapping, stream=stream, progress=progress)
        _refuse_duplicates(staging, path=path, fmt=fmt, mapping=mapping)
        _write(staging, collection=collection, fields=list(fields.values()), result=result)
        result.enqueued = _enqueue_predictions(staging, collection=collection)
        staging.drop()
        if result.created + result.updated >= ANALYZE_AFTER:
            transaction.on_commit(tables_analyze)
    return result


def _stage(
    *,
    checker: _Checker,
    mapping: dict[str, str],
    stream: Rows | None,
    progress: Callable[[int], None] | None,
) -> Staging:
    """The file's rows in the staging table: set-wise if the file is clean, else row by row."""
    known = {*RECORD_ATTRIBUTES, *checker.fields}
    if checker.fmt == "csv" and stream is None and set(mapping) <= known:
        staged = csv_copy_stage(
            path=Path(checker.path),
            mapping=mapping,
            columns=checker.columns,
            field_keys=list(checker.fields),
            identifier_max=IDENTIFIER_MAX_LENGTH,
            label=lambda key, spelling: checker.label(key, spelling, ""),
            progress=progress,
        )
        if staged is not None:
            return staged
    staging = Staging(len(checker.fields))
    for batch in _staged_rows(checker=checker, mapping=mapping, stream=stream):
        staging.add(batch)
        if progress:
            progress(len(batch))
    return staging


def _refuse_duplicates(
    staging: Staging, *, path: Path | str, fmt: str, mapping: dict[str, str]
) -> None:
    duplicate = staging.first_duplicate()
    if duplicate is not None:
        identifier, line, first = duplicate
        column = _column_name(fmt, mapping.get("identifier", "identifier"))
        raise ImportFileError(
            f"{path}, {line}, {column}: identifier {identifier!r} already appears on {first}."
        )


def _write(
    staging: Staging, *, collection: Collection, fields: list[Field], result: ImportResult
) -> None:
    now = timezone.now()
    result.rows = staging.rows
    result.created, result.updated = staging.records_write(collection_id=collection.id, now=now)
    result.unchanged = staging.rows - result.created - result.updated
    for index, field in enumerate(fields):
        labels_ensure(field=field, codes=staging.labels(index))
        values_set, kept = staging.values_write(index=index, field_id=field.id, now=now)
        if values_set:
            # A waiting suggestion the file now agrees with is no question for anyone.
            result.agreeing += predictions_settle_agreeing(field=field)
        result.values_set += values_set
        result.values_kept_human += kept


def _enqueue_predictions(staging: Staging, *, collection: Collection) -> int:
    """Hand the records that need a prediction to the inference queue, field by field."""
    enqueued = 0
    for field in Field.objects.filter(id__in=predicting_field_ids()).prefetch_related(
        "collections"
    ):
        if not field_applies_to(field=field, collection_id=collection.id):
            continue
        version = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
        # Many batches' records at a time: their tasks go to the outbox and the broker
        # together (``predictions_enqueue``), while memory stays bounded at any file size.
        for ids in staging.records_to_predict(
            field_id=field.id,
            version_id=version.id if version else None,
            batch=settings.GLAMML_INFERENCE_BATCH_SIZE * TASKS_AT_ONCE,
        ):
            enqueued += predictions_enqueue(field_id=field.id, record_ids=ids)
    return enqueued
