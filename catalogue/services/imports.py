"""Importing records from CSV, JSON Lines, MARC 21 or MARCXML, all or nothing.

The whole file is read and checked before anything is written, so a file with an error stores
nothing and the message names the file, line (or record) and column (or MARC field). Every
reader yields the same row stream: a header, then ``(where, row)`` pairs of plain strings.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from catalogue.interop.marc import MARC_SOURCES, MarcError, marc_rows
from catalogue.models import Collection, Field, FieldValue, Record
from catalogue.services.fields import LANGUAGE, field_ensure_language
from catalogue.services.labels import UnknownLabelError, label_normalise, labels_ensure
from catalogue.services.predictions import predictions_enqueue_active_fields

T = TypeVar("T")
RECORD_ATTRIBUTES = ("identifier", "title", "description")
FORMATS = ("csv", "jsonl", "marc", "marcxml")
MARC_FORMATS = ("marc", "marcxml")

csv.field_size_limit(10 * 1024 * 1024)


class ImportFileError(Exception):
    """A problem with the file; nothing was stored."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    values_set: int = 0
    values_kept_human: int = 0
    unchanged: int = 0
    record_ids: list[int] = dc_field(default_factory=list)


@dataclass
class _Row:
    line: str
    identifier: str
    title: str
    description: str
    extra: dict[str, Any]
    values: dict[str, str]  # field key -> normalised label


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``["identifier=BL record ID", ...]`` -> ``{"identifier": "BL record ID", ...}``."""
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, column = item.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise ImportFileError(f"--map {item!r} must look like TARGET=COLUMN.")
        mapping[target.strip()] = column.strip()
    return mapping


def _rows_csv(path: Path, text: str) -> Iterator[tuple[str, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty.") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path}, line 1: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    duplicates = {h for h in header if header.count(h) > 1}
    if duplicates:
        raise ImportFileError(f"{path}, line 1: column {sorted(duplicates)[0]!r} appears twice.")
    yield "line 1", {h: h for h in header}
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ImportFileError(
                    f"{path}, line {line}: expected {len(header)} columns, found {len(row)}."
                )
            yield f"line {line}", dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise ImportFileError(f"{path}, line {reader.line_num}: {exc}") from None


def _rows_jsonl(path: Path, text: str) -> Iterator[tuple[str, dict[str, str]]]:
    header: dict[str, str] = {}
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path}, line {line}: not valid JSON ({exc.msg}).") from None
        if not isinstance(obj, dict):
            raise ImportFileError(f"{path}, line {line}: expected a JSON object.")
        row = {}
        for key, value in obj.items():
            header.setdefault(key, key)
            if value is None:
                row[key] = ""
            elif isinstance(value, str):
                row[key] = value
            else:
                row[key] = json.dumps(value, ensure_ascii=False)
        rows.append((f"line {line}", row))
    yield "", header
    yield from rows


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror}).") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{path}, line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8 and import it again."
        ) from None


def _marc_rows(
    path: Path, fmt: str, mapping: dict[str, str]
) -> Iterator[tuple[str, dict[str, str]]]:
    try:
        yield from marc_rows(path, fmt=fmt, specs=mapping.values())
    except MarcError as exc:
        raise ImportFileError(str(exc)) from None


def parse_records(
    *,
    path: Path | str,
    fmt: str,
    mapping: dict[str, str],
    fields: dict[str, Field],
    stream: Iterator[tuple[str, dict[str, str]]] | None = None,
) -> list[_Row]:
    """Read and check every row; raise ``ImportFileError`` naming file, line and column.

    ``stream`` is rows another reader made (an OAI-PMH page): a header, then ``(where, row)``;
    ``path`` then only names the source in messages and ``fmt`` says whose rows they are.
    """
    if fmt not in FORMATS:
        raise ImportFileError(f"Unknown format {fmt!r}: use {', '.join(FORMATS)}.")
    for target in mapping:
        if target not in RECORD_ATTRIBUTES and target not in fields:
            known = ", ".join([*RECORD_ATTRIBUTES, *sorted(fields)])
            raise ImportFileError(f"--map {target}=...: {target!r} is not one of {known}.")
    if stream is not None:
        rows_iter = stream
    elif fmt in MARC_FORMATS:
        rows_iter = _marc_rows(Path(path), fmt, mapping)
    else:
        text = _read_text(Path(path))
        rows_iter = _rows_csv(Path(path), text) if fmt == "csv" else _rows_jsonl(Path(path), text)
    _, header = next(rows_iter)
    columns = {t: mapping.get(t, t) for t in (*RECORD_ATTRIBUTES, *fields)}
    _check_header(path=path, fmt=fmt, mapping=mapping, columns=columns, header=header)
    rows: list[_Row] = []
    seen: dict[str, str] = {}
    for line, raw in rows_iter:
        rows.append(
            _parse_row(
                path=path, fmt=fmt, line=line, raw=raw, columns=columns, fields=fields, seen=seen
            )
        )
    return rows


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


def _parse_row(
    *,
    path: Path | str,
    fmt: str,
    line: str,
    raw: dict[str, str],
    columns: dict[str, str],
    fields: dict[str, Field],
    seen: dict[str, str],
) -> _Row:
    """One checked row; ``seen`` (identifier: where) grows by this row's identifier."""
    where = f"{path}, {line}, {_column_name(fmt, columns['identifier'])}"
    identifier = raw.get(columns["identifier"], "").strip()
    if not identifier:
        raise ImportFileError(f"{where}: the identifier is empty.")
    if identifier in seen:
        raise ImportFileError(
            f"{where}: identifier {identifier!r} already appears on {seen[identifier]}."
        )
    seen[identifier] = line
    values = {}
    for key, field in fields.items():
        raw_value = raw.get(columns[key], "").strip()
        if not raw_value:
            continue
        try:
            values[key] = label_normalise(field=field, value=raw_value)
        except UnknownLabelError as exc:
            raise ImportFileError(
                f"{path}, {line}, {_column_name(fmt, columns[key])}: {exc}"
            ) from None
    mapped_columns = set(columns.values())
    return _Row(
        line=line,
        identifier=identifier,
        title=raw.get(columns["title"], "").strip(),
        description=raw.get(columns["description"], "").strip(),
        extra={k: v for k, v in raw.items() if k not in mapped_columns and v != ""},
        values=values,
    )


def _chunks(items: list[T], size: int = 2000) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def records_import(
    *,
    path: Path | str,
    collection: Collection,
    fmt: str = "csv",
    mapping: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
    stream: Iterator[tuple[str, dict[str, str]]] | None = None,
) -> ImportResult:
    """Create or update the file's records in ``collection``; store mapped values as ``import``.

    A re-import updates records with the same identifier. A value a person decided is kept; the
    imported value does not replace it. Prediction of the imported records is enqueued once the
    transaction commits.
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
    rows = parse_records(
        path=Path(path) if stream is None else path,  # a stream's name may be a URL
        fmt=fmt,
        mapping=mapping,
        fields=fields,
        stream=stream,
    )
    result = ImportResult()
    with transaction.atomic():
        ids = _records_write(collection=collection, rows=rows, result=result, progress=progress)
        result.record_ids = [ids[r.identifier] for r in rows]
        for key, field in fields.items():
            wanted = {ids[r.identifier]: r.values[key] for r in rows if key in r.values}
            _values_write(field=field, wanted=wanted, result=result)
        predictions_enqueue_active_fields(record_ids=result.record_ids)
    return result


def _records_write(
    *,
    collection: Collection,
    rows: list[_Row],
    result: ImportResult,
    progress: Callable[[int], None] | None,
) -> dict[str, int]:
    """Write new and changed records; every row's record id by identifier."""
    now = timezone.now()
    existing = {
        identifier: (title, description, extra)
        for identifier, title, description, extra in Record.objects.filter(
            collection=collection
        ).values_list("identifier", "title", "description", "extra")
    }
    # Only new or changed records are written: re-importing an unchanged export is cheap.
    objs = [
        Record(
            collection=collection,
            identifier=r.identifier,
            title=r.title,
            description=r.description,
            extra=r.extra,
            created_at=now,
            updated_at=now,
        )
        for r in rows
        if existing.get(r.identifier) != (r.title, r.description, r.extra)
    ]
    for chunk in _chunks(objs):
        Record.objects.bulk_create(
            chunk,
            update_conflicts=True,
            unique_fields=["collection", "identifier"],
            update_fields=["title", "description", "extra", "updated_at"],
        )
        if progress:
            progress(len(chunk))
    if progress:
        progress(len(rows) - len(objs))
    result.created = sum(1 for r in rows if r.identifier not in existing)
    result.updated = len(objs) - result.created
    result.unchanged = len(rows) - len(objs)
    return dict(Record.objects.filter(collection=collection).values_list("identifier", "id"))


def _values_write(*, field: Field, wanted: dict[int, str], result: ImportResult) -> None:
    """Store the file's value for each record, as ``import``, unless a person decided it."""
    labels_ensure(field=field, codes=set(wanted.values()))
    current: dict[int, tuple[str, str]] = {}
    for ids in _chunks(list(wanted)):
        current.update(
            (rid, (label, source))
            for rid, label, source in FieldValue.objects.filter(
                field=field, is_current=True, record_id__in=ids
            ).values_list("record_id", "label", "source")
        )
    changed = []
    for rid, label in wanted.items():
        old = current.get(rid)
        if old is not None and old[1] == FieldValue.Source.HUMAN:
            result.values_kept_human += 1
        elif old is None or old != (label, FieldValue.Source.IMPORT):
            changed.append(rid)
    for ids in _chunks(changed):
        FieldValue.objects.filter(field=field, is_current=True, record_id__in=ids).update(
            is_current=False
        )
    FieldValue.objects.bulk_create(
        [
            FieldValue(
                record_id=rid,
                field=field,
                label=wanted[rid],
                source=FieldValue.Source.IMPORT,
                is_current=True,
            )
            for rid in changed
        ],
        batch_size=2000,
    )
    result.values_set += len(changed)
