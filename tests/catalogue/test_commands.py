from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from catalogue.models import Prediction
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory


@pytest.mark.django_db
def test_predict_without_an_active_model_says_how_to_get_one(genre):
    with pytest.raises(CommandError, match=r"No active model for field 'genre'.*manage.py train"):
        call_command("predict", "--field", "genre")


@pytest.mark.django_db
def test_predict_an_unknown_field_or_collection_is_named(field, active_model):
    with pytest.raises(CommandError, match="No field 'genre'"):
        call_command("predict", "--field", "genre")
    with pytest.raises(CommandError, match="No collection 'nowhere'"):
        call_command("predict", "--field", "language", "--collection", "nowhere")


@pytest.mark.django_db
def test_predict_one_collection_leaves_the_others_alone(
    field, active_model, capsys, django_capture_on_commit_callbacks
):
    books = CollectionFactory(slug="books")
    other = CollectionFactory(slug="other")
    RecordFactory(collection=books, title="Storia della letteratura italiana")
    RecordFactory(collection=other, title="Svenska folkets historia")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("predict", "--field", "language", "--collection", "books")
    assert "enqueued for 1 records" in capsys.readouterr().out
    assert list(Prediction.objects.values_list("record__collection__slug", flat=True)) == ["books"]


@pytest.mark.django_db
def test_stats_json_counts_predictions_by_status_and_names_the_active_model(
    field, active_model, capsys
):
    PredictionFactory(status="queued")
    PredictionFactory(status="queued")
    PredictionFactory(status="applied", confidence=0.99)
    call_command("stats", "--json")
    stats = json.loads(capsys.readouterr().out)
    language = stats["fields"]["language"]
    assert language["predictions"]["queued"] == 2
    assert language["predictions"]["applied"] == 1
    assert language["predictions"]["accepted"] == 0
    assert language["active_model"]["version"] == active_model.version
    assert stats["records"] == 3 and stats["decisions"] == 0 and stats["flags"] == 0


@pytest.mark.django_db
def test_demo_rows_below_one_is_refused_before_anything_is_loaded():
    from catalogue.models import Record

    with pytest.raises(CommandError, match="--rows must be at least 1, not 0"):
        call_command("demo", rows=0)
    assert not Record.objects.exists()
