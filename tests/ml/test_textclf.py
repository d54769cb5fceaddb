from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from glamml.ml import training
from glamml.ml.artefacts import ArtefactError
from glamml.ml.evaluation import evaluate
from glamml.ml.textclf import ParamError, TextClassifier, TrainingDataError, check_params

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "label-samples"


def read_sample(name: str, label: str) -> tuple[list[str], list[str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [f"{row['title']}. {row['description']}" for row in rows], [row[label] for row in rows]


def held_out(texts: list[str], labels: list[str], every: int = 5):
    train = [i for i in range(len(texts)) if i % every]
    test = [i for i in range(len(texts)) if not i % every]
    pick = lambda idx, seq: [seq[i] for i in idx]  # noqa: E731
    return (
        pick(train, texts),
        pick(train, labels),
        pick(test, texts),
        pick(test, labels),
    )


@pytest.fixture(scope="module")
def genre_split():
    return held_out(*read_sample("bl-genre.csv", "genre"))


@pytest.fixture(scope="module")
def genre_model(genre_split) -> TextClassifier:
    train_texts, train_labels, _, _ = genre_split
    return TextClassifier().fit(train_texts, train_labels)


@pytest.fixture(scope="module")
def small_model(label_samples) -> TextClassifier:
    texts, labels = label_samples["bl-genre"]
    return TextClassifier().fit(texts, labels)


def test_it_beats_the_majority_label_on_held_out_genre_records(genre_model, genre_split):
    _, train_labels, test_texts, test_labels = genre_split
    best = genre_model.predict(test_texts)
    metrics = evaluate(test_labels, [label for label, _ in best], [conf for _, conf in best])
    majority_share = max(test_labels.count(label) for label in set(train_labels)) / len(test_labels)
    assert metrics["accuracy"] >= majority_share + 0.08
    assert metrics["macro_f1"] >= 0.75
    # Calibrated: stated confidence close to the observed accuracy.
    assert metrics["ece"] <= 0.08
    assert abs(metrics["mean_confidence"] - metrics["accuracy"]) <= 0.06


def test_it_learns_object_types_from_tate_records():
    texts, labels = read_sample("tate-object-type.csv", "object_type")
    train_texts, train_labels, test_texts, test_labels = held_out(texts[:1000], labels[:1000])
    model = TextClassifier().fit(train_texts, train_labels)
    best = model.predict(test_texts)
    metrics = evaluate(test_labels, [label for label, _ in best], [conf for _, conf in best])
    assert len(model.classes_) >= 6
    assert metrics["accuracy"] >= 0.85
    assert metrics["ece"] <= 0.1


def test_probabilities_cover_the_classes_and_top_k_is_ordered(genre_model):
    texts = ["The wanderer: a novel in three volumes", "A history of the county of Kent", ""]
    proba = genre_model.predict_proba(texts)
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    top = genre_model.predict_top_k(texts, k=5)
    assert [len(alternatives) for alternatives in top] == [2, 2, 2]
    assert top[0][0][0] == "Fiction"
    assert top[1][0][0] == "Non-fiction"
    for alternatives in top:
        assert alternatives[0][1] >= alternatives[1][1]
    assert genre_model.predict_top_k([], k=1) == []
    with pytest.raises(ValueError, match="k must be"):
        genre_model.predict_top_k(texts, k=0)


def test_params_describe_the_model_and_are_json(genre_model):
    params = genre_model.params()
    json.dumps(params)
    assert params["format_version"] == TextClassifier.FORMAT_VERSION
    assert params["classes"] == ["Fiction", "Non-fiction"]
    assert params["word_ngrams"] == [1, 2]
    assert params["calibration"]["method"] == "temperature+bias"
    assert params["calibration"]["temperature"] > 0
    assert sum(params["label_counts"].values()) == params["n_examples"]


def test_unknown_or_bad_params_are_refused():
    with pytest.raises(ValueError, match="unknown parameter"):
        TextClassifier(params={"ngrams": 3})
    with pytest.raises(ValueError, match="C must be a positive"):
        TextClassifier(params={"C": 0})
    with pytest.raises(ValueError, match="cannot both be None"):
        TextClassifier(params={"word_ngrams": None, "char_ngrams": None})


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"C": "strong"}, "C"),
        ({"C": float("inf")}, "C"),
        ({"folds": 1}, "folds"),
        ({"folds": 2.5}, "folds"),
        ({"min_df": "two"}, "min_df"),
        ({"seed": None}, "seed"),
        ({"max_features": True}, "max_features"),
        ({"char_ngrams": [3, 2]}, "char_ngrams"),
        ({"class_weight": "even"}, "class_weight"),
        ({"calibration": "isotonic"}, "calibration"),
        ({"depth": 3}, "depth"),
    ],
)
def test_a_bad_param_is_named_in_the_error(params, bad):
    # The admin screen puts the message beside the input it names.
    with pytest.raises(ParamError) as caught:
        check_params(params)
    assert caught.value.param == bad
    assert bad in str(caught.value)


def test_params_given_as_text_are_read_as_numbers():
    params = check_params({"C": "3", "folds": "4", "max_features": None})
    assert (params["C"], params["folds"], params["max_features"]) == (3.0, 4, None)


def test_it_round_trips_through_a_file(small_model, tmp_path, label_samples):
    texts, _ = label_samples["bl-genre"]
    path = tmp_path / "models" / "genre-v1.skops"
    checksum = small_model.save(path)
    assert len(checksum) == 64
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp file left
    loaded = TextClassifier.load(path, checksum=checksum)
    np.testing.assert_allclose(
        loaded.predict_proba(texts[:20]), small_model.predict_proba(texts[:20])
    )
    assert loaded.classes_ == small_model.classes_
    assert loaded.params() == small_model.params()
    # The file holds only types skops trusts: no pickle, nothing to allow by hand.
    assert sio.get_untrusted_types(file=path) == []


def test_a_missing_file_is_an_artefact_error(tmp_path):
    with pytest.raises(ArtefactError, match="missing"):
        TextClassifier.load(tmp_path / "nothing.skops")


def test_a_corrupt_file_is_an_artefact_error(small_model, tmp_path):
    path = tmp_path / "model.skops"
    small_model.save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match="corrupt"):
        TextClassifier.load(path)
    path.write_bytes(b"not a model")
    with pytest.raises(ArtefactError, match="corrupt"):
        TextClassifier.load(path)


def test_a_checksum_mismatch_is_an_artefact_error(small_model, tmp_path):
    path = tmp_path / "model.skops"
    small_model.save(path)
    with pytest.raises(ArtefactError, match="fails its checksum"):
        TextClassifier.load(path, checksum="0" * 64)


def test_another_format_version_is_an_artefact_error(small_model, tmp_path):
    path = tmp_path / "model.skops"
    small_model.save(path)
    state = sio.load(path)
    state["format_version"] = TextClassifier.FORMAT_VERSION + 1
    sio.dump(state, path)
    with pytest.raises(ArtefactError, match=f"format version {TextClassifier.FORMAT_VERSION + 1}"):
        TextClassifier.load(path)
    sio.dump({"something": "else"}, path)
    with pytest.raises(ArtefactError, match="not a glamml text classifier"):
        TextClassifier.load(path)


def test_it_needs_at_least_two_labels():
    with pytest.raises(TrainingDataError, match="at least two labels"):
        TextClassifier().fit(["A tale", "Another tale"], ["Fiction", "Fiction"])


def test_it_needs_examples():
    with pytest.raises(TrainingDataError, match="no training examples"):
        TextClassifier().fit([], [])
    with pytest.raises(TrainingDataError, match="no usable training examples"):
        TextClassifier().fit(["  ", "A tale"], ["Fiction", ""])
    with pytest.raises(TrainingDataError, match="2 texts but 1 labels"):
        TextClassifier().fit(["a", "b"], ["x"])
    with pytest.raises(TrainingDataError, match="nothing to learn from"):
        TextClassifier(params={"char_ngrams": None}).fit(["!!!", "?"], ["Fiction", "Non-fiction"])


def test_the_error_is_importable_from_training_too():
    assert training.TrainingDataError is TrainingDataError
    assert issubclass(TrainingDataError, ValueError)


def test_a_label_with_one_example_is_learnt_and_reported(label_samples):
    texts, labels = label_samples["bl-genre"]
    model = TextClassifier().fit([*texts, "Carmina selecta latine reddita"], [*labels, "Poetry"])
    assert model.classes_ == ["Fiction", "Non-fiction", "Poetry"]
    assert any("single training example" in w and "'Poetry'" in w for w in model.warnings_)
    assert model.predict_proba(["Carmina"]).shape == (1, 3)


def test_with_very_few_examples_it_trains_without_calibration():
    model = TextClassifier().fit(
        ["A novel", "Poems", "Tales of the sea", "A history of Rome", "An account of Kent"],
        ["Fiction", "Fiction", "Fiction", "Non-fiction", "Non-fiction"],
    )
    params = model.params()
    assert params["calibration"]["method"] == "none"
    assert any("calibration skipped" in w for w in model.warnings_)
    assert model.predict(["A novel of the sea"])[0][0] == "Fiction"


def test_a_file_holding_untrusted_types_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    sio.dump({"format_version": TextClassifier.FORMAT_VERSION, "params": Fraction(1, 3)}, path)
    with pytest.raises(ArtefactError, match="holds types this code does not load"):
        TextClassifier.load(path)


def test_an_inconsistent_file_is_an_artefact_error(small_model, tmp_path):
    path = tmp_path / "model.skops"
    small_model.save(path)
    state = sio.load(path)
    state["bias"] = state["bias"][:1]
    sio.dump(state, path)
    with pytest.raises(ArtefactError, match="inconsistent"):
        TextClassifier.load(path)
