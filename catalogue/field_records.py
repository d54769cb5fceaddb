"""Which records a field covers and which of their values are settled: the reads that
prediction, training, monitoring and sharing start from."""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from catalogue.models import Field, FieldValue, Record
from catalogue.pgarrays import bigint_array


def settled_values(*, field: Field) -> QuerySet[FieldValue]:
    """Current, non-empty values that a person or the source catalogue set.

    These are what the model learns from and what it never predicts over.
    """
    return FieldValue.objects.filter(
        field=field,
        is_current=True,
        source__in=[FieldValue.Source.IMPORT, FieldValue.Source.HUMAN],
    ).exclude(label="")


def field_applies_to(*, field: Field, collection_id: int) -> bool:
    """Whether ``field`` is predicted in the collection: it names it, or names none. Reads
    the field's collections once (or their prefetched list)."""
    chosen = {collection.id for collection in field.collections.all()}
    return not chosen or collection_id in chosen


def records_for_field(*, field: Field, record_ids: list[int] | None = None) -> QuerySet[Record]:
    """The records a field applies to: its collections, or every record if it names none,
    less the records a cataloguer marked "not applicable" for it. ``record_ids`` narrows both
    to those records (a batch's: else it read every current value of the field for the marks).
    """
    marked = FieldValue.objects.filter(
        field=field, is_current=True, action=FieldValue.Action.NOT_APPLICABLE
    )
    records = Record.objects.all()
    if record_ids is not None and connection.vendor == "postgresql":
        # One array parameter, not an ``IN`` list of a batch's 500 values twice: Django and
        # psycopg handled those value by value, a tenth of a prediction batch's Python.
        ids = RawSQL("SELECT unnest(%s::bigint[])", (bigint_array(record_ids),))
        marked, records = marked.filter(record_id__in=ids), records.filter(id__in=ids)
    elif record_ids is not None:
        marked, records = marked.filter(record_id__in=record_ids), records.filter(id__in=record_ids)
    records = records.exclude(Exists(marked.filter(record_id=OuterRef("pk"))))
    if field.collections.exists():
        records = records.filter(collection__in=field.collections.all())
    return records
