from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from catalogue.models import Collection, FieldValue, Record
from catalogue.services.sharing import (
    SharingError,
    datasheet_markdown,
    training_bundle,
    training_data,
)
from tests.factories import CollectionFactory, FieldValueFactory, RecordFactory


@pytest.fixture
def labelled(genre_records, genre, cataloguer):
    """300 imported genre values, two of them corrected by a cataloguer, one model value, and a
    private and a sensitive collection that must not be shared."""
    for record in Record.objects.filter(collection=genre_records).order_by("id")[:2]:
        FieldValue.objects.filter(record=record, field=genre).update(is_current=False)
        FieldValueFactory(
            record=record,
            field=genre,
            label="Fiction",
            source="human",
            action="corrected",
            user=cataloguer,
        )
    FieldValue.objects.filter(record=Record.objects.order_by("id")[2], field=genre).update(
        is_current=False
    )
    FieldValueFactory(
        record=Record.objects.order_by("id")[2],
        field=genre,
        label="Fiction",
        source="model",
        confidence=0.97,
    )
    for slug, public, sensitive in [("private", False, False), ("secret", True, True)]:
        record = RecordFactory(
            collection=CollectionFactory(slug=slug, is_public=public, is_sensitive=sensitive)
        )
        FieldValueFactory(record=record, field=genre, label="Fiction", source="import")
    return genre


@pytest.mark.django_db
def test_training_data_are_imported_and_human_values_only_with_cataloguers_pseudonymised(
    labelled, cataloguer
):
    data = training_data(field=labelled, licence="CC-BY-4.0")
    assert len(data.rows) == 299  # 300 less the one a model applied
    assert {r["collection"] for r in data.rows} == {"bl"}
    human = [r for r in data.rows if r["source"] == "human"]
    assert len(human) == 2 and {r["labelled_by"] for r in human} == {"cataloguer 1"}
    assert cataloguer.username not in json.dumps(data.rows)
    assert all(r["text"] for r in data.rows)
    assert len(training_data(field=labelled, licence="CC0-1.0", public_only=False).rows) == 300


@pytest.mark.django_db
def test_the_datasheet_counts_each_label_and_says_who_labelled_when(labelled):
    data = training_data(field=labelled, licence="CC-BY-4.0")
    sheet = datasheet_markdown(data)
    counts = {
        label: sum(r["label"] == label for r in data.rows) for label in ("Fiction", "Non-fiction")
    }
    for label, n in counts.items():
        assert f"| {label} | {label} | {n} |" in sheet
    for heading in (
        "Motivation",
        "Composition",
        "Collection process",
        "Labelling",
        "Preprocessing",
        "Uses",
        "Distribution and maintenance",
    ):
        assert f"## {heading}" in sheet
    assert "2 values decided by 1 cataloguer in glamml's review queue" in sheet
    assert "299 records, 2 labels, from 1 collection (bl: 299)" in sheet
    assert "297 values as the source catalogues gave them" in sheet
    assert "Licence: **CC-BY-4.0**" in sheet


@pytest.mark.django_db
def test_the_bundle_holds_the_data_the_datasheet_and_the_licence(labelled):
    data = training_data(field=labelled, licence="CC0-1.0")
    with zipfile.ZipFile(io.BytesIO(training_bundle(data, "csv"))) as bundle:
        names = set(bundle.namelist())
        assert names == {
            "genre-training-data/genre-training-data.csv",
            "genre-training-data/DATASHEET.md",
            "genre-training-data/LICENSE.txt",
        }
        rows = list(
            csv.DictReader(
                io.StringIO(bundle.read("genre-training-data/genre-training-data.csv").decode())
            )
        )
        assert len(rows) == 299 and rows[0]["label"] in {"Fiction", "Non-fiction"}
        assert "CC0-1.0" in bundle.read("genre-training-data/LICENSE.txt").decode()
    with zipfile.ZipFile(io.BytesIO(training_bundle(data, "jsonl"))) as bundle:
        lines = bundle.read("genre-training-data/genre-training-data.jsonl").decode().splitlines()
        assert len(lines) == 299 and json.loads(lines[0])["source"] in {"import", "human"}


@pytest.mark.django_db
def test_an_unknown_licence_is_refused_by_name(labelled):
    with pytest.raises(SharingError, match="Unknown licence 'MIT': choose one of CC0-1.0"):
        training_data(field=labelled, licence="MIT")


@pytest.mark.django_db
def test_the_command_writes_the_bundle(labelled, tmp_path, capsys):
    out = tmp_path / "genre.zip"
    call_command(
        "export_training",
        "--field",
        "genre",
        "--licence",
        "CC-BY-4.0",
        "--format",
        "jsonl",
        "--out",
        str(out),
    )
    assert "Wrote 299 records" in capsys.readouterr().out
    with zipfile.ZipFile(out) as bundle:
        assert "genre-training-data/DATASHEET.md" in bundle.namelist()
    with pytest.raises(CommandError, match="No field 'colour'"):
        call_command("export_training", "--field", "colour", "--licence", "CC0-1.0")
    assert Collection.objects.filter(slug="bl").exists()
