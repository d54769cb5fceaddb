"""Reads the public catalogue pages share, shaped for their templates.

Every function here runs a fixed number of queries whatever the number of records, and says in
words where a value came from. Who sees what is decided here too: when a field's policy does not
show predictions to the public, visitors see only values from the source catalogue and from
cataloguers, never a model's suggestion or its confidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from catalogue.counts import CollectionCounts, ResultCount, collection_counts, result_count
from catalogue.models import (
    Collection,
    Confirmation,
    DecisionPolicy,
    Field,
    FieldValue,
    Label,
    ModelVersion,
    Prediction,
    Record,
)
from catalogue.roles import is_cataloguer
from glamml.ml.languages import UnknownLanguageError, catalogue_language_name

Visitor = User | AnonymousUser

# Provenance filters on the collection page, in the order they are offered.
MODEL, IMPORT, HUMAN, QUEUED, NONE = "model", "import", "human", "queued", "none"
SOURCE_FILTERS = {
    MODEL: "Applied by a model",
    IMPORT: "From the source catalogue",
    HUMAN: "Checked by a cataloguer",
    QUEUED: "Waiting for review",
    NONE: "No value",
}
PUBLIC_SOURCES = (FieldValue.Source.IMPORT, FieldValue.Source.HUMAN)

HUMAN_VERBS: dict[str, str] = {
    FieldValue.Action.CORRECTED: "corrected",
    FieldValue.Action.REJECTED: "removed",
    FieldValue.Action.NOT_APPLICABLE: "marked not applicable",
}
WITHDRAWN_REASONS = {
    "policy-change": "after a change of policy",
    "not-applicable": "when the field stopped applying to this collection",
    "record-moved": "when the record moved to another collection",
}


def percent(confidence: float | None) -> str:
    """``0.876`` -> ``"87%"``: rounded down, so a model never looks surer than it was."""
    if confidence is None:
        return ""
    return f"{math.floor(confidence * 100 + 1e-6)}%"


# -- fields and who sees their predictions ------------------------------------------------------


def fields_for_display(*, collection: Collection | None = None) -> list[Field]:
    """Predicted fields, only those that apply to ``collection`` when one is given."""
    fields = Field.objects.select_related("policy").order_by("key")
    if collection is not None:
        fields = fields.filter(Q(collections=None) | Q(collections=collection)).distinct()
    return list(fields)


def display_field(*, fields: Sequence[Field], key: str | None = None) -> Field | None:
    """The field a list page shows: the one asked for, else ``language``, else the first."""
    by_key = {f.key: f for f in fields}
    if key and key in by_key:
        return by_key[key]
    return by_key.get("language") or (fields[0] if fields else None)


def shows_public(field: Field) -> bool:
    try:
        return field.policy.show_public
    except DecisionPolicy.DoesNotExist:
        return True


def model_visible(*, field: Field, user: Visitor) -> bool:
    """Whether this user may see the field's model suggestions and their confidence."""
    return shows_public(field) or is_cataloguer(user)


def label_names(*, field: Field, codes: Iterable[str]) -> dict[str, str]:
    """Each code's name in the field's vocabulary (a language without one is named anyway)."""
    codes = {c for c in codes if c}
    if not codes:
        return {}
    names = dict(
        Label.objects.filter(field=field, code__in=codes).order_by().values_list("code", "name")
    )
    return {code: names.get(code) or _fallback_name(field, code) for code in codes}


def _fallback_name(field: Field, code: str) -> str:
    """A language code not (yet) in the field's vocabulary still has a name; other codes don't."""
    if field.kind == Field.Kind.LANGUAGE:
        try:
            return catalogue_language_name(code)
        except UnknownLanguageError:
            pass
    return code


# -- the home page ------------------------------------------------------------------------------


@dataclass
class CollectionSummary:
    collection: Collection
    counts: CollectionCounts | None

    @property
    def records(self) -> int | None:
        return self.counts.records if self.counts is not None else None


def collection_summaries(
    *, collections: QuerySet[Collection], compute: bool = True
) -> list[CollectionSummary]:
    """Collections with their record counts and how many current values came from where.

    The counts are cached (``catalogue.counts``); with ``compute`` false (a search) they are
    shown only if they are in the cache, never counted for the page.
    """
    counts = collection_counts(compute=compute)
    return [
        CollectionSummary(
            collection=c,
            counts=None if counts is None else counts.get(c.id, CollectionCounts()),
        )
        for c in collections.order_by("name")
    ]


def records_search(*, collections: QuerySet[Collection], q: str) -> QuerySet[Record]:
    """Records in the given collections whose title or identifier contains ``q``.

    Ordered as the (collection, identifier) index is, so the first page of a common word is
    read from the index without sorting every match; the trigram indexes find a rare one.
    """
    return (
        Record.objects.filter(collection__in=collections)
        .filter(Q(title__icontains=q) | Q(identifier__icontains=q))
        .select_related("collection")
        .order_by("collection_id", "identifier")
    )


# Up to this many matches, PostgreSQL finds them through the trigram indexes and sorts them;
# past it, reading the records in index order meets a page's worth early (a common word).
# Measured at 1.2M records: both ways cost about the same near 7,000 matches.
FEW_MATCHES = 5_000


def records_counted(records: QuerySet[Record]) -> tuple[QuerySet[Record], ResultCount]:
    """``records`` with their (capped or estimated) count, ordered the way that finds a page
    fastest: few matches are sorted once found, many are read in the order of the index.

    Left to itself the planner walks the (collection, identifier) index for a word of a few
    thousand matches too, and may read a whole collection to find them.
    """
    total = result_count(records)
    if total.n > FEW_MATCHES or connection.vendor != "postgresql":
        return records, total
    order = [_not_indexed(str(name)) for name in records.query.order_by]
    return records.order_by(*order), total


def _not_indexed(name: str) -> Any:
    """The same order as ``name``, in an expression no index serves (``id + 0``)."""
    if isinstance(Record._meta.get_field(name.removesuffix("_id")), CharField | TextField):
        return Concat(F(name), Value(""))
    return F(name) + 0


# -- list pages ---------------------------------------------------------------------------------


def collection_records(
    *,
    collection: Collection,
    field: Field | None,
    q: str = "",
    source: str = "",
    show_model: bool = True,
) -> QuerySet[Record]:
    """A collection's records, searched and filtered by where their value for ``field`` came from.

    Without ``show_model`` model values count as no value and cannot be filtered on, so the
    filters say nothing about predictions a visitor may not see.
    """
    # Identifiers are unique in a collection: the (collection, identifier) index is the order.
    records = Record.objects.filter(collection=collection).order_by("identifier")
    if q:
        records = records.filter(Q(title__icontains=q) | Q(identifier__icontains=q))
    if field is None or not source:
        return records
    current = FieldValue.objects.filter(
        record=OuterRef("pk"), field=field, is_current=True
    ).exclude(label="")
    if source in (IMPORT, HUMAN) or (source == MODEL and show_model):
        return records.filter(Exists(current.filter(source=source)))
    if source == QUEUED:
        waiting = Prediction.objects.filter(
            record=OuterRef("pk"), field=field, status=Prediction.Status.QUEUED
        )
        return records.filter(Exists(waiting))
    if source == NONE:
        if not show_model:
            current = current.filter(source__in=PUBLIC_SOURCES)
        return records.filter(~Exists(current))
    return records.none()


@dataclass
class ValueBadge:
    """A record's value for one field in a list, with a few words on where it came from."""

    label: str = ""
    name: str = ""
    source: str = NONE
    text: str = ""
    waiting: bool = False


@dataclass
class RecordRow:
    record: Record
    value: ValueBadge


def record_rows(
    *, records: Iterable[Record], field: Field | None, show_model: bool
) -> list[RecordRow]:
    """The records with their value for ``field``: three queries, however many records."""
    records = list(records)
    if field is None or not records:
        return [RecordRow(record=r, value=ValueBadge()) for r in records]
    current = {
        v.record_id: v
        for v in FieldValue.objects.filter(record__in=records, field=field, is_current=True)
        .exclude(label="")
        .only("record_id", "label", "source", "confidence")
    }
    waiting = set(
        Prediction.objects.filter(record__in=records, field=field, status=Prediction.Status.QUEUED)
        .order_by()
        .values_list("record_id", flat=True)
    )
    names = label_names(field=field, codes=(v.label for v in current.values()))
    rows = []
    for record in records:
        value = current.get(record.id)
        badge = ValueBadge(waiting=record.id in waiting)
        if value is not None and (show_model or value.source in PUBLIC_SOURCES):
            badge.label = value.label
            badge.name = names.get(value.label, value.label)
            badge.source = value.source
            badge.text = _short_provenance(value)
        rows.append(RecordRow(record=record, value=badge))
    return rows


def _short_provenance(value: FieldValue) -> str:
    if value.source == FieldValue.Source.MODEL:
        return f"model, {percent(value.confidence)}" if value.confidence is not None else "model"
    if value.source == FieldValue.Source.HUMAN:
        return "checked by a cataloguer"
    return "from the source catalogue"


# -- the record page ----------------------------------------------------------------------------


@dataclass
class HistoryRow:
    value: FieldValue
    name: str
    provenance: str
    confidence: str


@dataclass
class FieldDisplay:
    """One predicted field on a record page: its value, where it came from, and its history."""

    field: Field
    show_model: bool
    show_users: bool
    value: FieldValue | None = None
    name: str = ""
    provenance: str = ""
    waiting: str = ""
    history: list[HistoryRow] = dataclass_field(default_factory=list)
    # The label "this is right" confirms: the value shown, else the suggestion shown.
    shown_label: str = ""
    # How many visitors said the shown label is right (counted for cataloguers only).
    confirmations: int = 0


def record_values_for_display(
    *, record: Record, user: Visitor, fields: Sequence[Field] | None = None
) -> list[FieldDisplay]:
    """Every predicted field of ``record`` with value, provenance, what waits, and history.

    Four queries (three with ``fields`` given), however long the history.
    """
    fields = (
        list(fields) if fields is not None else fields_for_display(collection=record.collection)
    )
    if not fields:
        return []
    staff = is_cataloguer(user)
    values = list(
        FieldValue.objects.filter(record=record, field__in=fields)
        .select_related("model_version", "user")
        # Only a version's number shows: its documents were a tenth of the page's time.
        .defer(*ModelVersion.documents_through("model_version"))
        .order_by("-created_at", "-id")
    )
    waiting = {
        p.field_id: p
        for p in Prediction.objects.filter(
            record=record, field__in=fields, status=Prediction.Status.QUEUED
        ).order_by("created_at", "id")
    }
    codes = {v.label for v in values} | {p.label for p in waiting.values()}
    names = _names_by_field(fields=fields, codes=codes)
    displays = []
    for f in fields:
        show_model = shows_public(f) or staff
        display = FieldDisplay(field=f, show_model=show_model, show_users=staff)
        for value in values:
            if value.field_id != f.id:
                continue
            if not show_model and value.source not in PUBLIC_SOURCES:
                continue
            name = names.get((f.id, value.label), value.label)
            display.history.append(
                HistoryRow(
                    value=value,
                    name=name,
                    provenance=provenance(value, field=f, show_users=staff),
                    # A model's confidence belongs to a model's value only: a person's
                    # correction row must not show how sure the model was of what it replaced.
                    confidence=percent(value.confidence)
                    if show_model and value.source == FieldValue.Source.MODEL
                    else "",
                )
            )
            if value.is_current and value.label:
                display.value, display.name = value, name
                display.provenance = provenance(value, field=f, show_users=staff)
        _add_waiting(display, waiting.get(f.id), names=names)
        displays.append(display)
    if staff:
        _count_confirmations(displays, record=record)
    return displays


def _count_confirmations(displays: list[FieldDisplay], *, record: Record) -> None:
    counts = confirmation_counts(record=record, fields=[d.field for d in displays])
    for display in displays:
        display.confirmations = counts.get((display.field.id, display.shown_label), 0)


def _add_waiting(
    display: FieldDisplay, waiting: Prediction | None, *, names: dict[tuple[int, str], str]
) -> None:
    """What waits for a cataloguer, and the label "this is right" would confirm."""
    if waiting is not None:
        display.waiting = waiting_text(
            waiting,
            show_model=display.show_model,
            name=names.get((display.field.id, waiting.label), waiting.label),
        )
    if display.value is not None:
        display.shown_label = display.value.label
    elif waiting is not None and display.show_model:
        display.shown_label = waiting.label


def confirmation_counts(*, record: Record, fields: Sequence[Field]) -> dict[tuple[int, str], int]:
    """How many visitors said each (field id, label) on ``record`` is right: one query."""
    rows = (
        Confirmation.objects.filter(record=record, field__in=fields)
        .values_list("field_id", "label")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(field_id, label): n for field_id, label, n in rows}


def _names_by_field(*, fields: list[Field], codes: set[str]) -> dict[tuple[int, str], str]:
    """The display name of each code in each field: (field id, code) → name, one query."""
    known = {
        (field_id, code): name
        for field_id, code, name in Label.objects.filter(field__in=fields, code__in=codes)
        .order_by()
        .values_list("field_id", "code", "name")
    }
    return {
        (f.id, code): known.get((f.id, code)) or _fallback_name(f, code)
        for f in fields
        for code in codes
        if code
    }


def provenance(value: FieldValue, *, field: Field, show_users: bool = False) -> str:
    """Where a value came from, in words a visitor understands."""
    when = timezone.localtime(value.created_at).date().isoformat()
    if value.source == FieldValue.Source.IMPORT:
        return "from the source catalogue"
    if value.source == FieldValue.Source.HUMAN:
        verb = HUMAN_VERBS.get(value.action, "checked")
        who = "a cataloguer"
        if show_users and value.user is not None:
            who = f"a cataloguer ({value.user.get_username()})"
        return f"{verb} by {who} on {when}"
    model = "a model"
    if value.model_version is not None:
        model = f"a model ({field.key} v{value.model_version.version})"
    if value.action == FieldValue.Action.WITHDRAWN:
        reason = WITHDRAWN_REASONS.get(value.policy, "")
        # Who made the change that withdrew it (a record's move), for those who see users.
        who = f"by {value.user.get_username()}" if show_users and value.user is not None else ""
        return " ".join(filter(None, [f"suggested by {model}, withdrawn on {when}", reason, who]))
    if value.confidence is None:
        return f"suggested by {model}"
    return f"suggested by {model}, {percent(value.confidence)} confident"


def waiting_text(prediction: Prediction, *, show_model: bool = True, name: str = "") -> str:
    """What waits, in words: the label's name (``name``) rather than its code."""
    if not show_model:
        return "waiting for a cataloguer"
    return (
        f"waiting for a cataloguer (model suggests {name or prediction.label}, "
        f"{percent(prediction.confidence)})"
    )


def extra_items(record: Record) -> list[tuple[str, str]]:
    """The record's extra fields as (name, text) pairs, in a stable order."""
    if not isinstance(record.extra, dict):
        return []
    return [(str(k), _text(v)) for k, v in sorted(record.extra.items()) if _text(v)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {t}" for k, v in value.items() if (t := _text(v)))
    return str(value)
