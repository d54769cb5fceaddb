"""The statements of a prediction batch that read or write many rows at once.

On PostgreSQL each is one set-based statement whose plan does not depend on the tables'
statistics (a large catalogue's first bulk prediction starts from a predictions table
analysed when empty, and the server may run without autovacuum); elsewhere (SQLite, the demo)
the ORM does the same. :func:`jit_off` keeps PostgreSQL from compiling them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg.pq import TransactionStatus

from catalogue.field_records import settled_values
from catalogue.models import Field, FieldValue, ModelVersion, Prediction, Record
from catalogue.pgarrays import bigint_array
from catalogue.services.values import SETTLED_SOURCES


@contextmanager
def jit_off() -> Iterator[None]:
    """The statements run inside are not JIT-compiled by PostgreSQL (this connection only).

    The per-record probes below are estimated from stale statistics at about a hundred rows a
    record, over the server's ``jit_above_cost``: PostgreSQL then spent about 70 ms compiling
    a statement that runs in 15, on every batch. The answers are the same either way.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        # In a transaction that failed, the statement would fail too; its rollback undoes the
        # SET anyway (a SET made inside a transaction is rolled back with it). A connection the
        # server closed (a database outage mid-batch) is gone, and its SET with it.
        raw = connection.connection
        if (
            raw is not None
            and not raw.closed
            and raw.info.transaction_status
            not in (
                TransactionStatus.INERROR,
                TransactionStatus.UNKNOWN,
            )
        ):
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")


def commit_without_flush(*, outermost: bool) -> None:
    """With ``GLAMML_PREDICTIONS_ASYNC_COMMIT``, the batch's transaction commits without waiting
    for PostgreSQL to flush its WAL (``SET LOCAL synchronous_commit = off``).

    Only in a transaction of the batch's own (``outermost``): one a caller opened may hold a
    person's decision, which must be on disk when the commit returns. A worker killed mid-batch
    is as before (its transaction never commits); a database server that crashes can lose the
    last commits' predictions whole (never part of one), and the records are then predicted
    again by the periodic ``predict_pending``, as after a lost enqueue.
    """
    if settings.GLAMML_PREDICTIONS_ASYNC_COMMIT and outermost and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


class NewPrediction(NamedTuple):
    """A prediction of a batch before it is stored: what the insert writes."""

    record_id: int
    # The record's, as the batch read it (and routed and calibrated the row for): written by
    # the insert, so the trigger of migration 0021 has nothing to look up (about 20
    # microseconds a row). The insert skips the row if the record is no longer there.
    collection_id: int
    label: str
    confidence: float
    raw_confidence: float
    alternatives: list[list[str | float]]
    status: str
    routed_by: str
    margin: float
    audit_rank: float
    flagged: bool


def settled_among(*, field: Field, record_ids: list[int]) -> set[int]:
    """Which of these records have a value a person or the source catalogue set.

    On PostgreSQL one probe of the record's current value per record (as in
    :func:`statuses_of_version`): a plain ``IN`` list of a batch's 500 records was planned as a
    sequential scan of every value of every field, a batch's cost growing with the catalogue.
    """
    if connection.vendor != "postgresql":
        return set(
            settled_values(field=field)
            .filter(record_id__in=record_ids)
            .values_list("record_id", flat=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT b.id FROM unnest(%s::bigint[]) AS b(id) CROSS JOIN LATERAL (
                SELECT v.field_id, v.source, v.label FROM {FieldValue._meta.db_table} AS v
                WHERE v.record_id = b.id AND v.is_current OFFSET 0) AS q
            WHERE q.field_id = %s AND q.source = ANY(%s::text[]) AND q.label <> ''
            """,
            [bigint_array(record_ids), field.id, list(SETTLED_SOURCES)],
        )
        return {record_id for (record_id,) in cursor.fetchall()}


def statuses_of_version(
    *, field: Field, version: ModelVersion, record_ids: list[int]
) -> dict[int, str]:
    """The status of each of these records' predictions from ``version``, by record id.

    On PostgreSQL one probe of the record's index per record, as in
    :func:`~catalogue.services.routing.predictions_supersede_batch` and for the same reason: a
    plain ``IN`` list, planned from stale statistics, read every prediction of the version.
    """
    if connection.vendor != "postgresql":
        return dict(
            Prediction.objects.filter(
                field=field, model_version=version, record_id__in=record_ids
            ).values_list("record_id", "status")
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT b.id, q.status FROM unnest(%s::bigint[]) AS b(id) CROSS JOIN LATERAL (
                SELECT p.status, p.field_id, p.model_version_id
                FROM {Prediction._meta.db_table} AS p WHERE p.record_id = b.id OFFSET 0) AS q
            WHERE q.field_id = %s AND q.model_version_id = %s
            """,
            [bigint_array(record_ids), field.id, version.id],
        )
        return dict(cursor.fetchall())


def predictions_insert(
    new: list[NewPrediction], *, field: Field, version: ModelVersion
) -> list[tuple[int, int]]:
    """Insert the predictions, skipping conflicts; (id, record id) of each one inserted.

    On PostgreSQL one ``INSERT … SELECT FROM jsonb_to_recordset(…)`` with ``RETURNING``: Django's
    ``bulk_create`` spent most of a batch's storing time preparing each value in Python, and
    needs a second query to learn what it inserted when conflicts are skipped. Each new
    prediction's public code is drawn there too (``gen_random_uuid()``).

    A record moved to another collection since the batch read it is skipped: its row was
    calibrated and routed for the old collection (applied, say, where the new one is
    sensitive). It has then no prediction from the version, so the pending sweep predicts it
    again where it is now. On PostgreSQL the insert locks each record (``FOR SHARE``) as it
    checks its collection: a move waits for the batch's commit, and the move's trigger then
    takes the new rows along.
    """
    if connection.vendor != "postgresql":
        # Read in the batch's transaction: SQLite has one writer at a time, so a move that
        # commits after this read fails the batch's write (the task retries) instead.
        current = dict(
            Record.objects.filter(id__in=[p.record_id for p in new]).values_list(
                "id", "collection_id"
            )
        )
        new = [p for p in new if current.get(p.record_id) == p.collection_id]
        objects = [
            Prediction(field_id=field.id, model_version_id=version.id, **p._asdict()) for p in new
        ]
        Prediction.objects.bulk_create(objects, ignore_conflicts=True, batch_size=1000)
        found = Prediction.objects.filter(code__in=[p.code for p in objects])
        return list(found.values_list("id", "record_id"))
    now = timezone.now()
    with connection.cursor() as cursor:
        # The rows travel as one JSON document: psycopg quotes a list parameter value by value
        # in Python (a fifth of the storing time with an array per column), a string at once.
        # Each row is a JSON array in NewPrediction's order: no dict, no keys, per row.
        cursor.execute(
            f"""
            INSERT INTO {Prediction._meta.db_table} (
                record_id, collection_id, label, confidence, raw_confidence, alternatives, status,
                routed_by, margin, audit_rank, flagged,
                code, field_id, model_version_id, review_round, created_at, updated_at)
            SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2, (e->>3)::float8, (e->>4)::float8,
                   e->5, e->>6, e->>7, (e->>8)::float8, (e->>9)::float8, (e->>10)::bool,
                   gen_random_uuid(), %s, %s, 0, %s, %s
            FROM jsonb_array_elements(%s::jsonb) AS e CROSS JOIN LATERAL (
                SELECT 1 FROM {Record._meta.db_table} AS r
                WHERE r.id = (e->>0)::bigint AND r.collection_id = (e->>1)::bigint
                FOR SHARE) AS r
            ON CONFLICT DO NOTHING
            RETURNING id, record_id
            """,
            [field.id, version.id, now, now, json.dumps(new)],
        )
        return [(pk, record_id) for pk, record_id in cursor.fetchall()]
