"""The rest of a record, shown beside one item at a time (focus mode and the item page)."""

from __future__ import annotations

from collections.abc import Iterable

from catalogue.models import Field, label_title
from catalogue.selectors import extra_items
from review.selectors.common import QueueItem
from review.selectors.queue import label_names


def queue_items_with_details(items: Iterable[QueueItem]) -> list[QueueItem]:
    """Fill each item's ``details``: its record's other fields' values (by name) and the
    record's extra catalogue fields. Two queries, however many items."""
    items = list(items)
    values = [v for i in items for v in i.prediction.record.current_values if v.label]
    field_ids = {v.field_id for v in values}
    fields = dict(Field.objects.filter(id__in=field_ids).values_list("id", "name"))
    names = label_names(field_ids=field_ids)
    for item in items:
        record = item.prediction.record
        item.details = [
            (
                fields.get(v.field_id, ""),
                label_title(v.label, names.get(v.field_id, {}).get(v.label)),
            )
            for v in record.current_values
            if v.label and v.field_id != item.prediction.field_id
        ]
        if record.description:
            item.details.append(("Description", record.description))
        item.details.extend(extra_items(record))
    return items
