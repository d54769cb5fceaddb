"""The staging table of an import: rows go in as they are read, then a few set-based statements.

Checked rows are copied into a temporary table (``COPY`` on PostgreSQL, large ``executemany``
batches on SQLite) while the file is read, so an import holds one batch in memory whatever the
file's size. Records and values are then written by a handful of ``INSERT … SELECT`` and
``UPDATE … FROM`` statements, whose row counts are the import's figures. Everything happens in
the caller's transaction: an error anywhere stores nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from catalogue.models import FieldValue

TABLE = "glamml_import_staging"
BATCH = 5000
HUMAN, IMPORT = FieldValue.Source.HUMAN.value, FieldValue.Source.IMPORT.value
NOT_APPLICABLE = FieldValue.Action.NOT_APPLICABLE.value


@dataclass(frozen=True)
class StagedRow:
    line: str
    identifier: str
    title: str
    description: str
    extra: dict[str, Any]
    values: Sequence[str]  # one per staged field, "" when the file has none


def _postgres() -> bool:
    return connection.vendor == "postgresql"


class Staging:
    """A temporary table holding one import's rows, with one value column per field."""

    def __init__(self, n_fields: int) -> None:
        self.value_columns = [f"v{i}" for i in range(n_fields)]
        self.rows = 0
        json_type = "jsonb" if _postgres() else "text"
        values = "".join(f", {c} text" for c in self.value_columns)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TABLE} (ord bigint, line text, identifier text, "
                f"code text, title text, description text, extra {json_type}, "
                f"record_id bigint{values})"
            )

    @property
    def _columns(self) -> str:
        return ", ".join(
            ["ord", "line", "identifier", "code", "title", "description", "extra"]
            + self.value_columns
        )

    def add(self, rows: list[StagedRow]) -> None:
        """Copy a batch of checked rows in."""
        postgres = _postgres()
        tuples = []
        for row in rows:
            self.rows += 1
            tuples.append(
                (
                    self.rows,
                    row.line,
                    row.identifier,
                    # PostgreSQL makes the codes of new records itself (gen_random_uuid).
                    None if postgres else uuid.uuid4().hex,
                    row.title,
                    row.description,
                    # As Django writes a JSONField, so SQLite can compare the text.
                    json.dumps(row.extra) if row.extra else "{}",
                    *row.values,
                )
            )
        with connection.cursor() as cursor:
            if postgres:
                with cursor.cursor.copy(f"COPY {TABLE} ({self._columns}) FROM STDIN") as copy:
                    for item in tuples:
                        copy.write_row(item)
            else:
                marks = ", ".join(["%s"] * (7 + len(self.value_columns)))
                sql = f"INSERT INTO {TABLE} ({self._columns}) VALUES ({marks})"
                cursor.executemany(sql, tuples)

    def fill(self, select: str, params: dict[str, Any]) -> None:
        """Stage the rows a ``SELECT`` of the staging table's columns makes, in one statement."""
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} ({self._columns}) {select}", params)
            self.rows = cursor.rowcount

    def first_duplicate(self) -> tuple[str, str, str] | None:
        """The first row (in file order) whose identifier an earlier row has: (id, line, first)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT identifier, line, first_line FROM (SELECT identifier, line, ord, "
                "first_value(line) OVER (PARTITION BY identifier ORDER BY ord) AS first_line, "
                "row_number() OVER (PARTITION BY identifier ORDER BY ord) AS n "
                f"FROM {TABLE}) AS t WHERE n = 2 ORDER BY ord LIMIT 1"
            )
            found = cursor.fetchone()
        return None if found is None else (found[0], found[1], found[2])

    def records_write(self, *, collection_id: int, now: datetime) -> tuple[int, int]:
        """Update changed records, insert new ones, note each row's record: (created, updated)."""
        differs = (
            "(r.title, r.description, r.extra) IS DISTINCT FROM (s.title, s.description, s.extra)"
            if _postgres()
            else "(r.title IS NOT s.title OR r.description IS NOT s.description "
            "OR r.extra IS NOT s.extra)"
        )
        code = "gen_random_uuid()" if _postgres() else "s.code"
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalogue_record AS r SET title = s.title, description = s.description, "
                f"extra = s.extra, updated_at = %s FROM {TABLE} AS s "
                f"WHERE r.collection_id = %s AND r.identifier = s.identifier AND {differs}",
                [now, collection_id],
            )
            updated = cursor.rowcount
            cursor.execute(
                "INSERT INTO catalogue_record (code, collection_id, identifier, title, "
                f"description, extra, created_at, updated_at) SELECT {code}, %s, s.identifier, "
                f"s.title, s.description, s.extra, %s, %s FROM {TABLE} AS s WHERE NOT EXISTS "
                "(SELECT 1 FROM catalogue_record AS r WHERE r.collection_id = %s "
                "AND r.identifier = s.identifier) ORDER BY s.ord",
                [collection_id, now, now, collection_id],
            )
            created = cursor.rowcount
            cursor.execute(
                f"UPDATE {TABLE} AS s SET record_id = r.id FROM catalogue_record AS r "
                "WHERE r.collection_id = %s AND r.identifier = s.identifier",
                [collection_id],
            )
        return created, updated

    def labels(self, index: int) -> set[str]:
        """The distinct non-empty values of one field."""
        column = self.value_columns[index]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT {column} FROM {TABLE} WHERE {column} <> ''")
            return {label for (label,) in cursor.fetchall()}

    def values_write(self, *, index: int, field_id: int, now: datetime) -> tuple[int, int]:
        """Store the file's values of one field as ``import``: (values set, kept as a person's).

        A current value a person decided stays; so does the same imported value. Any other
        current value gives way (it stays as history) and the file's value becomes current.
        """
        v = self.value_columns[index]
        current = (
            f"fv.record_id = s.record_id AND fv.field_id = %s AND fv.is_current AND s.{v} <> ''"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {TABLE} AS s JOIN catalogue_fieldvalue AS fv "
                f"ON {current} AND fv.source = %s",
                [field_id, HUMAN],
            )
            kept = cursor.fetchone()[0]
            cursor.execute(
                f"UPDATE catalogue_fieldvalue AS fv SET is_current = %s FROM {TABLE} AS s "
                f"WHERE {current} AND fv.source <> %s "
                f"AND NOT (fv.source = %s AND fv.label = s.{v})",
                [False, field_id, HUMAN, IMPORT],
            )
            cursor.execute(
                "INSERT INTO catalogue_fieldvalue (record_id, field_id, label, source, action, "
                "policy, is_current, created_at) "
                f"SELECT s.record_id, %s, s.{v}, %s, '', '', %s, %s FROM {TABLE} AS s "
                f"WHERE s.{v} <> '' AND NOT EXISTS (SELECT 1 FROM catalogue_fieldvalue AS fv "
                "WHERE fv.record_id = s.record_id AND fv.field_id = %s AND fv.is_current) "
                "ORDER BY s.ord",
                [field_id, IMPORT, True, now, field_id],
            )
            return cursor.rowcount, kept

    def records_to_predict(
        self, *, field_id: int, version_id: int | None, batch: int
    ) -> Iterator[list[int]]:
        """Ids of the staged records a field must predict, in batches.

        Not those whose value the file or a person settled (or marked not applicable), nor
        those the active version already predicted (a re-import of unchanged records enqueues
        nothing).
        """
        predicted = (
            " AND NOT EXISTS (SELECT 1 FROM catalogue_prediction AS p "
            "WHERE p.record_id = s.record_id AND p.model_version_id = %s)"
            if version_id is not None
            else ""
        )
        params: list[Any] = [field_id, HUMAN, IMPORT, NOT_APPLICABLE]
        if version_id is not None:
            params.append(version_id)
        # A server-side cursor on PostgreSQL: a client-side one receives every id at once
        # (700,000 at a million records), and the import's memory would grow with the file.
        with connection.chunked_cursor() as cursor:
            cursor.execute(
                f"SELECT s.record_id FROM {TABLE} AS s WHERE NOT EXISTS "
                "(SELECT 1 FROM catalogue_fieldvalue AS fv WHERE fv.record_id = s.record_id "
                "AND fv.field_id = %s AND fv.is_current AND ((fv.source IN (%s, %s) "
                f"AND fv.label <> '') OR fv.action = %s)){predicted} ORDER BY s.record_id",
                params,
            )
            while chunk := cursor.fetchmany(batch):
                yield [record_id for (record_id,) in chunk]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def tables_analyze() -> None:
    """Fresh planner statistics and visibility after a bulk load (PostgreSQL).

    ``VACUUM`` marks the new pages all-visible, so the index-only scans deep pages rely on (the
    collection page's and the queue's page by number) read no rows; autovacuum would come much
    later. Inside a transaction (a caller's ``atomic``), where ``VACUUM`` cannot run, statistics
    only.
    """
    if not _postgres():
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} catalogue_record, catalogue_fieldvalue")
