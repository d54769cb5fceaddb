"""What a bulk decision would act on: the first items of a filtered queue, listed to confirm."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet

from catalogue.counts import ResultCount, result_count
from catalogue.models import Collection, Field, Prediction
from catalogue.services.bulk import BULK_LIMIT
from review.selectors.common import QueueItem
from review.selectors.queue import QueueSearch, queue_items, queue_predictions

# Routes that mean "a person looks at this one": never decided along with others.
LOOK_EACH = ("sensitive-collection", "sensitive-label", "flag")


@dataclass(frozen=True)
class BulkSelection:
    items: list[QueueItem]  # the first BULK_LIMIT, in the queue's order
    matching: ResultCount  # all the filtered items a bulk decision may take

    @property
    def more(self) -> bool:
        return self.matching.n > len(self.items)


def bulk_candidates(
    *,
    field: Field | None,
    collection: Collection | None,
    search: QueueSearch | None,
    order: str = "uncertainty",
) -> QuerySet[Prediction]:
    """The filtered waiting items a bulk decision may take: not flagged, not sensitive."""
    return (
        queue_predictions(field=field, collection=collection, order=order, search=search)
        .filter(flagged=False)
        .exclude(routed_by__in=LOOK_EACH)
    )


def bulk_selection(
    *,
    field: Field | None,
    collection: Collection | None,
    search: QueueSearch | None,
    order: str = "uncertainty",
) -> BulkSelection:
    candidates = bulk_candidates(field=field, collection=collection, search=search, order=order)
    return BulkSelection(
        items=queue_items(candidates[:BULK_LIMIT]), matching=result_count(candidates)
    )


def bulk_items_get(*, codes: Iterable[str]) -> dict[UUID, Prediction]:
    """The predictions named by ``codes`` (unknown or malformed codes are left out)."""
    valid = []
    for code in codes:
        try:
            valid.append(UUID(code))
        except ValueError:
            continue
    predictions = Prediction.objects.filter(code__in=valid).select_related(
        "record__collection", "field__policy", "model_version"
    )
    return {p.code: p for p in predictions}
