"""Sharing a field's training data with a datasheet, under a licence the admin chooses.

The data are what the models learn from: each record's current value that the source catalogue
gave or a person decided (never a model's value), with the text the model reads. Cataloguers
appear under stable pseudonyms ("cataloguer 1"): the datasheet says how many people labelled
and when, the file never says who. Only public collections are shared unless asked otherwise,
and never a collection marked sensitive.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from catalogue.field_records import settled_values
from catalogue.models import Field, FieldValue
from catalogue.selectors import label_names
from catalogue.services.inference import text_for_model

LICENCES = {
    "CC0-1.0": "Creative Commons Zero v1.0 Universal (public domain dedication)",
    "CC-BY-4.0": "Creative Commons Attribution 4.0 International",
    "CC-BY-SA-4.0": "Creative Commons Attribution-ShareAlike 4.0 International",
    "ODC-By-1.0": "Open Data Commons Attribution License v1.0",
    "ODbL-1.0": "Open Data Commons Open Database License v1.0",
}
FORMATS = ("csv", "jsonl")
COLUMNS = ("identifier", "collection", "text", "label", "source", "action", "labelled_by", "date")
UNKNOWN_LICENCE = "Unknown licence {licence!r}: choose one of {known}."
UNKNOWN_FORMAT = "Unknown format {fmt!r}: use csv or jsonl."


class SharingError(ValueError):
    pass


@dataclass
class TrainingData:
    field: Field
    licence: str
    public_only: bool
    rows: list[dict[str, str]] = dc_field(default_factory=list)
    made_at: datetime = dc_field(default_factory=timezone.now)


def licence_check(licence: str) -> str:
    if licence not in LICENCES:
        known = ", ".join(LICENCES)
        raise SharingError(UNKNOWN_LICENCE.format(licence=licence, known=known))
    return licence


def _values(*, field: Field, public_only: bool) -> QuerySet[FieldValue]:
    values = settled_values(field=field).filter(record__collection__is_sensitive=False)
    if public_only:
        values = values.filter(record__collection__is_public=True)
    return values.select_related("record__collection", "user").order_by("record_id")


def training_data(*, field: Field, licence: str, public_only: bool = True) -> TrainingData:
    """The field's labelled records, one row each, with the text its model reads."""
    data = TrainingData(field=field, licence=licence_check(licence), public_only=public_only)
    pseudonyms: dict[int, str] = {}
    for value in _values(field=field, public_only=public_only).iterator(chunk_size=2000):
        who = ""
        if value.source == FieldValue.Source.HUMAN and value.user_id is not None:
            who = pseudonyms.setdefault(value.user_id, f"cataloguer {len(pseudonyms) + 1}")
        record = value.record
        data.rows.append(
            {
                "identifier": record.identifier,
                "collection": record.collection.slug,
                "text": text_for_model(record=record, field=field),
                "label": value.label,
                "source": value.source,
                "action": value.action,
                "labelled_by": who,
                "date": value.created_at.isoformat(),
            }
        )
    return data


def training_data_stream(data: TrainingData, fmt: str) -> Iterator[bytes]:
    if fmt not in FORMATS:
        raise SharingError(UNKNOWN_FORMAT.format(fmt=fmt))
    if fmt == "jsonl":
        for row in data.rows:
            yield (json.dumps(row, ensure_ascii=False) + "\n").encode()
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(data.rows)
    yield buffer.getvalue().encode()


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _composition(data: TrainingData) -> list[str]:
    labels = Counter(r["label"] for r in data.rows)
    names = label_names(field=data.field, codes=labels)
    by_source = Counter(r["source"] for r in data.rows)
    collections = Counter(r["collection"] for r in data.rows)
    return [
        f"{_count(len(data.rows), 'record')}, {_count(len(labels), 'label')}, from "
        f"{_count(len(collections), 'collection')} "
        f"({', '.join(f'{c}: {n}' for c, n in sorted(collections.items()))}). "
        f"{by_source.get('import', 0)} values came from the source catalogues, "
        f"{by_source.get('human', 0)} were decided by cataloguers.",
        "",
        *_table(
            ("label", "name", "records", "share"),
            [
                (code, names.get(code, code), n, f"{n / len(data.rows):.1%}")
                for code, n in labels.most_common()
            ],
        ),
    ]


def _labellers(data: TrainingData) -> list[str]:
    human = [r for r in data.rows if r["source"] == FieldValue.Source.HUMAN]
    imported = [r["date"][:10] for r in data.rows if r["source"] == FieldValue.Source.IMPORT]
    lines = []
    if imported:
        lines.append(
            f"- {len(imported)} values as the source catalogues gave them, imported between "
            f"{min(imported)} and {max(imported)}; who catalogued them originally is not recorded."
        )
    if human:
        people = Counter(r["labelled_by"] for r in human)
        dates = [r["date"][:10] for r in human]
        per_person = ", ".join(f"{who}: {n}" for who, n in people.most_common())
        lines.append(
            f"- {_count(len(human), 'value')} decided by {_count(len(people), 'cataloguer')} in "
            "glamml's review "
            f"queue between {min(dates)} and {max(dates)} ({per_person}). Names are replaced "
            "by pseudonyms, the same within this file."
        )
    return lines or ["- No labelled records yet."]


def _labels_note(field: Field) -> str:
    if field.kind == Field.Kind.LANGUAGE:
        return (
            "Language values are ISO 639-3 codes, individual languages folded into their "
            "macrolanguage as catalogues code them (`arb` → `ara`); collective codes and "
            "`mul`/`und`/`zxx`/`mis` are never training labels."
        )
    return "Labels are the field's vocabulary codes, as the source or a cataloguer set them."


def datasheet_markdown(data: TrainingData) -> str:
    """A datasheet for the data set (after Gebru et al., "Datasheets for Datasets")."""
    f = data.field
    scope = "public collections" if data.public_only else "all collections"
    text_source = ", ".join(f.text_source or ["title"])
    lines = [
        f"# Datasheet: {f.name} training data",
        "",
        f"Made by glamml on {data.made_at:%Y-%m-%d %H:%M} UTC. Licence: **{data.licence}** "
        f"({LICENCES[data.licence]}).",
        "",
        "## Motivation",
        "",
        f"To train and evaluate models that suggest the {f.name.lower()} of catalogue records "
        f"(field `{f.key}`), and to let other institutions do the same with their own records.",
        "",
        "## Composition",
        "",
        *_composition(data),
        "",
        "Each row is one record: `identifier`, `collection`, `text` (what the model reads), "
        "`label`, `source` (`import`: the source catalogue; `human`: a cataloguer), `action` "
        "(a cataloguer's `accepted` or `corrected`), `labelled_by` (a pseudonym), `date`.",
        "",
        "## Collection process",
        "",
        f"Records came from {scope} (collections marked sensitive are never shared), imported "
        "from the institutions' catalogue exports (CSV, JSON Lines, MARC 21, MARCXML) or "
        "harvested over OAI-PMH. Values a model applied are left out: a model must not learn "
        "from itself. A cataloguer's rejection says only that a suggestion was wrong; it is no "
        "label, and such records appear only if another value is current.",
        "",
        "## Labelling",
        "",
        *_labellers(data),
        "",
        "## Preprocessing",
        "",
        f"`text` joins the record's {text_source} as the model reads them. {_labels_note(f)}",
        "",
        "## Uses",
        "",
        "Recommended: training and evaluating classifiers for this field on similar catalogue "
        "records; measuring how models transfer between institutions. Not recommended: as a "
        "representative sample of any literature or population (it is what these institutions "
        "catalogued); deciding about people.",
        "",
        "## Distribution and maintenance",
        "",
        f"Shared under {data.licence}. The source catalogues' own terms apply to their records "
        "as well. Regenerate this file from glamml to include newer decisions; the data set "
        "changes whenever cataloguers decide or records are re-imported.",
    ]
    return "\n".join(lines) + "\n"


def licence_text(licence: str, *, what: str) -> str:
    return (
        f"{what} is shared under {LICENCES[licence]} ({licence}).\n"
        f"The full text: https://spdx.org/licenses/{licence}.html\n"
    )


def training_bundle(data: TrainingData, fmt: str) -> bytes:
    """A zip with the data file, its datasheet and the licence."""
    name = f"{data.field.key}-training-data"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{name}/{name}.{fmt}", b"".join(training_data_stream(data, fmt)))
        bundle.writestr(f"{name}/DATASHEET.md", datasheet_markdown(data))
        what = f"The {data.field.name} training data"
        bundle.writestr(f"{name}/LICENSE.txt", licence_text(data.licence, what=what))
    return buffer.getvalue()
