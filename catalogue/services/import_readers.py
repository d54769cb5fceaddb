"""Readers for import files: each streams a header, then ``(where, row)`` pairs of strings.

Files are read line by line, never whole, so an import's memory does not grow with the file.
A problem raises ``ImportFileError`` naming the file and line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from catalogue.interop.marc import MarcError, marc_rows

csv.field_size_limit(10 * 1024 * 1024)

Rows = Iterator[tuple[str, dict[str, str]]]


UNCLOSED_QUOTE = "a quoted value starts in this row and its closing quote never comes."


class ImportFileError(Exception):
    """A problem with the file; nothing was stored."""


def _lines(path: Path) -> Iterator[str]:
    """The file's lines, decoded one by one so a bad byte is named with its line."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror}).") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"{path}, line {number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                    "save the file as UTF-8 and import it again."
                ) from None


def csv_header(path: Path, header: list[str]) -> list[str]:
    """A CSV file's column names as the import uses them (a byte-order mark and spaces trimmed)."""
    header = [h.strip().lstrip("\ufeff") for h in header]
    duplicates = {h for h in header if header.count(h) > 1}
    if duplicates:
        raise ImportFileError(f"{path}, line 1: column {sorted(duplicates)[0]!r} appears twice.")
    return header


def rows_csv(path: Path) -> Rows:
    reader = csv.reader(_lines(path), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty.") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path}, line 1: {exc}") from None
    header = csv_header(path, header)
    yield "line 1", {h: h for h in header}
    start = reader.line_num + 1  # the line where the row being read begins
    try:
        for row in reader:
            line, start = reader.line_num, reader.line_num + 1
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ImportFileError(
                    f"{path}, line {line}: expected {len(header)} columns, found {len(row)}."
                )
            yield f"line {line}", dict(zip(header, row, strict=True))
    except csv.Error as exc:
        if reader.line_num > start and "end of data" in str(exc):
            # A quote left open swallows the rest of the file: the csv module only notices at
            # the end, but the mistake is where the row with the quote began.
            raise ImportFileError(f"{path}, line {start}: {UNCLOSED_QUOTE}") from None
        raise ImportFileError(f"{path}, line {reader.line_num}: {exc}") from None


def rows_jsonl(path: Path) -> Rows:
    """JSON Lines: any keys (no header to check), non-string values kept as JSON text."""
    yield "", {}
    for line, raw in enumerate(_lines(path), start=1):
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
            if value is None:
                row[key] = ""
            elif isinstance(value, str):
                row[key] = value
            else:
                row[key] = json.dumps(value, ensure_ascii=False)
        yield f"line {line}", row


def rows_marc(path: Path, fmt: str, specs: list[str]) -> Rows:
    try:
        yield from marc_rows(path, fmt=fmt, specs=specs)
    except MarcError as exc:
        raise ImportFileError(str(exc)) from None
