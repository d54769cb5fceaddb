from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from catalogue.machine import model_load
from catalogue.models import ModelVersion, Prediction, SplitAssignment, TrainingRun
from catalogue.services.training import splits
from catalogue.services.training.examples import training_examples
from catalogue.services.training.runs import training_run_execute
from catalogue.services.training.splits import split_assign, split_fraction
from catalogue.services.values import value_set
from tests.factories import CollectionFactory, RecordFactory

# Titles the base model already reads as Latin: whichever one the split holds out, the model
# gets it right, so whether a version goes live does not depend on database record ids.
LATIN = [
    "Historiae Romanae libri qui supersunt",
    "Epistolae ad familiares et ad Atticum",
    "Institutiones grammaticae linguae Latinae",
    "Commentarii de rebus gestis Romanorum",
    "Opera omnia quae exstant ex recensione virorum doctorum",
    "Orationes selectae cum notis et commentariis",
    "Poematum libri quinque cum annotationibus",
    "De officiis libri tres ad Marcum filium",
]
ENGLISH = [
    "A history of the county of York",
    "The poetical works of the late author",
    "Notes on a journey through the north of England",
    "Sermons preached in the parish church",
]


@pytest.fixture
def labelled(field, cataloguer):
    collection = CollectionFactory()
    for i, title in enumerate(LATIN):
        record = RecordFactory(collection=collection, title=title)
        # Half from the catalogue, half decided by a person: both are training data.
        source = "import" if i % 2 else "human"
        value_set(record=record, field=field, label="lat", source=source, user=cataloguer)
    for title in ENGLISH:
        value_set(
            record=RecordFactory(collection=collection, title=title),
            field=field,
            label="eng",
            source="import",
        )
    model_only = RecordFactory(collection=collection, title="Ein Buch über Bäume")
    value_set(record=model_only, field=field, label="eng", source="model")
    rejected = RecordFactory(collection=collection, title="Un livre sur les arbres")
    value_set(record=rejected, field=field, label="", source="human", action="rejected")
    return collection


@pytest.mark.django_db
def test_training_data_is_imported_and_human_values_never_model_values(field, labelled):
    examples = training_examples(field=field)
    texts, labels = [e.text for e in examples], [e.label for e in examples]
    assert "Ein Buch über Bäume" not in texts
    assert "Un livre sur les arbres" not in texts
    assert sorted(set(labels)) == ["eng", "lat"]
    assert len(texts) == len(LATIN) + len(ENGLISH)
    # Each example is keyed by its record and says where its label came from.
    ids = dict(labelled.records.values_list("title", "id"))
    by_text = {e.text: e for e in examples}
    assert (by_text[LATIN[0]].key, by_text[LATIN[0]].source) == (ids[LATIN[0]], "human")
    assert (by_text[LATIN[1]].key, by_text[LATIN[1]].source) == (ids[LATIN[1]], "import")


@pytest.mark.django_db
def test_a_records_split_fraction_depends_only_on_the_field_and_the_record(field, genre):
    fractions = [split_fraction(field=field, record_id=i) for i in range(100)]
    assert fractions == [split_fraction(field=field, record_id=i) for i in range(100)]
    assert all(0.0 <= f < 1.0 for f in fractions)
    # Another field holds out other records: its split is its own.
    assert fractions != [split_fraction(field=genre, record_id=i) for i in range(100)]


@pytest.mark.django_db
def test_every_examples_split_side_is_stored_whatever_the_batch_size(field, labelled, monkeypatch):
    examples = training_examples(field=field)
    monkeypatch.setattr(splits, "INSERT_BATCH", 5)
    sides = split_assign(field=field, examples=examples)
    stored = dict(SplitAssignment.objects.filter(field=field).values_list("record_id", "side"))
    assert stored == sides
    assert sorted(stored) == sorted(e.key for e in examples)
    assert set(stored.values()) == {"train", "test"}


@pytest.mark.django_db
def test_a_training_run_builds_evaluates_and_activates_a_new_version(field, labelled):
    run = TrainingRun.objects.create(field=field)
    run = training_run_execute(run=run)
    assert run.status == "succeeded", run.message
    version = run.model_version
    # With no active version the rules baseline is the only gate (no rules here: it scores 0).
    assert version.version == 1 and version.status == "active"
    assert version.metrics["n_test"] >= 1
    assert {"accuracy", "macro_f1", "ece"} <= set(version.metrics)
    assert len(version.training_fingerprint) == 64
    # The catalogue's own label (Latin) is now one the model can give.
    assert "lat" in model_load(version=version).classes_
    assert field.labels.filter(code="lat").exists()


@pytest.mark.django_db
def test_a_second_version_is_measured_against_the_active_one_on_the_same_records(
    field, labelled, active_model
):
    run = training_run_execute(run=TrainingRun.objects.create(field=field))
    version = run.model_version
    compared = version.metrics["active_on_same_split"]
    assert compared["n"] == version.metrics["n"] == version.n_test
    # Whichever way the comparison went, exactly one version is live and the run says why.
    live = ModelVersion.objects.get(field=field, status="active")
    if version.metrics["macro_f1"] >= compared["macro_f1"]:
        assert live == version and "Promoted" in run.message
    else:
        assert live == active_model and "worse than the active version" in run.message


@pytest.mark.django_db
def test_a_run_delivered_twice_trains_once(field, labelled):
    run = TrainingRun.objects.create(field=field)
    training_run_execute(run=run)
    training_run_execute(run=TrainingRun.objects.get(pk=run.pk))
    assert ModelVersion.objects.filter(field=field).count() == 1


@pytest.mark.django_db
def test_a_failed_run_says_why_and_leaves_the_active_version_active(
    field, labelled, active_model, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full while writing the artefact")

    monkeypatch.setattr("catalogue.services.training.runs.train_and_evaluate", broken)
    run = training_run_execute(run=TrainingRun.objects.create(field=field))
    assert run.status == "failed"
    assert "disk full" in run.message
    active_model.refresh_from_db()
    assert active_model.status == "active"
    assert ModelVersion.objects.filter(field=field).count() == 1


@pytest.mark.django_db
def test_the_train_command_trains_and_predicts_waiting_records(
    field, labelled, capsys, django_capture_on_commit_callbacks
):
    unlabelled = RecordFactory(collection=labelled, title="Commentarii de rebus gestis")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("train", "--field", "language")
    assert "Training run" in capsys.readouterr().out
    run = TrainingRun.objects.get()
    assert (run.status, run.model_version.version) == ("succeeded", 1)
    prediction = Prediction.objects.get(record=unlabelled)
    assert prediction.model_version.version == 1
    stats = json.loads(_stats_json(capsys))
    assert stats["fields"]["language"]["active_model"]["version"] == 1


def _stats_json(capsys) -> str:
    call_command("stats", "--json")
    return capsys.readouterr().out
