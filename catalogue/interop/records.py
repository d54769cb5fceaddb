"""Records with their current values, read in chunks for exports and the OAI-PMH provider.

Every exporter (CSV, JSON Lines, Dublin Core, MARCXML, OAI-PMH) reads records through here, so
they all say the same thing about a value and where it came from, and they all hide the same
things from the public: a model's value where the field's policy does not show predictions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from catalogue.models import Collection, Field, FieldValue, Label, Record
from catalogue.selectors import PUBLIC_SOURCES, fields_for_display, shows_public

CHUNK = 1000
JOIN = " | "


@dataclass
class Value:
    """A record's current value for one field, with where it came from."""

    field: Field
    label: str
    name: str
    source: str
    action: str = ""
    confidence: float | None = None
    model: str = ""  # "language v3" for a model's value
    model_version: int | None = None
    user: str = ""
    date: str = ""  # ISO 8601, when the value was set

    def provenance(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "date": self.date}
        if self.action:
            data["action"] = self.action
        if self.confidence is not None:
            data["confidence"] = round(self.confidence, 4)
        if self.model_version is not None:
            data["model_version"] = self.model_version
        if self.user:
            data["user"] = self.user
        return data


@dataclass
class ExportRecord:
    record: Record
    values: dict[str, Value] = field(default_factory=dict)

    def text(self, key: str) -> str:
        value = self.record.extra.get(key, "") if isinstance(self.record.extra, dict) else ""
        return str(value).strip() if value is not None else ""

    def texts(self, key: str) -> list[str]:
        return [t.strip() for t in self.text(key).split(JOIN.strip()) if t.strip()]


def _values(
    records: Sequence[Record], fields: Sequence[Field], *, public: bool
) -> dict[int, dict[str, Value]]:
    by_id = {f.id: f for f in fields}
    current = (
        FieldValue.objects.filter(record__in=records, field__in=fields, is_current=True)
        .exclude(label="")
        .select_related("model_version", "user")
    )
    names = {
        (field_id, code): name
        for field_id, code, name in Label.objects.filter(field__in=fields).values_list(
            "field_id", "code", "name"
        )
    }
    out: dict[int, dict[str, Value]] = {}
    for v in current:
        f = by_id[v.field_id]
        if public and not shows_public(f) and v.source not in PUBLIC_SOURCES:
            continue
        out.setdefault(v.record_id, {})[f.key] = Value(
            field=f,
            label=v.label,
            name=names.get((f.id, v.label), v.label),
            source=v.source,
            action=v.action,
            confidence=v.confidence if v.source == FieldValue.Source.MODEL else None,
            model=(
                f"{f.key} v{v.model_version.version}"
                if v.model_version is not None and v.source == FieldValue.Source.MODEL
                else ""
            ),
            model_version=(
                v.model_version.version
                if v.model_version is not None and v.source == FieldValue.Source.MODEL
                else None
            ),
            user=(
                v.user.get_username()
                if v.user is not None and v.source == FieldValue.Source.HUMAN and not public
                else ""
            ),
            date=v.created_at.isoformat(),
        )
    return out


def export_records(
    *, records: QuerySet[Record], fields: Sequence[Field] | None = None, public: bool = False
) -> Iterator[ExportRecord]:
    """``records`` in the order they were created, with their current values, a chunk at a time.

    Two queries per chunk of :data:`CHUNK` records, so an export of a whole collection keeps
    memory flat. With ``public`` the values follow what a visitor may see.
    """
    records = records.select_related("collection").order_by("id")
    last = 0
    while True:
        chunk = list(records.filter(id__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1].id
        chunk_fields = list(fields) if fields is not None else _fields_for(chunk)
        values = _values(chunk, chunk_fields, public=public) if chunk_fields else {}
        for record in chunk:
            yield ExportRecord(record=record, values=values.get(record.id, {}))


def _fields_for(records: Iterable[Record]) -> list[Field]:
    collections = {r.collection_id: r.collection for r in records}
    seen: dict[int, Field] = {}
    for collection in collections.values():
        for f in fields_for_display(collection=collection):
            seen[f.id] = f
    return list(seen.values())


def collection_records(*, collection: Collection) -> QuerySet[Record]:
    return Record.objects.filter(collection=collection)
