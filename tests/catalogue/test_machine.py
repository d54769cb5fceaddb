"""Where model artefacts are read and written."""

from __future__ import annotations

import threading

import pytest

from catalogue.machine import (
    artefact_path,
    model_cache_clear,
    model_dir,
    model_load,
    scratch_model_dir,
)
from catalogue.models import ModelVersion
from glamml.ml.textclf import TextClassifier

TITLES = {
    "Fiction": ["The mystery of the moor: a novel", "Tales of the sea", "Poems and ballads"],
    "Non-fiction": ["A history of Kent", "Notes on the geology of Wales", "Sermons preached"],
}


@pytest.mark.django_db
def test_new_artefacts_are_named_by_their_models_file_format(field, genre):
    assert artefact_path(field=field, version=3).name == "v0003.npz"
    assert artefact_path(field=genre, version=12).name == "v0012.skops"
    assert artefact_path(field=genre, version=12).parent == model_dir() / "genre"


@pytest.mark.django_db
def test_a_text_classifier_stored_under_its_old_npz_name_still_loads(genre):
    texts = [title for titles in TITLES.values() for title in titles]
    labels = [label for label, titles in TITLES.items() for _ in titles]
    model = TextClassifier(params={"calibration": "none"}).fit(texts, labels)
    # Versions trained before files were named by their format were written as .npz.
    path = model_dir() / "genre" / "v0001.npz"
    checksum = model.save(path)
    version = ModelVersion.objects.create(
        field=genre,
        version=1,
        status=ModelVersion.Status.ACTIVE,
        artefact="genre/v0001.npz",
        checksum=checksum,
        format_version=TextClassifier.FORMAT_VERSION,
        training_fingerprint="f" * 64,
    )
    model_cache_clear()
    try:
        loaded = model_load(version=version)
    finally:
        model_cache_clear()
    assert isinstance(loaded, TextClassifier)
    assert loaded.predict(texts) == model.predict(texts)


def test_a_scratch_model_dir_applies_inside_and_only_to_its_own_thread(tmp_path, settings):
    seen_elsewhere = []
    with scratch_model_dir(tmp_path / "scratch"):
        assert model_dir() == tmp_path / "scratch"
        other = threading.Thread(target=lambda: seen_elsewhere.append(model_dir()))
        other.start()
        other.join()
    assert seen_elsewhere == [settings.GLAMML_MODEL_DIR]
    assert model_dir() == settings.GLAMML_MODEL_DIR
