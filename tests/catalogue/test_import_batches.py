"""Importing works in batches: a fixed number of queries whatever the file's size, only the
records that need a prediction enqueued, nothing stored when any row is bad."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import FieldValue, OutboxTask, Record
from catalogue.services.imports import ImportFileError, records_import
from tests.factories import CollectionFactory

LANGS = ["ger", "fre", "", "eng", ""]


def write(path: Path, n: int, *, title: str = "Title") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["identifier", "title", "language", "shelfmark"])
        for i in range(n):
            writer.writerow([f"r{i:05d}", f"{title} {i}", LANGS[i % 5], f"S.{i}"])
    return path


def queries(path: Path, collection) -> int:
    with CaptureQueriesContext(connection) as captured:
        records_import(path=path, collection=collection, mapping={"language": "language"})
    return len(captured)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_file(field, tmp_path, settings):
    # Each inference batch is one row in the outbox: one batch for either file here.
    settings.GLAMML_INFERENCE_BATCH_SIZE = 10_000
    small = write(tmp_path / "small.csv", 20)
    queries(small, CollectionFactory(slug="warm"))  # the first import also adds the labels
    assert queries(write(tmp_path / "large.csv", 2000), CollectionFactory(slug="b")) == queries(
        small, CollectionFactory(slug="a")
    )
    assert Record.objects.filter(collection__slug="b").count() == 2000
    assert FieldValue.objects.filter(record__collection__slug="b").count() == 1200


@pytest.mark.django_db
def test_the_prediction_tasks_of_a_large_import_are_written_together(field, tmp_path, settings):
    settings.GLAMML_INFERENCE_BATCH_SIZE = 10
    small = write(tmp_path / "small.csv", 20)
    queries(small, CollectionFactory(slug="warm"))
    assert queries(write(tmp_path / "large.csv", 2000), CollectionFactory(slug="b")) == queries(
        small, CollectionFactory(slug="a")
    )
    # Every record of the large file without a language, in batches of ten, in order.
    blank = list(
        Record.objects.filter(collection__slug="b", identifier__regex=r"[2479]$")
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(blank) == 800
    batches = [row.args[1] for row in OutboxTask.objects.order_by("id")]
    mine = [ids for ids in batches if ids[0] in set(blank)]
    assert len(mine) == 80 and [i for ids in mine for i in ids] == blank


@pytest.mark.django_db
def test_a_reimport_writes_only_what_changed(field, tmp_path):
    collection = CollectionFactory()
    path = write(tmp_path / "a.csv", 10)
    records_import(path=path, collection=collection, mapping={"language": "language"})
    codes = dict(Record.objects.values_list("identifier", "code"))
    again = records_import(path=path, collection=collection, mapping={"language": "language"})
    assert (again.created, again.updated, again.unchanged, again.values_set) == (0, 0, 10, 0)
    path.write_text(path.read_text().replace("Title 3,", "New title 3,").replace(",ger,", ",ita,"))
    changed = records_import(path=path, collection=collection, mapping={"language": "language"})
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 9)
    assert changed.values_set == 2  # r00000 and r00005 were ger, now ita
    assert dict(Record.objects.values_list("identifier", "code")) == codes
    history = FieldValue.objects.filter(record__identifier="r00000").order_by("id")
    assert [(v.label, v.is_current) for v in history] == [("deu", False), ("ita", True)]


@pytest.mark.django_db
def test_a_bad_row_after_many_good_ones_stores_nothing(field, tmp_path):
    path = write(tmp_path / "bad.csv", 12_000)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("r99999,Last,klingon-ish,S.x\n")
    with pytest.raises(ImportFileError, match=r"bad.csv, line 12002, column 'language'"):
        records_import(path=path, collection=CollectionFactory(), mapping={"language": "language"})
    assert not Record.objects.exists() and not FieldValue.objects.exists()


@pytest.mark.django_db
def test_only_records_that_need_a_prediction_are_enqueued(
    active_model, tmp_path, django_capture_on_commit_callbacks
):
    collection = CollectionFactory()
    path = write(tmp_path / "a.csv", 10)
    with django_capture_on_commit_callbacks(execute=True):
        first = records_import(path=path, collection=collection, mapping={"language": "language"})
    # Four of ten rows have no language: those four, and no others, went to the model.
    assert first.enqueued == 4
    predicted = set(active_model.predictions.values_list("record__identifier", flat=True))
    assert predicted == {"r00002", "r00004", "r00007", "r00009"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = records_import(path=path, collection=collection, mapping={"language": "language"})
    assert again.enqueued == 0 and not callbacks
