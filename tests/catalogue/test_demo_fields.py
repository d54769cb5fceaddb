"""The demo's label fields: a first run on few rows must not fix a smaller vocabulary."""

from __future__ import annotations

import csv

import pytest

from catalogue.demo import LABEL_SAMPLES, demo_label_fields
from catalogue.models import Field, Label, Record, TrainingRun


def _file_labels(filename: str, key: str) -> set[str]:
    with (LABEL_SAMPLES / filename).open(encoding="utf-8", newline="") as f:
        return {row[key] for row in csv.DictReader(f) if row[key]}


@pytest.mark.django_db
def test_a_demo_first_run_on_few_rows_then_on_more_imports_every_label():
    demo_label_fields(rows=10)
    counts = demo_label_fields(rows=300)
    assert counts == {"genre": 300, "object_type": 300}
    object_type = Field.objects.get(key="object_type")
    codes = set(object_type.labels.values_list("code", flat=True))
    assert codes == _file_labels("tate-object-type.csv", "object_type")
    assert Record.objects.filter(collection__slug="tate").count() == 300


@pytest.mark.django_db
def test_a_demo_database_from_a_smaller_vocabulary_gains_the_missing_labels():
    demo_label_fields(rows=10)
    object_type = Field.objects.get(key="object_type")
    kept = object_type.labels.order_by("code").first()
    Label.objects.filter(field=object_type).exclude(pk=kept.pk).delete()
    demo_label_fields(rows=300)
    codes = set(object_type.labels.values_list("code", flat=True))
    assert codes == _file_labels("tate-object-type.csv", "object_type")


@pytest.mark.django_db
def test_the_demos_training_runs_say_they_ran_for_the_demos_set_up():
    demo_label_fields(rows=30)

    runs = TrainingRun.objects.select_related("field")
    assert {(r.field.key, r.get_trigger_display()) for r in runs} == {
        ("genre", "The demo's set-up (manage.py demo)"),
        ("object_type", "The demo's set-up (manage.py demo)"),
    }
    # What the version's card and page then say ("Created … by the demo's set-up."):
    # tests/ml/test_cards.py.
