"""Counts the busy pages show, at a cost that does not grow with the catalogue.

Counting a million rows on every request is what made the queue and the search slow (issue 9),
so each count here is one of three kinds:

- **cached**: waiting predictions per (field, collection) and the collection summaries are one
  grouped query each, kept in the cache for ``GLAMML_COUNTS_SECONDS``. A cataloguer's decision
  and a visitor's flag forget the waiting counts at once (the person who acted sees the count
  move); bulk work (prediction, re-routing) shows within that many seconds.
- **capped**: a result set is counted exactly up to ``EXACT_UP_TO`` rows, which costs at most
  that many rows whatever the size of the catalogue.
- **estimated**: past the cap, PostgreSQL's planner estimate is shown as "about 227,000".
  SQLite has no usable estimate, and a SQLite catalogue is small: it counts exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Model, QuerySet

from catalogue.models import Collection, FieldValue, Prediction, Record

WAITING_KEY = "glamml:counts:waiting:v1"
SUMMARIES_KEY = "glamml:counts:collections:v1"
EXACT_UP_TO = 1000


# -- waiting predictions ------------------------------------------------------------------------


def waiting_counts() -> dict[tuple[int, int], int]:
    """Waiting predictions by ``(field id, collection id)``, from the cache or one query."""
    rows: list[list[int]] | None = cache.get(WAITING_KEY)
    if rows is None:
        rows = [
            [field_id, collection_id, n]
            for field_id, collection_id, n in Prediction.objects.filter(
                status=Prediction.Status.QUEUED
            )
            .order_by()
            .values_list("field_id", "record__collection_id")
            .annotate(n=Count("id"))
        ]
        cache.set(WAITING_KEY, rows, settings.GLAMML_COUNTS_SECONDS)
    return {(field_id, collection_id): n for field_id, collection_id, n in rows}


def waiting_count(*, field_id: int | None = None, collection_id: int | None = None) -> int:
    """How many predictions wait, for one field and/or one collection (``None``: all)."""
    return sum(
        n
        for (f, c), n in waiting_counts().items()
        if (field_id is None or f == field_id) and (collection_id is None or c == collection_id)
    )


def waiting_forget() -> None:
    """Drop the cached waiting counts (after a change a person expects to see at once)."""
    cache.delete(WAITING_KEY)


def counts_forget() -> None:
    """Drop every cached count: the next page that needs them counts again."""
    cache.delete_many([WAITING_KEY, SUMMARIES_KEY])


# -- collection summaries -----------------------------------------------------------------------


@dataclass
class CollectionCounts:
    records: int = 0
    model: int = 0
    queued: int = 0
    imported: int = 0
    human: int = 0


_SOURCE_ATTRIBUTE = {
    FieldValue.Source.MODEL: "model",
    FieldValue.Source.IMPORT: "imported",
    FieldValue.Source.HUMAN: "human",
}


def collection_counts(*, compute: bool = True) -> dict[int, CollectionCounts] | None:
    """Records per collection and where their current values came from, by collection id.

    From the cache; on a miss, two grouped queries over the whole catalogue (seconds at a
    million records, so at most once per ``GLAMML_COUNTS_SECONDS``), or ``None`` when
    ``compute`` is false: a search never pays for them.
    """
    cached: dict[int, dict[str, int]] | None = cache.get(SUMMARIES_KEY)
    if cached is None:
        if not compute:
            return None
        cached = _count_collections()
        cache.set(SUMMARIES_KEY, cached, settings.GLAMML_COUNTS_SECONDS)
    counts = {cid: CollectionCounts(**values) for cid, values in cached.items()}
    for (_, collection_id), n in waiting_counts().items():
        counts.setdefault(collection_id, CollectionCounts()).queued += n
    return counts


def _count_collections() -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {
        cid: {"records": n}
        for cid, n in Record.objects.order_by().values_list("collection_id").annotate(n=Count("id"))
    }
    for cid, source, n in (
        FieldValue.objects.filter(is_current=True)
        .exclude(label="")
        .order_by()
        .values_list("record__collection_id", "source")
        .annotate(n=Count("id"))
    ):
        if source in _SOURCE_ATTRIBUTE:
            counts.setdefault(cid, {"records": 0})[_SOURCE_ATTRIBUTE[source]] = n
    return counts


def collection_records_count(collection: Collection) -> ResultCount:
    """A collection's number of records: exact from the cached summaries, else capped or
    estimated (never the summaries computed for one collection's page)."""
    counts = collection_counts(compute=False)
    if counts is not None and collection.id in counts:
        return ResultCount(counts[collection.id].records)
    return result_count(Record.objects.filter(collection=collection))


# -- result sets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultCount:
    n: int
    estimated: bool = False


def result_count(queryset: QuerySet[Any]) -> ResultCount:
    """Exact up to ``EXACT_UP_TO`` rows, PostgreSQL's estimate past that."""
    if connection.vendor != "postgresql":
        return ResultCount(queryset.count())
    n = queryset.order_by()[: EXACT_UP_TO + 1].count()
    if n <= EXACT_UP_TO:
        return ResultCount(n)
    return ResultCount(max(planner_estimate(queryset), n), estimated=True)


def planner_estimate(queryset: QuerySet[Any]) -> int:
    """The number of rows PostgreSQL expects ``queryset`` to return (``EXPLAIN``, not a run)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def about(n: int) -> str:
    """``227431`` -> ``"227,000"``: an estimate shown with the precision it has."""
    digits = len(str(n))
    rounded = round(n, -(digits - 3)) if digits > 3 else n
    return f"{rounded:,}"


class CountedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator told its count (cached, capped or estimated) instead of running ``COUNT(*)``.

    ``count_text`` is what a page shows: the exact number, or "about 227,000".
    """

    def __init__(self, object_list: QuerySet[Model], per_page: int, *, total: ResultCount):
        super().__init__(object_list, per_page)
        self.total = total

    @cached_property
    def count(self) -> int:
        return self.total.n

    @property
    def estimated(self) -> bool:
        return self.total.estimated

    @property
    def count_text(self) -> str:
        return f"about {about(self.total.n)}" if self.total.estimated else str(self.total.n)
