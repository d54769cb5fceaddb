"""Counts the busy pages show, at a cost that does not grow with the catalogue.

Counting a million rows on every request is what made the queue and the search slow (issue 9),
so each count here is one of three kinds:

- **cached**: waiting predictions per (field, collection) and the collection summaries are one
  grouped query each (0.1–0.9 s at a million records). A request that finds a count older than
  ``GLAMML_COUNTS_SECONDS`` is served it as it is, and counts it again *after* its response is
  sent (Django's ``request_finished``), one request at a time, so no request waits for a count
  and the next one has the fresh figure (the web worker that counts is busy for that time after
  its response: the other workers take the requests meanwhile). Only when there is no count at
  all (a cold cache) does a request count before answering; outside a request (a task, a
  command) a count is made at once. A cataloguer's decision or undo moves the cached count at
  once; a visitor's flag has it counted again after the flag's response; bulk work
  (prediction, re-routing) shows within ``GLAMML_COUNTS_SECONDS`` (and the request after).
- **capped**: a result set is counted exactly up to ``EXACT_UP_TO`` rows, which costs at most
  that many rows whatever the size of the catalogue.
- **estimated**: past the cap, PostgreSQL's planner estimate is shown as "about 227,000".
  SQLite has no usable estimate, and a SQLite catalogue is small: it counts exactly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.db.models import Count, Model, QuerySet

from catalogue.models import Collection, FieldValue, Prediction, Record

WAITING_KEY = "glamml:counts:waiting:v2"
SUMMARIES_KEY = "glamml:counts:collections:v2"
EXACT_UP_TO = 1000
# A count past its time is kept this many times longer, to serve while it is counted again.
KEEP_STALE = 10


# -- counting after the response ---------------------------------------------------------------

logger = logging.getLogger(__name__)

# The recounts the current request found due, run once its response is sent; ``None`` outside
# a request (a task or a command counts at once).
_after_response: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "glamml_counts_after_response", default=None
)


def _on_request_started(**kwargs: Any) -> None:
    _after_response.set([])


def _on_request_finished(**kwargs: Any) -> None:
    """Run the recounts the request found due: the response is already with the client."""
    pending = _after_response.get()
    _after_response.set(None)  # what follows in this thread is outside a request
    if not pending:
        return
    recounts = pending[:]
    pending.clear()
    for recount in recounts:
        try:
            recount()
        except Exception:  # a failed recount leaves the last count; the next request tries again
            logger.exception("Counting again after the response failed")
    # Django's own handler ran before this one: close what the recount opened, as it would.
    if not connection.in_atomic_block:
        close_old_connections()


request_started.connect(_on_request_started, dispatch_uid="glamml_counts_request_started")
request_finished.connect(_on_request_finished, dispatch_uid="glamml_counts_request_finished")


def _count(key: str, count: Callable[[], Any]) -> Any:
    try:
        value = count()
        cache.set(
            key,
            {"at": time.time(), "value": value},
            timeout=settings.GLAMML_COUNTS_SECONDS * KEEP_STALE,
        )
    finally:
        cache.delete(f"{key}:counting")
    return value


def _count_later(key: str, count: Callable[[], Any], last: Any) -> Any:
    """Count ``key`` again after the current response, unless another request is already
    counting it, and return ``last``; outside a request, count it at once and return that."""
    if not cache.add(f"{key}:counting", 1, timeout=settings.GLAMML_COUNTS_SECONDS):
        return last
    pending = _after_response.get()
    if pending is None:
        return _count(key, count)
    pending.append(partial(_count, key, count))
    return last


# -- waiting predictions ------------------------------------------------------------------------


def _cached(key: str, count: Callable[[], Any], *, compute: bool = True) -> Any:
    """The count under ``key``: from the cache, however old, counted again after the response
    when it is past ``GLAMML_COUNTS_SECONDS``; counted in the request only when there is none.

    With ``compute`` false, the last count of any age, or ``None`` (nothing is counted).
    """
    entry: dict[str, Any] | None = cache.get(key)
    if entry is not None and (
        not compute or time.time() - entry["at"] < settings.GLAMML_COUNTS_SECONDS
    ):
        return entry["value"]
    if not compute:
        return None
    if entry is None:
        return _count(key, count)
    return _count_later(key, count, entry["value"])


def waiting_counts() -> dict[tuple[int, int], int]:
    """Waiting predictions by ``(field id, collection id)``, from the cache or one query."""
    rows: list[list[int]] = _cached(WAITING_KEY, _count_waiting)
    return {(field_id, collection_id): n for field_id, collection_id, n in rows}


def _count_waiting() -> list[list[int]]:
    return [
        [field_id, collection_id, n]
        for field_id, collection_id, n in Prediction.objects.filter(status=Prediction.Status.QUEUED)
        .order_by()
        .values_list("field_id", "collection_id")
        .annotate(n=Count("id"))
    ]


def waiting_count(*, field_id: int | None = None, collection_id: int | None = None) -> int:
    """How many predictions wait, for one field and/or one collection (``None``: all)."""
    return sum(
        n
        for (f, c), n in waiting_counts().items()
        if (field_id is None or f == field_id) and (collection_id is None or c == collection_id)
    )


def waiting_adjust(*, field_id: int, collection_id: int, by: int) -> None:
    """Move the cached count of one (field, collection) by ``by``, without counting again.

    A cataloguer's decision (-1) or undo (+1) shows at once. Two at the same instant may lose
    one step (read, change, write): the next count, within ``GLAMML_COUNTS_SECONDS``, heals it.
    """
    entry: dict[str, Any] | None = cache.get(WAITING_KEY)
    if entry is None:
        return
    rows: list[list[int]] = entry["value"]
    for row in rows:
        if row[:2] == [field_id, collection_id]:
            row[2] = max(0, row[2] + by)
            break
    else:
        rows.append([field_id, collection_id, max(0, by)])
    age = time.time() - entry["at"]
    cache.set(
        WAITING_KEY, entry, timeout=max(1, int(settings.GLAMML_COUNTS_SECONDS * KEEP_STALE - age))
    )


def waiting_forget() -> None:
    """Count the waiting predictions again: after this request's response (the request after
    it has the new count), or by the next request that reads them, outside a request."""
    entry: dict[str, Any] | None = cache.get(WAITING_KEY)
    if entry is not None:
        entry["at"] = 0.0
        cache.set(WAITING_KEY, entry, timeout=settings.GLAMML_COUNTS_SECONDS * KEEP_STALE)
        if _after_response.get() is not None:
            _count_later(WAITING_KEY, _count_waiting, None)


def counts_forget() -> None:
    """Drop every cached count: the next page that needs them counts again."""
    cache.delete_many([WAITING_KEY, SUMMARIES_KEY, f"{WAITING_KEY}:counting"])


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
    cached: dict[int, dict[str, int]] | None = _cached(
        SUMMARIES_KEY, _count_collections, compute=compute
    )
    if cached is None:
        return None
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

    def page(self, number: int | str) -> Page:  # type: ignore[type-arg]
        """A full page whatever the count says: a count from the cache or the planner may be
        behind the catalogue, and must not hide the records past it (it grows to match)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        shown = self._rows(bottom)
        if bottom + len(shown) > self.total.n:
            self.total = ResultCount(bottom + len(shown), self.total.estimated)
            self.__dict__.pop("count", None)
            self.__dict__.pop("num_pages", None)
        return Page(shown, number, self)

    def _rows(self, bottom: int) -> list[Any]:
        return list(self.object_list[bottom : bottom + self.per_page])

    @property
    def count_text(self) -> str:
        return f"about {about(self.total.n)}" if self.total.estimated else str(self.total.n)


class KeysetPaginator(CountedPaginator):
    """Pages of a queryset ordered by one unique ``key``, read without the rows before them.

    ``OFFSET 50,000`` makes PostgreSQL read and throw away 50,000 whole rows. Here a page after
    another starts after the last key shown (``after``, which the "Next" link carries), one range
    of the key's index; a page asked for by number first finds the key before it by reading the
    key column alone (an index-only scan when the index holds it), then reads its own rows.
    """

    def __init__(
        self,
        object_list: QuerySet[Model],
        per_page: int,
        *,
        total: ResultCount,
        key: str,
        after: str = "",
    ):
        super().__init__(object_list, per_page, total=total)
        self.records, self.key, self.after = object_list, key, after

    def page(self, number: int | str) -> Page:  # type: ignore[type-arg]
        page = super().page(number)
        rows = page.object_list
        page.next_after = getattr(rows[-1], self.key) if rows else ""  # type: ignore[attr-defined]
        return page

    def _rows(self, bottom: int) -> list[Any]:
        if not bottom:
            return super()._rows(0)
        after = self.after
        if not after:
            before = list(self.records.values_list(self.key, flat=True)[bottom - 1 : bottom])
            if not before:
                return []
            after = before[0]
        rows = self.records.filter(**{f"{self.key}__gt": after})
        return list(rows[: self.per_page])
