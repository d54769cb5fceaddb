"""Reads for the review queue and flag triage."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from catalogue.counts import waiting_count
from catalogue.models import (
    Collection,
    Confirmation,
    Field,
    FieldValue,
    Flag,
    Label,
    Prediction,
)
from catalogue.services.labels import UnknownLabelError, label_normalise
from review.selectors.common import LabelChoice, QueueItem

# --- the review queue -------------------------------------------------------------------------


QUEUE_ORDERS = {
    "uncertainty": ("confidence", "id"),
    "margin": ("margin", "confidence", "id"),
    "random": ("audit_rank", "id"),
}


@dataclass(frozen=True)
class QueueSearch:
    """Narrowing beyond field and collection: predicted labels (codes), a confidence range
    (0–1, inclusive) and words in the record's title or identifier."""

    labels: tuple[str, ...] = ()
    confidence_min: float | None = None
    confidence_max: float | None = None
    text: str = ""

    def __bool__(self) -> bool:
        return bool(
            self.labels
            or self.confidence_min is not None
            or self.confidence_max is not None
            or self.text
        )

    @property
    def has_range(self) -> bool:
        return self.confidence_min is not None or self.confidence_max is not None

    def q(self) -> Q:
        where = Q()
        if self.labels:
            where &= Q(label__in=self.labels)
        if self.confidence_min is not None:
            where &= Q(confidence__gte=self.confidence_min)
        if self.confidence_max is not None:
            where &= Q(confidence__lte=self.confidence_max)
        if self.text:
            # UPPER(title) LIKE: what the records' trigram indexes serve (migration 0009).
            where &= Q(record__title__icontains=self.text) | Q(
                record__identifier__icontains=self.text
            )
        return where


def queue_predictions(
    *,
    field: Field | None = None,
    collection: Collection | None = None,
    order: str = "uncertainty",
    search: QueueSearch | None = None,
) -> QuerySet[Prediction]:
    """Waiting predictions, flagged first, then the least confident first, with the joins the
    queue template needs (slice it, then wrap the slice with ``queue_items``)."""
    qs = _with_queue_joins(Prediction.objects.filter(status=Prediction.Status.QUEUED))
    if field is not None:
        qs = qs.filter(field=field)
    if collection is not None:
        # The prediction's own copy of its record's collection: an index range per order.
        qs = qs.filter(collection=collection)
    if search:
        qs = qs.filter(search.q())
    # Flags from the public come first whatever the order: someone is waiting for an answer.
    return qs.order_by("-flagged", *QUEUE_ORDERS.get(order, QUEUE_ORDERS["uncertainty"]))


def queue_label_codes(*, field: Field | None, text: str) -> tuple[str, ...]:
    """The label codes ``text`` names (a code, or a name in any case), in ``field`` or any.

    A language field also reads other ISO 639 forms ("fi", "Finnish" for fin)."""
    codes = {text}
    if field is not None:
        with suppress(UnknownLabelError):
            codes.add(label_normalise(field=field, value=text))
    labels = Label.objects.filter(Q(code__in=codes) | Q(name__iexact=text) | Q(code__iexact=text))
    if field is not None:
        labels = labels.filter(field=field)
    return tuple(sorted(set(labels.values_list("code", flat=True))))


# The columns a queue item shows (heading, guesses, buttons, value line, reason, the focus
# mode's details) and its cursor needs. A page builds about 170 model instances through these
# joins: the other columns (dates, a collection's licence, a field's model parameters, a
# version's checksum, a user's password hash) were decoded for every item and never read. A
# template that reads one more gets a query per item, which the queue's pinned query count
# catches.
QUEUE_COLUMNS = (
    *("id", "code", "record", "field", "model_version", "collection", "label", "confidence"),
    *("alternatives", "status", "routed_by", "margin", "audit_rank", "review_round", "flagged"),
    *("record__code", "record__collection", "record__identifier", "record__title"),
    *("record__description", "record__extra"),
    *("record__collection__name", "record__collection__is_sensitive"),
    *("field__key", "field__name", "field__policy__field", "field__policy__threshold"),
    "model_version__version",
)
VALUE_COLUMNS = (
    *("record", "field", "label", "source", "action", "model_version", "confidence", "policy"),
    *("user", "created_at", "model_version__version", "user__username"),
)


def _with_queue_joins(qs: QuerySet[Prediction]) -> QuerySet[Prediction]:
    return (
        qs.select_related("record__collection", "field__policy", "model_version")
        .only(*QUEUE_COLUMNS)
        .prefetch_related(
            Prefetch(
                "record__values",
                queryset=FieldValue.objects.filter(is_current=True)
                .select_related("user", "model_version")
                .only(*VALUE_COLUMNS),
                to_attr="current_values",
            ),
            Prefetch(
                "record__flags",
                queryset=Flag.objects.filter(status=Flag.Status.OPEN).order_by("created_at", "id"),
                to_attr="open_flags",
            ),
        )
    )


def label_names(*, field_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``{field_id: {code: name}}`` for the given fields, in one query."""
    names: dict[int, dict[str, str]] = defaultdict(dict)
    for field_id, code, name in Label.objects.filter(field_id__in=set(field_ids)).values_list(
        "field_id", "code", "name"
    ):
        names[field_id][code] = name
    return names


def confirmations_by_item(
    predictions: Iterable[Prediction],
) -> dict[tuple[int, int], list[tuple[str, int]]]:
    """Visitors' "this is right" per (record id, field id): (label, how many), most first.

    One query for a page of items, on the (record, field, label) index. Counted here rather
    than with SQL's COUNT, so the queue's queries never count anything per request: a page's
    records have few confirmations (an address may give ``GLAMML_FLAG_RATE_LIMIT`` an hour).
    """
    predictions = list(predictions)
    if not predictions:
        return {}
    counted = Counter(
        Confirmation.objects.filter(
            record_id__in={p.record_id for p in predictions},
            field_id__in={p.field_id for p in predictions},
        )
        .order_by()
        .values_list("record_id", "field_id", "label")
    )
    found: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for (record_id, field_id, label), n in sorted(counted.items(), key=lambda r: (-r[1], r[0])):
        found[(record_id, field_id)].append((label, n))
    return found


def queue_items(predictions: Iterable[Prediction]) -> list[QueueItem]:
    """Wrap predictions (fetched with the queue's joins) for the template, in two extra
    queries (label names, visitors' confirmations)."""
    predictions = list(predictions)
    field_ids = {p.field_id for p in predictions}
    names = label_names(field_ids=field_ids)
    confirmed = confirmations_by_item(predictions)
    # The field's vocabulary: a language field's grows with the codes the catalogue uses
    # (labels_ensure), so it offers those, not every code of ISO 639. Anything else can be
    # typed (code or name) beside the list.
    vocabularies = {
        field_id: [LabelChoice(code, name) for code, name in sorted(codes.items())]
        for field_id, codes in names.items()
    }
    items = []
    for p in predictions:
        field_names = names.get(p.field_id, {})
        current = next((v for v in p.record.current_values if v.field_id == p.field_id), None)
        items.append(
            QueueItem(
                prediction=p,
                label_name=field_names.get(p.label, ""),
                alternatives=[
                    LabelChoice(code, field_names.get(code, ""), float(confidence))
                    for code, confidence in (p.alternatives or [])[:3]
                ],
                current_value=current,
                current_name=field_names.get(current.label, "") if current else "",
                open_flags=[f for f in p.record.open_flags if f.field_id == p.field_id],
                field_labels=vocabularies.get(p.field_id, []),
                names=field_names,
                confirmations=confirmed.get((p.record_id, p.field_id), []),
            )
        )
    return items


def queue_item_get(*, prediction: Prediction) -> QueueItem:
    """One prediction as a queue item (for the item page and the htmx partial)."""
    fetched = _with_queue_joins(Prediction.objects.filter(pk=prediction.pk)).get()
    return queue_items([fetched])[0]


@dataclass(frozen=True)
class FieldCount:
    field: Field
    waiting: int


def queue_counts_by_field() -> list[FieldCount]:
    """How many predictions wait for review, per field (fields with none included).

    From the cached waiting counts: never a count over the predictions per request.
    """
    return [
        FieldCount(field=f, waiting=waiting_count(field_id=f.id))
        for f in Field.objects.order_by("name")
    ]


def record_field_history(*, prediction: Prediction) -> list[FieldValue]:
    """Every value the prediction's record has had for its field, newest first."""
    return list(
        FieldValue.objects.filter(record_id=prediction.record_id, field_id=prediction.field_id)
        .select_related("user", "model_version")
        .order_by("-created_at", "-id")
    )


def record_current_value(*, prediction: Prediction) -> FieldValue | None:
    return (
        FieldValue.objects.filter(
            record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
        )
        .select_related("user")
        .first()
    )


def label_name(*, field: Field, code: str) -> str:
    if not code:
        return ""
    return Label.objects.filter(field=field, code=code).values_list("name", flat=True).first() or ""


# --- flag triage --------------------------------------------------------------------------------


def open_flags(
    *, field: Field | None = None, collection: Collection | None = None
) -> QuerySet[Flag]:
    """Open public flags, newest first."""
    qs = Flag.objects.filter(status=Flag.Status.OPEN).select_related(
        "record__collection", "field", "prediction"
    )
    if field is not None:
        qs = qs.filter(field=field)
    if collection is not None:
        qs = qs.filter(record__collection=collection)
    return qs.order_by("-created_at", "-id")


@dataclass(frozen=True)
class FlagRow:
    flag: Flag
    flagged_name: str
    proposed_name: str
    # The field's label names by code, shared between the rows of a field (not copied).
    names: Mapping[str, str]


def flag_rows(flags: Iterable[Flag]) -> list[FlagRow]:
    """Flags with their label names, in one extra query."""
    flags = list(flags)
    names = label_names(field_ids={f.field_id for f in flags})
    return [
        FlagRow(
            flag=f,
            flagged_name=names.get(f.field_id, {}).get(f.flagged_label, ""),
            proposed_name=names.get(f.field_id, {}).get(f.proposed_label, ""),
            names=names.get(f.field_id, {}),
        )
        for f in flags
    ]
