from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from scipy import sparse

from glamml.ml.evaluation import expected_calibration_error
from glamml.ml.langid import UNDETERMINED, ArtefactError, LanguageIdentifier, artefact
from glamml.ml.languages import UnknownLanguageError
from glamml.ml.splits import stratified_split
from glamml.ml.text import MAX_CHARS, clean_text
from glamml.ml.training import load_eval_sample


def accuracy(model: LanguageIdentifier, texts: list[str], labels: list[str]) -> float:
    predicted = [label for label, _ in model.predict(texts)]
    return float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)]))


# -- the shipped model --------------------------------------------------------------------------


def test_the_base_model_identifies_held_out_catalogue_titles(base_model, catalogue_titles):
    texts, labels = catalogue_titles
    assert accuracy(base_model, texts, labels) >= 0.9


def test_the_base_model_is_accurate_on_the_shipped_held_out_sample(base_model):
    texts, labels = load_eval_sample()
    assert len(texts) >= 300
    assert accuracy(base_model, texts, labels) >= 0.93


def test_probabilities_have_one_row_per_text_summing_to_one(base_model):
    proba = base_model.predict_proba(["Suomen historia", "", "Histoire de la Révolution française"])
    assert proba.shape == (3, len(base_model.labels_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert base_model.classes_[int(proba[2].argmax())] == "fra"


def test_top_k_is_best_first_and_agrees_with_predict_proba(base_model):
    texts = ["Geschichte der deutschen Literatur", "Svenska folkets historia"]
    top = base_model.predict_top_k(texts, k=3)
    proba = base_model.predict_proba(texts)
    assert [row[0][0] for row in top] == ["deu", "swe"]
    for row, probabilities in zip(top, proba, strict=True):
        assert len(row) == 3
        assert [p for _, p in row] == sorted((p for _, p in row), reverse=True)
        for label, p in row:
            assert p == pytest.approx(probabilities[base_model.classes_.index(label)])


def test_labels_are_folded_iso639_3_codes(base_model):
    assert {"eng", "fin", "swe", "zho", "ara", "fas", "nor"} <= set(base_model.classes_)
    assert not {"cmn", "arb", "pes", "nob", UNDETERMINED} & set(base_model.classes_)


# -- undetermined and hostile input ------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t", "1887", "12.3 -- (45) !?", "[1887.]", "§ 3, 4"])
def test_text_without_letters_is_undetermined_with_full_confidence(base_model, text):
    assert base_model.predict_top_k([text], k=3) == [[(UNDETERMINED, 1.0)]]
    proba = base_model.predict_proba([text])
    np.testing.assert_allclose(proba, 1.0 / len(base_model.labels_))


def test_a_megabyte_of_text_is_truncated_before_featurising(base_model):
    huge = "Die Geschichte der Stadt Berlin und ihrer Bewohner. " * 20_000  # ~1 MB
    assert len(huge) > 1_000_000
    assert len(clean_text(huge)) <= MAX_CHARS
    [[(label, confidence), *_]] = base_model.predict_top_k([huge])
    assert label == "deu"
    assert confidence > 0.98  # never quite 1: the lapse


def test_cataloguer_notes_in_square_brackets_are_ignored_beside_a_title_of_four_words():
    assert (
        clean_text("Norges Land og Folk, statistisk beskrevet [With maps and plates.]")
        == "norges land og folk statistisk beskrevet"
    )
    # A shorter title (often a name) says too little alone: the note counts too ...
    assert clean_text("Brenda [A novel.]") == "brenda a novel"
    # ... and so it does when there is nothing else.
    assert clean_text("[Untitled]") == "untitled"


def test_an_english_note_does_not_outvote_a_foreign_title(base_model):
    [(label, _)] = base_model.predict(
        ["Norges Land og Folk, statistisk og topografisk beskrevet [With maps and plates.]"]
    )
    assert label in {"dan", "nor"}


def test_a_batch_of_ten_thousand_titles_answers_each_with_three_guesses(
    base_model, catalogue_titles
):
    # Its speed is measured by bench/langid_peers.py, never by a timed assertion here.
    texts, _ = catalogue_titles
    batch = (texts * 102)[:10_000]
    results = base_model.predict_top_k(batch, k=3)
    assert len(results) == 10_000
    assert all(len(alts) == 3 for alts in results)


# -- training -----------------------------------------------------------------------------------


def test_a_model_trained_on_a_few_real_sentences_tells_them_apart(tatoeba_sentences):
    texts, labels = tatoeba_sentences
    train, test = stratified_split(labels, test_size=0.25, seed=0)
    model = LanguageIdentifier.from_examples([texts[i] for i in train], [labels[i] for i in train])
    assert sorted(model.classes_) == ["eng", "fra", "ita", "spa"]
    held_out = [texts[i] for i in test]
    assert accuracy(model, held_out, [labels[i] for i in test]) >= 0.75


def test_fit_incremental_adds_a_new_label_as_a_class(tatoeba_sentences, ancient_greek_titles):
    base = LanguageIdentifier.from_examples(*tatoeba_sentences)
    texts, labels = ancient_greek_titles
    assert "grc" not in base.classes_
    before = base.predict_proba(["Ἀνάβασις"])
    model = base.fit_incremental(texts[:-5], labels[:-5], weight=10)
    assert "grc" in model.classes_
    assert "grc" not in base.classes_  # the base model is unchanged
    np.testing.assert_allclose(base.predict_proba(["Ἀνάβασις"]), before)
    predicted = [label for label, _ in model.predict(texts[-5:])]
    assert predicted.count("grc") >= 4
    assert model.params()["n_in_domain_examples"] == len(texts) - 5


def test_the_shipped_model_reads_polytonic_greek_titles_as_ancient_greek(
    base_model, ancient_greek_titles
):
    texts, _ = ancient_greek_titles
    predicted = [label for label, _ in base_model.predict(texts)]
    assert predicted.count("grc") >= 0.8 * len(texts)
    # Modern Greek is still Modern Greek.
    assert base_model.predict(["Η ιστορία της νεότερης Ελλάδας"])[0][0] == "ell"


def test_the_shipped_model_reads_romanised_titles_as_their_language(base_model):
    titles = {
        "Zhongguo he ping fa zhan yu guo ji zhan lüe": "zho",
        "Slova i kraski : ocherki iz istorii tvorcheskikh sviazeĭ": "rus",
        "Ai wa shinpi na shūdōjō": "jpn",
    }
    assert [label for label, _ in base_model.predict(list(titles))] == list(titles.values())


def test_fit_incremental_learns_in_domain_titles(base_model, catalogue_titles):
    texts, labels = catalogue_titles
    sami = [(t, lab) for t, lab in zip(texts, labels, strict=True) if lab == "sme"]
    before = accuracy(base_model, [t for t, _ in sami[5:]], [lab for _, lab in sami[5:]])
    model = base_model.fit_incremental([t for t, _ in sami[:5]], [lab for _, lab in sami[:5]])
    after = accuracy(model, [t for t, _ in sami[5:]], [lab for _, lab in sami[5:]])
    assert after >= before


def test_fit_incremental_normalises_labels_and_rejects_unknown_ones(base_model):
    model = base_model.fit_incremental(["Sveriges historia"], ["sv"])
    assert model.classes_ == base_model.classes_
    with pytest.raises(UnknownLanguageError, match="'elvish'"):
        base_model.fit_incremental(["Namárië"], ["elvish"])
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        base_model.fit_incremental(["a", "b"], ["eng"])


def test_fit_incremental_skips_undetermined_examples(base_model):
    model = base_model.fit_incremental(["1887", "Historia"], ["und", "lat"])
    assert model.params()["n_in_domain_examples"] == 1
    assert UNDETERMINED not in model.classes_


# -- calibration --------------------------------------------------------------------------------


def _log_loss(model: LanguageIdentifier, texts: list[str], labels: list[str]) -> float:
    proba = model.predict_proba(texts)
    columns = [model.classes_.index(label) for label in labels]
    picked = proba[np.arange(len(labels)), columns]
    return float(-np.mean(np.log(np.maximum(picked, 1e-300))))


def _ece(model: LanguageIdentifier, texts: list[str], labels: list[str]) -> float:
    best = model.predict(texts)
    return expected_calibration_error(
        [p == t for (p, _), t in zip(best, labels, strict=True)], [c for _, c in best]
    )


def _plain_naive_bayes(model: LanguageIdentifier) -> LanguageIdentifier:
    # No temperature, no length scaling, the prior counted once.
    return model.with_hyperparameters(
        temperature=1.0, length_exponent=0.0, prior_weight=1.0, lapse=0.0
    )


def test_the_shipped_model_is_better_calibrated_than_plain_naive_bayes(base_model):
    texts, labels = load_eval_sample()  # held out from the profiles and from calibration
    raw = _plain_naive_bayes(base_model)
    assert _ece(base_model, texts, labels) < _ece(raw, texts, labels)
    assert _ece(base_model, texts, labels) < 0.035
    assert _log_loss(base_model, texts, labels) < _log_loss(raw, texts, labels) / 2


def test_calibrate_fits_the_temperature_that_minimises_log_loss(base_model):
    texts, labels = load_eval_sample()
    fit, check = stratified_split(labels, test_size=0.5, seed=0)
    fit_texts, fit_labels = [texts[i] for i in fit], [labels[i] for i in fit]
    raw = _plain_naive_bayes(base_model)
    calibrated = raw.calibrate(fit_texts, fit_labels)
    temperature = calibrated.hyper.temperature
    assert temperature > 2.0  # naive Bayes is over-confident
    assert raw.hyper.temperature == 1.0  # calibrate returns a copy
    fitted_loss = _log_loss(calibrated, fit_texts, fit_labels)
    for other in (temperature * 0.8, temperature * 1.25):
        assert fitted_loss < _log_loss(raw.with_temperature(other), fit_texts, fit_labels)
    check_texts, check_labels = [texts[i] for i in check], [labels[i] for i in check]
    assert _log_loss(calibrated, check_texts, check_labels) < (
        _log_loss(raw, check_texts, check_labels) / 2
    )


def test_calibrate_needs_some_usable_examples(base_model):
    with pytest.raises(ValueError, match="no labelled text"):
        base_model.calibrate(["1887", ""], ["eng", "eng"])


# -- files --------------------------------------------------------------------------------------


def test_save_and_load_round_trip(base_model, ancient_greek_titles, tmp_path):
    model = base_model.fit_incremental(*ancient_greek_titles).with_temperature(1.7)
    path = tmp_path / "model.npz"
    checksum = model.save(path)
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = LanguageIdentifier.load(path, checksum=checksum)
    assert loaded.classes_ == model.classes_
    texts = ["Πλάτωνος Κρατύλος", "Suomen kansan historia", "The history of Rome"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), rtol=1e-6)
    assert loaded.params() == json.loads(json.dumps(model.params()))
    assert loaded.params()["temperature"] == 1.7
    # Same model, same bytes: the checksum identifies the content.
    assert model.save(tmp_path / "again.npz") == checksum
    assert not list(tmp_path.glob("*.tmp"))


def test_fractional_counts_are_stored_exactly_enough(base_model, tmp_path):
    # A build's counts are whole numbers, stored as integers; a catalogue's examples may carry
    # any weight, and then the counts are stored as float32, as format 2 stored every count.
    texts = ["Geschichte der Stadt Wien", "Histoire de la ville de Lyon"]
    model = base_model.fit_incremental(texts, ["deu", "fra"], weight=0.37)
    assert not np.all(model._counts.data == np.round(model._counts.data))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = LanguageIdentifier.load(path)
    # assert_allclose's test (|stored - fitted| <= rtol * |fitted| for every count) on the sparse
    # matrices themselves: their dense forms (501 x 394,822) took 23 s of CPU to compare.
    assert loaded._counts.shape == model._counts.shape
    excess = abs(loaded._counts - model._counts) - abs(model._counts) * 1e-7
    assert not (excess.data > 0).any()
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), rtol=1e-5)


def _write_format_2(path, model: LanguageIdentifier, long_keys: np.ndarray, counts) -> None:
    """A format 2 file as issue 8's code wrote it: 64-bit keys, counts by profile as float32."""
    counts = sparse.csr_matrix(counts)
    counts.sort_indices()
    header = {"hyper": dataclasses.asdict(model.hyper), "info": model.info}
    np.savez(
        path,
        format_version=np.array(2, dtype=np.int64),
        params=np.array(json.dumps(header)),
        classes=np.array(model.classes_, dtype=str),
        vocab_keys=long_keys,
        counts_data=counts.data.astype(np.float32),
        counts_indices=artefact._delta_encode(counts.indices, counts.indptr),
        counts_indptr=counts.indptr.astype(np.int64),
        totals=model._totals,
        docs=model._docs,
    )


def test_a_format_2_file_is_read_with_its_keys_cut_to_40_bits(tatoeba_sentences, tmp_path):
    texts, labels = tatoeba_sentences
    model = LanguageIdentifier.from_examples(texts, labels)
    # Format 2 kept all 64 bits of each hash; the top 40 are today's keys.
    low = np.random.default_rng(3).integers(0, 2**23, len(model._keys), dtype=np.int64)
    long_keys = model._keys | (low.astype(np.uint64) << np.uint64(1))
    path = tmp_path / "format2.npz"
    _write_format_2(path, model, long_keys, model._counts)
    loaded = LanguageIdentifier.load(path)
    assert loaded._keys.tobytes() == model._keys.tobytes()
    assert (loaded._counts != model._counts).nnz == 0
    assert np.array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    # Two 64-bit keys with the same top 40 bits are one n-gram now: their counts add up.
    merged = long_keys.copy()
    merged[1] = merged[0] | np.uint64(1 << 20)
    _write_format_2(path, model, merged, model._counts)
    loaded = LanguageIdentifier.load(path)
    assert len(loaded._keys) == len(model._keys) - 1
    dense = model._counts[:, :2].toarray().sum(axis=1)
    np.testing.assert_array_equal(loaded._counts[:, 0].toarray().ravel(), dense)


def test_a_missing_file_is_an_artefact_error(tmp_path):
    with pytest.raises(ArtefactError, match="missing"):
        LanguageIdentifier.load(tmp_path / "absent.npz")


def test_a_corrupt_file_is_an_artefact_error(base_model, tmp_path):
    path = tmp_path / "model.npz"
    base_model.save(path)
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    with pytest.raises(ArtefactError, match="corrupt") as caught:
        LanguageIdentifier.load(path)
    assert str(path) in str(caught.value)
    path.write_bytes(b"not a model at all")
    with pytest.raises(ArtefactError, match="corrupt"):
        LanguageIdentifier.load(path)


def test_a_wrong_checksum_is_an_artefact_error(base_model, tmp_path):
    path = tmp_path / "model.npz"
    base_model.save(path)
    with pytest.raises(ArtefactError, match="checksum"):
        LanguageIdentifier.load(path, checksum="0" * 64)


def _rewrite_member(path, name: str, array: np.ndarray, *, allow_pickle: bool = False) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    members[f"{name}.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for filename, data in members.items():
            archive.writestr(filename, data)


def test_another_format_version_is_an_artefact_error(base_model, tmp_path):
    path = tmp_path / "model.npz"
    base_model.save(path)
    _rewrite_member(path, "format_version", np.array(LanguageIdentifier.FORMAT_VERSION + 1))
    with pytest.raises(
        ArtefactError, match=f"format version {LanguageIdentifier.FORMAT_VERSION + 1}"
    ):
        LanguageIdentifier.load(path)


def test_a_pickled_member_is_refused(base_model, tmp_path):
    path = tmp_path / "model.npz"
    base_model.save(path)
    _rewrite_member(
        path, "classes", np.array([{"evil": "object"}], dtype=object), allow_pickle=True
    )
    with pytest.raises(ArtefactError, match="corrupt"):
        LanguageIdentifier.load(path)


def test_base_refuses_profiles_that_fail_their_checksum(tmp_path, monkeypatch):
    checksum_file = tmp_path / "langid_profiles.npz.sha256"
    checksum_file.write_text("f" * 64 + "  langid_profiles.npz\n")
    monkeypatch.setattr(artefact, "BASE_MODEL_CHECKSUM_PATH", checksum_file)
    with pytest.raises(ArtefactError, match="checksum"):
        LanguageIdentifier.base()


def test_the_shipped_checksum_matches_the_shipped_profiles():
    expected = artefact.BASE_MODEL_CHECKSUM_PATH.read_text().split()[0]
    assert hashlib.sha256(artefact.BASE_MODEL_PATH.read_bytes()).hexdigest() == expected
