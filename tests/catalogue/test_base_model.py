"""A fresh deployment predicts languages with the shipped base model, with no training step."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from catalogue.models import Collection, ModelVersion, Prediction, TrainingRun
from catalogue.services.imports import records_import
from catalogue.services.training.base import base_model_ensure
from catalogue.tasks import predict_pending
from tests.factories import RecordFactory

RECORDS = (
    "identifier,title\n"
    "b1,Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart\n"
    "b2,Histoire de la Révolution française depuis 1789 jusqu'en 1814\n"
)


@pytest.mark.django_db
def test_records_imported_into_a_fresh_deployment_are_predicted(
    field, data_dir, tmp_path, django_capture_on_commit_callbacks
):
    assert not ModelVersion.objects.exists()
    path = tmp_path / "records.csv"
    path.write_text(RECORDS, encoding="utf-8")
    collection = Collection.objects.create(slug="c", name="C")
    with django_capture_on_commit_callbacks(execute=True):
        records_import(path=path, collection=collection)
    version = ModelVersion.objects.get(field=field)
    assert (version.version, version.status) == (1, ModelVersion.Status.ACTIVE)
    run = version.training_run
    assert run.trigger == TrainingRun.Trigger.BASE and "shipped base" in run.reason
    assert version.n_train == 0 and version.card and version.metrics["macro_f1"] > 0.9
    labels = dict(Prediction.objects.values_list("record__identifier", "label"))
    assert labels == {"b1": "deu", "b2": "fra"}


@pytest.mark.django_db
def test_predict_works_right_after_migrate(field, data_dir, django_capture_on_commit_callbacks):
    RecordFactory(title="Storia della letteratura italiana dalle origini ai nostri giorni")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("predict", "--field", "language")
    assert list(Prediction.objects.values_list("label", flat=True)) == ["ita"]


@pytest.mark.django_db
def test_the_periodic_safety_net_predicts_on_a_fresh_deployment(
    field, data_dir, django_capture_on_commit_callbacks
):
    RecordFactory(title="Suomen kansan vanhat runot ja niiden historia")
    with django_capture_on_commit_callbacks(execute=True):
        predict_pending()
    assert list(Prediction.objects.values_list("label", flat=True)) == ["fin"]


@pytest.mark.django_db
def test_a_field_whose_versions_were_retired_gets_no_base_model(active_model, data_dir):
    ModelVersion.objects.update(status=ModelVersion.Status.RETIRED)
    assert base_model_ensure(field=active_model.field) is False
    assert ModelVersion.objects.count() == 1
    with pytest.raises(CommandError, match="No active model for field 'language'"):
        call_command("predict", "--field", "language")


@pytest.mark.django_db
def test_a_label_field_still_needs_training(genre, data_dir):
    assert base_model_ensure(field=genre) is False
    with pytest.raises(CommandError, match=r"No active model for field 'genre'.*manage.py train"):
        call_command("predict", "--field", "genre")
    assert not ModelVersion.objects.exists()
