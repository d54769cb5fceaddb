"""Model versions for any label field: frozen split, baselines, gate, promotion, rollback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalogue.models import (
    Decision,
    ModelVersion,
    Prediction,
    SplitAssignment,
    TrainingRun,
)
from catalogue.services import policy as policy_service
from catalogue.services.imports import records_import
from catalogue.services.training.promotion import model_version_promote, promotion_gate
from catalogue.services.training.runs import EVEN_IF_UNCHANGED, UNCHANGED
from catalogue.services.training.schedule import (
    WORKER_LOST,
    fields_due_for_retraining,
    training_runs_reap,
)
from tests.conftest import train
from tests.factories import CataloguerFactory, CollectionFactory, PredictionFactory

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db
def test_a_label_field_trains_with_baselines_on_a_frozen_split(genre, genre_records):
    run = train(genre)
    assert run.status == "succeeded", run.message
    # The metric in words, not its key ("held-out macro_f1").
    assert "; held-out macro-F1 0." in run.message
    version = run.model_version
    assert version.status == "active"
    assert set(version.baselines) == {"stratified", "majority", "rules"}
    for metrics in (version.metrics, *version.baselines.values()):
        assert {"accuracy", "macro_f1"} <= set(metrics)
    assert version.metrics["macro_f1"] > version.baselines["stratified"]["macro_f1"]
    assert {"confusion", "reliability", "precision_coverage"} <= set(version.metrics)
    assert version.n_test == SplitAssignment.objects.filter(field=genre, side="test").count() > 0
    assert version.card["training_data"]["label_counts"]
    assert version.size_bytes > 0


@pytest.mark.django_db
def test_the_held_out_split_stays_frozen_and_grows_only_with_human_decisions(
    genre, genre_records, tmp_path
):
    train(genre)
    before = dict(SplitAssignment.objects.filter(field=genre).values_list("record_id", "side"))
    more = tmp_path / "more.csv"
    more.write_text(
        "identifier,title,genre\n"
        + "".join(f"new{i},A new novel in three volumes {i},Fiction\n" for i in range(20)),
        encoding="utf-8",
    )
    records_import(path=more, collection=genre_records, mapping={"genre": "genre"})
    train(genre)
    after = dict(SplitAssignment.objects.filter(field=genre).values_list("record_id", "side"))
    assert {k: after[k] for k in before} == before
    new_sides = {after[k] for k in set(after) - set(before)}
    assert new_sides == {"train"}  # imported later: never joins the held-out side


def candidate(field, *, model: float, rules: float) -> ModelVersion:
    return ModelVersion.objects.create(
        field=field,
        version=ModelVersion.objects.filter(field=field).count() + 1,
        artefact="x.npz",
        checksum="0" * 64,
        format_version=1,
        training_fingerprint="0" * 64,
        metrics={"macro_f1": model, "accuracy": model},
        baselines={
            "rules": {"macro_f1": rules, "accuracy": rules},
            "majority": {"macro_f1": 0.3, "accuracy": 0.6},
            "stratified": {"macro_f1": 0.5, "accuracy": 0.5},
        },
    )


@pytest.mark.django_db
def test_the_gate_keeps_a_candidate_that_does_not_beat_the_rules(genre):
    gate = promotion_gate(version=candidate(genre, model=0.7, rules=0.7), active_metrics=None)
    assert not gate.promote
    assert "does not beat the rules baseline on macro-F1" in gate.reason


@pytest.mark.django_db
def test_the_gate_keeps_a_candidate_worse_than_the_active_version_on_the_same_split(genre):
    version = candidate(genre, model=0.8, rules=0.4)
    assert promotion_gate(version=version, active_metrics={"macro_f1": 0.8}).promote
    gate = promotion_gate(version=version, active_metrics={"macro_f1": 0.81})
    assert not gate.promote and "worse than the active version" in gate.reason


@pytest.mark.django_db
def test_the_gate_leaves_promotion_to_an_admin_when_the_policy_says_so(genre):
    genre.policy.auto_promote = False
    genre.policy.save()
    gate = promotion_gate(version=candidate(genre, model=0.9, rules=0.1), active_metrics=None)
    assert not gate.promote and "promoted by an admin" in gate.reason


@pytest.mark.django_db
def test_an_admin_promotes_and_rolls_back_in_one_action(
    genre, genre_records, admin_user, django_capture_on_commit_callbacks
):
    v1 = train(genre).model_version
    v2 = train(genre, params={EVEN_IF_UNCHANGED: True}).model_version
    with django_capture_on_commit_callbacks(execute=True):
        model_version_promote(version=v2, promoted_by=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        model_version_promote(version=v1, promoted_by=admin_user)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("active", "retired")
    assert v1.promoted_by == admin_user
    assert ModelVersion.objects.filter(field=genre, status="active").count() == 1


@pytest.mark.django_db
def test_promotion_repredicts_waiting_values_but_never_human_ones(
    field, active_model, django_capture_on_commit_callbacks, cataloguer
):
    from catalogue.services.decisions import decision_make

    waiting = PredictionFactory(model_version=active_model, confidence=0.3)
    decided = PredictionFactory(model_version=active_model, confidence=0.3)
    decision_make(prediction=decided, reviewer=cataloguer, action="accept")
    v2 = ModelVersion.objects.create(
        field=field,
        version=2,
        status="candidate",
        artefact=active_model.artefact,
        checksum=active_model.checksum,
        format_version=active_model.format_version,
        training_fingerprint="1" * 64,
    )
    with django_capture_on_commit_callbacks(execute=True):
        model_version_promote(version=v2, promoted_by=None)
    waiting.refresh_from_db()
    assert waiting.status == "superseded"
    assert Prediction.objects.filter(record=waiting.record, model_version=v2).exists()
    assert not Prediction.objects.filter(record=decided.record, model_version=v2).exists()
    decided.refresh_from_db()
    assert decided.status == "accepted"


@pytest.mark.django_db
def test_too_few_labels_ends_in_a_clear_failed_status(genre, tmp_path):
    path = tmp_path / "one-label.csv"
    path.write_text(
        "identifier,title,genre\n" + "".join(f"r{i},Title {i},Fiction\n" for i in range(10)),
        encoding="utf-8",
    )
    records_import(path=path, collection=CollectionFactory(), mapping={"genre": "genre"})
    run = train(genre)
    assert run.status == "failed"
    assert "label" in run.message.lower()
    assert not ModelVersion.objects.filter(field=genre).exists()


@pytest.mark.django_db
def test_a_field_with_no_labelled_records_fails_with_a_message(genre):
    run = train(genre)
    assert run.status == "failed"
    assert "no labelled records" in run.message


@pytest.mark.django_db
def test_a_run_whose_worker_died_is_marked_failed(genre, settings):
    run = TrainingRun.objects.create(
        field=genre,
        status="running",
        started_at=timezone.now() - timedelta(seconds=settings.GLAMML_TRAINING_TIME_LIMIT + 900),
    )
    fresh = TrainingRun.objects.create(field=genre, status="running", started_at=timezone.now())
    assert training_runs_reap() == 1
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == "failed" and run.message.startswith(WORKER_LOST.split("(")[0])
    assert fresh.status == "running"


@pytest.mark.django_db
def test_scheduled_retraining_waits_for_enough_decisions_and_skips_unchanged_data(
    field, active_model
):
    field.policy.retrain_after_decisions = 2
    field.policy.save()
    assert fields_due_for_retraining() == []
    reviewer = CataloguerFactory()
    for _ in range(2):
        prediction = PredictionFactory(model_version=active_model)
        Decision.objects.create(
            prediction=prediction, review_round=0, reviewer=reviewer, action="accept", label="fra"
        )
    assert fields_due_for_retraining() == [field]
    first = train(field, trigger="schedule")
    assert first.status == "succeeded", first.message
    again = train(field, trigger="schedule")
    assert again.status == "skipped"
    assert "has not changed" in again.message


@pytest.mark.django_db
def test_a_person_retraining_unchanged_data_is_told_so_and_gets_no_identical_version(
    genre, genre_records, admin_user
):
    first = train(genre, started_by=admin_user)
    again = train(genre, started_by=admin_user)

    assert again.status == "skipped"
    assert again.message == UNCHANGED.format(version=first.model_version.version)
    assert genre.model_versions.count() == 1
    # A changed rule changes what the run measures: that is worth a run on the same data.
    policy_service.label_rules_update(
        field=genre, rules={"Fiction": r"\bnovel\b"}, changed_by=admin_user
    )
    assert train(genre, started_by=admin_user).status == "succeeded"
    assert genre.model_versions.count() == 2


@pytest.mark.django_db
def test_define_field_command_creates_a_label_field_in_review_mode(capsys):
    call_command(
        "define_field",
        "--key",
        "object_type",
        "--name",
        "Object type",
        "--label",
        "on paper, unique",
        "--label",
        "painting",
        "--text",
        "title,description",
    )
    from catalogue.models import Field

    field = Field.objects.get(key="object_type")
    assert sorted(field.labels.values_list("code", flat=True)) == ["on paper, unique", "painting"]
    assert field.policy.mode == "review"
    with pytest.raises(CommandError, match="exists already"):
        call_command("define_field", "--key", "object_type", "--name", "X", "--labels", "a,b")


@pytest.mark.django_db
def test_simulated_review_prints_a_learning_curve_and_keeps_nothing(
    genre, genre_records, capsys, settings
):
    train(genre)
    versions = ModelVersion.objects.count()
    artefacts = sorted((settings.GLAMML_MODEL_DIR / "genre").iterdir())
    data = Path(__file__).resolve().parent.parent / "fixtures" / "genre_sim.csv"
    call_command(
        "simulate_review",
        "--field",
        "genre",
        "--data",
        str(data),
        "--budget",
        "0.5",
        "--batch",
        "10",
        "--label-column",
        "genre",
        "--text-column",
        "title",
        "--json",
    )
    result = json.loads(capsys.readouterr().out)
    assert result["curve"][0]["reviewed"] == 0
    assert result["curve"][-1]["reviewed"] == result["reviewed"] > 0
    assert all(0 <= p["accuracy"] <= 1 for p in result["curve"])
    # No TEST file: a hashed share of the file is set aside, and the output says so.
    assert result["test"].startswith(f"TEST: {result['n_test']} rows of the data file set aside")
    assert result["n"] + result["n_test"] == 40
    assert all(p["n"] == result["n_test"] and p["pool_n"] == result["n"] for p in result["curve"])
    # Rolled back: no scratch records, versions, or decisions are left behind.
    assert ModelVersion.objects.count() == versions
    assert not Decision.objects.exists()
    assert sorted((settings.GLAMML_MODEL_DIR / "genre").iterdir()) == artefacts


@pytest.mark.django_db
def test_a_label_with_a_single_example_trains_and_is_reported(genre, genre_records, tmp_path):
    from catalogue.models import Label

    Label.objects.create(field=genre, code="Poetry", name="Poetry")
    path = tmp_path / "one.csv"
    path.write_text("identifier,title,genre\nlonely,Sonnets and songs,Poetry\n", encoding="utf-8")
    records_import(path=path, collection=genre_records, mapping={"genre": "genre"})
    run = train(genre)
    assert run.status == "succeeded", run.message
    card = run.model_version.card
    assert card["training_data"]["label_counts"]["Poetry"] == 1


@pytest.mark.django_db
def test_an_unusable_active_artefact_does_not_block_a_new_version(genre, genre_records, settings):
    from catalogue.machine import model_cache_clear

    first = train(genre).model_version
    (settings.GLAMML_MODEL_DIR / first.artefact).write_bytes(b"truncated")
    model_cache_clear()
    run = train(genre)
    assert run.status == "succeeded", run.message
    assert run.model_version.status == "active"
    assert run.model_version.metrics["active_on_same_split"] is None
    model_cache_clear()


@pytest.mark.django_db
def test_the_periodic_task_starts_a_run_for_a_field_with_enough_decisions(
    field, active_model, django_capture_on_commit_callbacks
):
    from catalogue.tasks import retrain_due_fields

    field.policy.retrain_after_decisions = 1
    field.policy.save()
    Decision.objects.create(
        prediction=PredictionFactory(model_version=active_model),
        review_round=0,
        reviewer=CataloguerFactory(),
        action="accept",
        label="fra",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert retrain_due_fields() == ["language"]
    run = TrainingRun.objects.get(field=field)
    assert (run.trigger, run.status) == ("schedule", "succeeded")
    # Nothing new since that run: the next tick starts nothing.
    assert retrain_due_fields() == []


@pytest.mark.django_db
def test_simulated_review_scores_the_model_on_a_test_file_nobody_reviews(
    genre, genre_records, capsys, tmp_path
):
    train(genre)
    rows = (Path(__file__).resolve().parent.parent / "fixtures" / "genre_sim.csv").read_text()
    header, *lines = rows.strip().splitlines()
    pool, test = tmp_path / "pool.csv", tmp_path / "test.csv"
    pool.write_text("\n".join([header, *lines[:30]]) + "\n")
    # The first TEST title again with the other genre: no model gets both right, so TEST
    # accuracy stays under 1.0 whatever the training split, unless TEST's own answers leak in.
    title, genre = lines[30].rsplit(",", 1)
    twin = f"{title},{'Fiction' if genre == 'Non-fiction' else 'Non-fiction'}"
    test.write_text("\n".join([header, *lines[30:], twin]) + "\n")
    arguments = ["--field", "genre", "--data", str(pool), "--test", str(test)]
    arguments += ["--budget", "1", "--batch", "15", "--label-column", "genre"]
    call_command("simulate_review", *arguments, "--text-column", "title", "--json")
    result = json.loads(capsys.readouterr().out)
    assert (result["n"], result["n_test"], result["reviewed"]) == (30, 11, 30)
    assert result["test"] == "TEST: 11 rows of test.csv, never reviewed"
    assert [p["reviewed"] for p in result["curve"]] == [0, 15, 30]
    # Every POOL record answered: the catalogue is right everywhere, the model on TEST is not
    # (had TEST been reviewed or trained on, it would be).
    assert result["final"]["catalogue_accuracy"] == 1.0
    assert result["curve"][0]["catalogue_accuracy"] < 1.0
    assert result["final"]["accuracy"] < 1.0
    # Each TEST label's F1, the figures macro-F1 averages.
    for point in result["curve"]:
        f1 = point["f1_by_label"]
        assert sorted(f1) == ["Fiction", "Non-fiction"]
        assert point["macro_f1"] == pytest.approx(sum(f1.values()) / 2)
    call_command("simulate_review", *arguments, "--text-column", "title")
    out = capsys.readouterr().out
    assert "TEST: 11 rows of test.csv, never reviewed" in out
    assert "TEST: accuracy  macro-F1  POOL: catalogue accuracy" in out


@pytest.mark.django_db
def test_a_label_field_trains_with_the_classifier_settings_it_was_defined_with(tmp_path):
    call_command(
        "define_field",
        "--key",
        "genre",
        "--name",
        "Genre",
        "--labels",
        "Fiction,Non-fiction",
        "--text",
        "title,description,shelfmark",
        "--param",
        "C=3",
        "--param",
        "calibration=temperature",
    )
    from catalogue.models import Field, Record
    from catalogue.services.inference import text_for_model
    from tests.conftest import GENRE_SAMPLE

    field = Field.objects.get(key="genre")
    assert field.model_params == {"C": 3, "calibration": "temperature"}
    path = tmp_path / "genre.csv"
    path.write_text(GENRE_SAMPLE.read_text(encoding="utf-8")[:40_000], encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # no half row
    records_import(path=path, collection=CollectionFactory(), mapping={"genre": "genre"})
    record = Record.objects.exclude(extra={}).first()
    assert record is not None and record.extra["shelfmark"] in text_for_model(
        record=record, field=field
    )
    run = train(field)
    assert run.status == "succeeded", run.message
    params = run.model_version.params
    assert (params["C"], params["calibration"]["method"]) == (3, "temperature")
    assert "calibrated by temperature scaling" in params["model"]


@pytest.mark.django_db
def test_define_field_names_a_classifier_setting_it_does_not_know():
    with pytest.raises(CommandError, match="Field 'genre': unknown parameter\\(s\\) depth"):
        call_command(
            "define_field", "--key", "genre", "--name", "G", "--labels", "a,b", "--param", "depth=3"
        )
    with pytest.raises(CommandError, match="write KEY=VALUE"):
        call_command(
            "define_field", "--key", "genre", "--name", "G", "--labels", "a,b", "--param", "C"
        )


@pytest.mark.django_db
def test_the_demo_genre_field_uses_the_settings_its_benchmark_chose(
    django_capture_on_commit_callbacks,
):
    from catalogue.demo import demo_label_fields
    from catalogue.models import Field
    from glamml.ml.presets import BL_GENRE

    with django_capture_on_commit_callbacks(execute=True):
        demo_label_fields(rows=80)
    field = Field.objects.get(key="genre")
    assert (field.text_source, field.model_params) == (list(BL_GENRE.text), BL_GENRE.params)
    params = field.model_versions.get().params
    assert (params["C"], params["calibration"]["method"]) == (3, "temperature")
