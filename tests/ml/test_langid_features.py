"""The hashed n-gram featuriser, its lookup table and the calibration it feeds."""

from __future__ import annotations

import numpy as np
import pytest

from glamml.ml.calibration import fit_scaling, negative_log_likelihood, with_lapse
from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid.features import KeyTable, char_ngrams, ngram_key, ngram_keys, word_key
from glamml.ml.text import clean_text
from glamml.ml.training import load_eval_sample


def test_hashed_ngrams_are_the_spelled_out_ngrams_and_words_of_each_text():
    texts = [clean_text(t) for t in ("Histoire de France", "L'homme à la mer", "a", "Ελλάς")]
    keys, owner = ngram_keys(texts, 1, 4, words=True)
    for index, text in enumerate(texts):
        expected = [ngram_key(gram) for gram in char_ngrams(text, 1, 4)]
        expected += [word_key(word) for word in text.split(" ")]
        assert sorted(keys[owner == index].tolist()) == sorted(expected)


def test_words_of_every_length_in_one_batch_get_their_own_keys():
    # Hashed longest first, a prefix of the words per letter: long and short words must not mix.
    words = ["a", "ab", "x" * 23, "y" * 24, "z" * 25 + "q", "historiallinen" * 3, "de"]
    keys, owner = ngram_keys([" ".join(words), "ab de"], 1, 1, words=True)
    word_keys = set(keys.tolist()) - {ngram_key(char) for char in "".join(words)}
    assert word_keys == {word_key(word) for word in words}
    assert word_key("z" * 25) != word_key("z" * 26)  # the length counts beyond the prefix


def test_ngrams_never_cross_words_or_texts():
    keys, _ = ngram_keys(["ab", "cd"], 2, 4)
    # "b c" would only exist if texts ran into each other; " ab " is the whole padded word.
    assert ngram_key("b c") not in keys.tolist() and ngram_key("b  c") not in keys.tolist()
    assert ngram_key(" ab ") in keys.tolist()


def test_a_word_and_an_ngram_with_the_same_letters_have_different_keys():
    assert word_key("de") != ngram_key("de") and word_key("de") != ngram_key(" de ")


def test_an_empty_batch_has_no_keys():
    keys, owner = ngram_keys([], 1, 4, words=True)
    assert len(keys) == 0 and len(owner) == 0


def test_the_lookup_table_finds_every_key_and_nothing_else():
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(1, 2**63, 50_000, dtype=np.int64).astype(np.uint64))
    table = KeyTable(keys)
    found = table.lookup(keys[::7])
    assert (found == np.arange(0, len(keys), 7)).all()
    strangers = np.setdiff1d(rng.integers(1, 2**63, 1000, dtype=np.int64).astype(np.uint64), keys)
    assert (table.lookup(strangers) == -1).all()


def test_the_lookup_table_returns_the_values_it_was_given():
    keys = np.array([3, 17, 2**40 + 1, 2**63 + 5], dtype=np.uint64)
    table = KeyTable(keys, values=np.array([9, 4, 7, 0]))
    assert table.lookup(keys[::-1]).tolist() == [0, 7, 4, 9]
    assert table.lookup(np.array([5], dtype=np.uint64)).tolist() == [-1]
    assert KeyTable(keys[:0]).lookup(keys).tolist() == [-1] * 4


def test_scoring_in_chunks_gives_the_same_answers_as_one_by_one(base_model, catalogue_titles):
    texts, _ = catalogue_titles
    together = base_model.predict_proba(texts)
    alone = np.vstack([base_model.predict_proba([text]) for text in texts[:10]])
    # Exactly: each text's float32 sums run in the same order whatever the batch around it.
    assert np.array_equal(together[:10], alone)


def test_undetermined_texts_leave_the_other_rows_of_a_batch_alone(base_model):
    texts = ["Histoire de France", "Storia di Roma"]
    mixed = base_model.predict_proba([texts[0], "1234", texts[1], ""])
    assert np.array_equal(mixed[[0, 2]], base_model.predict_proba(texts))
    assert np.allclose(mixed[[1, 3]], 1 / len(base_model.labels_))


def test_whole_words_make_a_short_german_title_german(base_model):
    [(label, _)] = base_model.predict(["Lose Blätter aus dem Orient"])
    assert label == "deu"


def test_the_lapse_caps_confidence_and_keeps_the_order():
    proba = np.array([[0.999999, 0.000001, 0.0], [0.2, 0.5, 0.3]])
    mixed = with_lapse(proba, 0.03)
    assert np.allclose(mixed.sum(axis=1), 1.0)
    assert mixed.max() <= 1 - 0.03 + 0.03 / 3 + 1e-12
    assert (np.argsort(mixed, axis=1) == np.argsort(proba, axis=1)).all()
    assert with_lapse(proba, 0.0) is proba


def test_no_confidence_of_the_shipped_model_is_quite_certain(base_model, catalogue_titles):
    texts, _ = catalogue_titles
    assert base_model.hyper.lapse > 0
    assert max(conf for _, conf in base_model.predict(texts)) < 1.0


def _parts(model: LanguageIdentifier):
    texts, labels = load_eval_sample()
    return [model.calibration_scores(texts, labels)]


def test_fit_scaling_lowers_the_log_loss_of_plain_naive_bayes(base_model):
    parts = _parts(base_model)
    temperature, exponent, prior, lapse = fit_scaling(parts, start=(1.0, 0.0, 1.0))
    assert 0.0 <= exponent <= 1.5 and 0.0 <= prior <= 3.0 and 0.0 <= lapse <= 0.1
    fitted = negative_log_likelihood(
        parts,
        temperature=temperature,
        prior_weight=prior,
        length_exponent=exponent,
        lapse=lapse,
    )
    plain = negative_log_likelihood(parts, temperature=1.0, prior_weight=1.0, length_exponent=0.0)
    assert fitted < plain / 2


def test_fit_scaling_needs_one_weight_per_part_and_some_examples(base_model):
    parts = _parts(base_model)
    with pytest.raises(ValueError, match="one weight per part"):
        fit_scaling(parts, part_weights=[1.0, 2.0])
    scores, targets = parts[0]
    with pytest.raises(ValueError, match="no examples"):
        fit_scaling([(scores, targets[:0])])


def test_save_and_load_keep_the_scoring_settings(base_model, tmp_path):
    path = tmp_path / "model.npz"
    checksum = base_model.save(path)
    loaded = LanguageIdentifier.load(path, checksum=checksum)
    assert loaded.hyper == base_model.hyper
    assert loaded.params()["word_features"] is True
    texts = ["Lose Blätter aus dem Orient", "Suomen kansan historia", "Brenda [A novel.]"]
    assert np.allclose(loaded.predict_proba(texts), base_model.predict_proba(texts))
