"""Pages of the review queue that cost the same on page 1 and page 6,000 (keyset pagination).

The queue is ordered flagged first, then by the chosen order's key, then by id. A page after
another starts *after the last item shown* (a cursor in the "Next" link), which is one range of
a partial index on the waiting items, whatever the depth. A page asked for by number
(``?page=200``) first finds the item before it by reading only the index (no rows), then reads
its 25 items the same way. Decisions taken meanwhile shift nothing: the next page starts after
the last item seen, not at an offset that has moved.

The number of waiting items, and so the number of pages, comes from the cached counts; a page
narrowed further (labels, a confidence range, words) is counted exactly up to a cap, and
estimated past it.

A confidence range is an index range only where ``flagged`` is fixed (it leads the index), so a
page that may hold both flagged and unflagged items reads each part as its own range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.fields.tuple_lookups import TupleGreaterThan

from catalogue.counts import result_count, waiting_count
from catalogue.models import Collection, Field, Prediction
from review.selectors.common import QUEUE_PAGE_SIZE, QueueItem
from review.selectors.queue import QUEUE_ORDERS, QueueSearch, queue_items, queue_predictions


@dataclass(frozen=True)
class Cursor:
    """Where an item sits in the queue's order: flagged or not, its order key, its id."""

    flagged: bool
    key: tuple[float, ...]
    id: int

    def encode(self) -> str:
        return "_".join(["f" if self.flagged else "n", *map(repr, self.key), str(self.id)])

    @classmethod
    def decode(cls, text: str, *, order: str) -> Cursor | None:
        """The cursor in ``text``, or ``None`` for anything that is not one of ``order``'s."""
        parts = text.split("_")
        width = len(QUEUE_ORDERS[order]) - 1
        if len(parts) != width + 2 or parts[0] not in {"f", "n"}:
            return None
        try:
            key = tuple(float(p) for p in parts[1:-1])
            id_ = int(parts[-1])
        except ValueError:
            return None
        if not all(math.isfinite(k) for k in key):
            return None
        return cls(flagged=parts[0] == "f", key=key, id=id_)


@dataclass
class QueuePage:
    """One page of the queue, with what the page's summary and links need."""

    items: list[QueueItem]
    number: int
    count: int
    next_cursor: str
    estimated: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / QUEUE_PAGE_SIZE))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * QUEUE_PAGE_SIZE + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.items) - 1 if self.items else 0

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def queue_page(
    *,
    field: Field | None = None,
    collection: Collection | None = None,
    order: str = "uncertainty",
    number: str | int | None = None,
    after: str = "",
    search: QueueSearch | None = None,
) -> QueuePage:
    """The page of waiting items after the cursor ``after``, else page ``number`` (from 1).

    Three queries for the items (the page, current values, open flags) plus label names, and
    one more, reading only an index, for a page asked for by number beyond the first.
    """
    order = order if order in QUEUE_ORDERS else "uncertainty"
    waiting = queue_predictions(field=field, collection=collection, order=order, search=search)
    estimated = False
    if search:
        counted = result_count(waiting)
        count, estimated = counted.n, counted.estimated
    else:
        count = waiting_count(
            field_id=field.id if field else None,
            collection_id=collection.id if collection else None,
        )
    pages = max(1, math.ceil(count / QUEUE_PAGE_SIZE))
    page = _page_number(number, pages)
    cursor = Cursor.decode(after, order=order) if after else None
    if cursor is None and page > 1:
        cursor = _cursor_at(waiting, order=order, offset=(page - 1) * QUEUE_PAGE_SIZE - 1)
    if cursor is not None:
        page = max(page, 2)
    elif page > 1:
        page = 1  # Asked beyond the end of a queue that has shrunk since it was counted.
    ranged = bool(search and search.has_range)
    rows = _rows(waiting, cursor, order=order, limit=QUEUE_PAGE_SIZE + 1, by_flag=ranged)
    more = len(rows) > QUEUE_PAGE_SIZE
    rows = rows[:QUEUE_PAGE_SIZE]
    start = (page - 1) * QUEUE_PAGE_SIZE
    return QueuePage(
        items=queue_items(rows),
        number=page,
        # Counts are cached: never say fewer than the page shows.
        count=max(count, start + len(rows) + (1 if more else 0)),
        next_cursor=_cursor_of(rows[-1], order=order).encode() if more else "",
        estimated=estimated,
    )


def _rows(
    waiting: QuerySet[Prediction], cursor: Cursor | None, *, order: str, limit: int, by_flag: bool
) -> list[Prediction]:
    """Up to ``limit`` items after ``cursor``. With ``by_flag``, where the page may cross from
    flagged to unflagged items, the two parts are read as two index ranges (a UNION of ids)
    and the few ids found are put in order."""
    if cursor is not None and not cursor.flagged:
        return list(waiting.filter(_after(cursor, order=order))[:limit])
    if not by_flag:
        after = waiting if cursor is None else waiting.filter(_after(cursor, order=order))
        return list(after[:limit])
    ids = waiting.prefetch_related(None).values_list("id", flat=True)
    flagged = ids.filter(flagged=True)
    if cursor is not None:
        flagged = flagged.filter(_greater(cursor, order=order))
    unflagged = ids.filter(flagged=False)[:limit]
    if connection.features.supports_slicing_ordering_in_compound:
        both: Any = flagged[:limit].union(unflagged, all=True)
    else:
        # SQLite allows no LIMIT inside a UNION: the two ranges are read one after the other.
        both = [*flagged[:limit], *unflagged]
    return list(waiting.filter(id__in=both)[:limit])


def _page_number(number: str | int | None, pages: int) -> int:
    try:
        page = int(number or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), pages)


def _key_fields(order: str) -> tuple[str, ...]:
    """The order's key without the final id (``("margin", "confidence")``)."""
    return QUEUE_ORDERS[order][:-1]


def _cursor_of(prediction: Prediction, *, order: str) -> Cursor:
    return Cursor(
        flagged=prediction.flagged,
        key=tuple(float(getattr(prediction, name)) for name in _key_fields(order)),
        id=prediction.id,
    )


def _cursor_at(waiting: QuerySet[Prediction], *, order: str, offset: int) -> Cursor | None:
    """The cursor of the item at ``offset``: only the indexed columns, so an index-only scan."""
    names = ("flagged", *_key_fields(order), "id")
    rows: list[tuple[Any, ...]] = list(
        waiting.prefetch_related(None).values_list(*names)[offset : offset + 1]
    )
    if not rows:
        return None
    row = rows[0]
    return Cursor(flagged=row[0], key=tuple(float(v) for v in row[1:-1]), id=row[-1])


def _after(cursor: Cursor, *, order: str) -> Q:
    """Items after ``cursor`` in ``-flagged, key..., id`` order.

    After an unflagged item: the unflagged items with a greater (key, id), one index range.
    After a flagged one: the flagged items with a greater (key, id) and every unflagged item;
    the index is read from its start, skipping the few flagged items before the cursor.
    """
    greater = _greater(cursor, order=order)
    if cursor.flagged:
        return Q(flagged=False) | Q(greater)
    return Q(flagged=False) & Q(greater)


def _greater(cursor: Cursor, *, order: str) -> Q:
    """Items with a greater (key..., id) than ``cursor``, flagged or not."""
    columns = [*_key_fields(order), "id"]
    return Q(TupleGreaterThan(tuple(columns), (*cursor.key, cursor.id)))
