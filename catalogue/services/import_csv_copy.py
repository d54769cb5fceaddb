"""The quick way in for a clean CSV file on PostgreSQL: parsed in C, copied in, checked in SQL.

The row-by-row reader (``imports._staged_rows``) checks every cell in Python, which was most of
an import's time outside the database. Here the file is scanned for NUL bytes in large blocks,
parsed by the same ``csv`` reader with the same settings (so the same cells come out), and each
row is copied as it comes, untouched, into a raw table of text columns. Stripping, the
identifier's checks and label spellings (each distinct spelling normalised once) are then a few
statements over the whole table, which fill the staging table the rest of the import reads.

Anything that is not plain (a NUL, a byte that is not UTF-8, a row with the wrong number of
columns, an empty or over-long identifier, an unknown label, a missing mapped column) makes this
path give up: its savepoint is rolled back and the caller reads the file row by row, which
stops at the first problem with its file, line and column. A clean file takes the quick path; a
bad one gets the exact message. Memory stays flat: one row at a time goes to ``COPY``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import DataError, connection, transaction

from catalogue.services.import_readers import ImportFileError, csv_header
from catalogue.services.import_staging import BATCH, Staging

RAW = "glamml_import_raw"
LABELS = "glamml_import_labels"
# Every character ``str.isspace()`` accepts: what ``str.strip()`` removes in the row-by-row
# reader, given to SQL's btrim so both paths store the same text.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# jsonb_build_object takes at most 100 arguments: the extra columns go in groups of 50 pairs.
JSON_PAIRS = 50

Label = Callable[[str, str], str]  # (field key, spelling) -> code; ImportFileError if unknown


class _GiveUp(Exception):
    """The file needs the row-by-row reader, which names the problem."""


def csv_copy_stage(
    *,
    path: Path,
    mapping: dict[str, str],
    columns: dict[str, str],
    field_keys: list[str],
    identifier_max: int,
    label: Label,
    progress: Callable[[int], None] | None = None,
) -> Staging | None:
    """Stage a clean CSV file set-wise, or ``None`` (nothing staged) if it needs row by row.

    ``columns`` maps each target (identifier, title, description and the field keys) to its
    column; every other column is kept as an extra, as the row-by-row reader keeps it.
    """
    if connection.vendor != "postgresql" or not _no_nul(path):
        return None
    try:
        with transaction.atomic():
            header = _copy_file(path, mapping=mapping, columns=columns, progress=progress)
            return _fill(
                header,
                columns=columns,
                field_keys=field_keys,
                identifier_max=identifier_max,
                label=label,
            )
    except (_GiveUp, DataError):
        return None


def _no_nul(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                if b"\x00" in block:
                    return False
    except OSError:
        return False
    return True


def _copy_file(
    path: Path,
    *,
    mapping: dict[str, str],
    columns: dict[str, str],
    progress: Callable[[int], None] | None,
) -> list[str]:
    """The file's rows, as the csv module parses them, in the raw table: its header."""
    # newline="\n": the reader sees the lines the row-by-row reader sees, so line numbers agree.
    with path.open(encoding="utf-8", newline="\n") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = csv_header(path, next(reader))
            if columns["identifier"] not in header or any(
                c not in header for c in mapping.values()
            ):
                raise _GiveUp
            _copy_raw(reader, len(header), progress)
        except (StopIteration, ImportFileError, csv.Error, UnicodeDecodeError) as exc:
            raise _GiveUp from exc
    return header


def _fill(
    header: list[str],
    *,
    columns: dict[str, str],
    field_keys: list[str],
    identifier_max: int,
    label: Label,
) -> Staging:
    """Blank rows dropped, identifiers checked, labels normalised: the staging table filled."""
    cell = {name: f"c{i}" for i, name in enumerate(header)}
    params: dict[str, Any] = {"ws": WHITESPACE, "max": identifier_max}
    ident = f"btrim({cell[columns['identifier']]}, %(ws)s)"
    with connection.cursor() as cursor:
        blank = " AND ".join(f"btrim({c}, %(ws)s) = ''" for c in cell.values())
        cursor.execute(f"DELETE FROM {RAW} WHERE {blank}", params)
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {RAW} WHERE char_length({ident}) = 0 "
            f"OR char_length({ident}) > %(max)s)",
            params,
        )
        if cursor.fetchone()[0]:
            raise _GiveUp
    joins, values = _labels(field_keys, columns, cell, label)

    def text(target: str) -> str:
        column = cell.get(columns[target])
        return f"btrim({column}, %(ws)s)" if column else "''"

    mapped = set(columns.values())
    extra = [name for name in header if name not in mapped]
    params.update({f"k{i}": name for i, name in enumerate(extra)})
    groups = [
        "jsonb_build_object("
        + ", ".join(f"%(k{i})s::text, nullif({cell[extra[i]]}, '')" for i in chunk)
        + ")"
        for chunk in _chunks(range(len(extra)), JSON_PAIRS)
    ]
    extra_sql = f"jsonb_strip_nulls({' || '.join(groups)})" if groups else "'{}'::jsonb"
    staging = Staging(len(field_keys))
    staging.fill(
        f"SELECT r.ord, 'line ' || r.line, {ident}, NULL, {text('title')}, "
        f"{text('description')}, {extra_sql}{''.join(', ' + v for v in values)} "
        f"FROM {RAW} AS r{joins} ORDER BY r.ord",
        params,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW}, {LABELS}")
    return staging


def _copy_raw(reader: Any, width: int, progress: Callable[[int], None] | None) -> None:
    """Copy the rows, as parsed, into a raw table with their line; blank lines are skipped."""
    cells = "".join(f", c{i} text" for i in range(width))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW}")
        cursor.execute(f"CREATE TEMPORARY TABLE {RAW} (ord bigint, line bigint{cells})")
        count = 0
        with cursor.cursor.copy(f"COPY {RAW} FROM STDIN") as copy:
            for row in reader:
                if len(row) != width:
                    if row:
                        raise _GiveUp
                    continue
                count += 1
                copy.write_row((count, reader.line_num, *row))
                if progress and count % BATCH == 0:
                    progress(BATCH)
    if progress and count % BATCH:
        progress(count % BATCH)


def _labels(
    field_keys: list[str], columns: dict[str, str], cell: dict[str, str], label: Label
) -> tuple[str, list[str]]:
    """Each field's distinct spellings normalised once: the joins and the value expressions."""
    found: list[tuple[int, str, str]] = []
    joins, values = "", []
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {LABELS}")
        cursor.execute(f"CREATE TEMPORARY TABLE {LABELS} (k int, raw text, code text)")
        for index, key in enumerate(field_keys):
            column = cell.get(columns[key])
            if column is None:
                values.append("''")
                continue
            cursor.execute(
                f"SELECT DISTINCT btrim({column}, %s) FROM {RAW} WHERE btrim({column}, %s) <> ''",
                [WHITESPACE, WHITESPACE],
            )
            for (spelling,) in cursor.fetchall():
                try:
                    found.append((index, spelling, label(key, spelling)))
                except ImportFileError as exc:
                    raise _GiveUp from exc
            joins += (
                f" LEFT JOIN {LABELS} AS l{index} ON l{index}.k = {index} "
                f"AND l{index}.raw = btrim(r.{column}, %(ws)s)"
            )
            values.append(f"coalesce(l{index}.code, '')")
        if found:
            with cursor.cursor.copy(f"COPY {LABELS} (k, raw, code) FROM STDIN") as copy:
                for item in found:
                    copy.write_row(item)
    return joins, values


def _chunks(items: range, size: int) -> Iterator[range]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
