"""Exporting a collection: CSV and JSON Lines with each value's provenance, Dublin Core XML,
and MARCXML (language in 008/35-37 and 041, an 883 for every value a model applied).

Every format is produced as a stream of byte chunks, so the command line writes a file and the
web streams a download from the same generator, with flat memory however large the collection.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pymarc
from django.conf import settings
from django.db.models import QuerySet
from lxml import etree

from catalogue.interop.dc import NSMAP, record_to_dc
from catalogue.interop.marc import MARCXML_NS, record_to_marc
from catalogue.interop.records import ExportRecord, export_records
from catalogue.models import Collection, Field, Record
from catalogue.selectors import fields_for_display

EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
    "dc": ("application/xml; charset=utf-8", "dc.xml"),
    "marcxml": ("application/marcxml+xml; charset=utf-8", "marc.xml"),
}
PROVENANCE_COLUMNS = ("source", "confidence", "model_version", "action", "user", "date")
UNKNOWN_FORMAT = "Unknown export format {fmt!r}: use csv, jsonl, dc or marcxml."


class ExportError(ValueError):
    pass


def _extra_keys(records: Iterator[Any]) -> list[str]:
    keys: dict[str, None] = {}
    for extra in records:
        if isinstance(extra, dict):
            keys.update(dict.fromkeys(extra))
    return sorted(keys)


def _csv_line(row: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue().encode("utf-8")


def _csv(items: Iterator[ExportRecord], fields: list[Field], extra: list[str]) -> Iterator[bytes]:
    header = ["identifier", "title", "description", *extra]
    for f in fields:
        header += [f.key, *(f"{f.key}_{c}" for c in PROVENANCE_COLUMNS)]
    yield _csv_line(header)
    for item in items:
        r = item.record
        row = [r.identifier, r.title, r.description, *(item.text(k) for k in extra)]
        for f in fields:
            value = item.values.get(f.key)
            provenance = value.provenance() if value else {}
            row += [value.label if value else ""]
            row += [str(provenance.get(c, "")) for c in PROVENANCE_COLUMNS]
        yield _csv_line(row)


def _jsonl(items: Iterator[ExportRecord]) -> Iterator[bytes]:
    for item in items:
        r = item.record
        obj: dict[str, Any] = {
            "identifier": r.identifier,
            "title": r.title,
            "description": r.description,
        }
        if isinstance(r.extra, dict):
            obj.update({k: v for k, v in r.extra.items() if k not in obj})
        for key, value in item.values.items():
            obj[key] = value.label
        obj["provenance"] = {key: value.provenance() for key, value in item.values.items()}
        yield (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def _xml_stream(opening: str, closing: str, elements: Iterator[bytes]) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?>\n' + opening.encode() + b"\n"
    for element in elements:
        yield element + b"\n"
    yield closing.encode() + b"\n"


def record_marcxml(item: ExportRecord) -> bytes:
    """One ``<record>`` in the MARCXML namespace."""
    xml: bytes = pymarc.record_to_xml(record_to_marc(item, agency=institution()), namespace=True)
    return xml


def record_dc(item: ExportRecord) -> bytes:
    return bytes(etree.tostring(record_to_dc(item), encoding="utf-8"))


def institution() -> str:
    """The MARC organization code written as the agency of machine-generated values."""
    return settings.GLAMML_INSTITUTION


def export_stream(
    *, records: QuerySet[Record], fmt: str, fields: list[Field] | None = None, public: bool = False
) -> Iterator[bytes]:
    """The export of ``records`` (a queryset) in ``fmt``, as byte chunks."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(UNKNOWN_FORMAT.format(fmt=fmt))
    items = export_records(records=records, fields=fields, public=public)
    if fmt == "csv":
        fields = fields if fields is not None else _fields_of(records)
        extra = _extra_keys(records.values_list("extra", flat=True).iterator(chunk_size=2000))
        return _csv(export_records(records=records, fields=fields, public=public), fields, extra)
    if fmt == "jsonl":
        return _jsonl(items)
    if fmt == "dc":
        namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NSMAP.items())
        return _xml_stream(f"<records {namespaces}>", "</records>", map(record_dc, items))
    return _xml_stream(
        f'<collection xmlns="{MARCXML_NS}">', "</collection>", map(record_marcxml, items)
    )


def _fields_of(records: QuerySet[Record]) -> list[Field]:
    collections = Collection.objects.filter(id__in=records.values("collection_id"))
    seen: dict[int, Field] = {}
    for collection in collections:
        for f in fields_for_display(collection=collection):
            seen[f.id] = f
    return sorted(seen.values(), key=lambda f: f.key)


def collection_export(*, collection: Collection, fmt: str, public: bool = False) -> Iterator[bytes]:
    """Every record of ``collection`` with its values and their provenance, in ``fmt``."""
    return export_stream(
        records=Record.objects.filter(collection=collection),
        fmt=fmt,
        fields=fields_for_display(collection=collection),
        public=public,
    )
