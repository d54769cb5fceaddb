"""Adding examples to a trained model's counts: the fast merge must equal a full re-sort."""

import numpy as np
import pytest

from glamml.ml.langid import profiles as profiles_module
from glamml.ml.langid.profiles import UsableExamples


def _train(base_model, texts, labels, weights, monkeypatch, merge):
    monkeypatch.setattr(profiles_module, "_merged", merge)
    examples = UsableExamples(base_model.classes_)
    for text, label, weight in zip(texts, labels, weights, strict=True):
        examples.add(text, label, weight, None)
    hyper = base_model.hyper
    return base_model._profiles().with_examples(
        examples, ngram_min=hyper.ngram_min, ngram_max=hyper.ngram_max, words=hyper.word_features
    )


@pytest.mark.parametrize("n_texts", [1, 40])
def test_added_examples_give_the_same_counts_bit_for_bit_as_sorting_everything(
    base_model, monkeypatch, n_texts
):
    # Irregular weights and several chunks: each count is a sum of several floats, so only the
    # same order of additions gives the same bytes. One label is new to the model.
    monkeypatch.setattr(profiles_module, "_COUNT_CHUNK", 7)
    rng = np.random.default_rng(7)
    phrases = ["Geschichte der Stadt", "histoire de la ville", "the history of", "ιστορία"]
    texts = [f"{phrases[i % 4]} {phrases[(i * 3) % 4]} nr {i} qxzw" for i in range(n_texts)]
    labels = [["tlh", "deu", "fra", "eng"][i % 4] for i in range(n_texts)]
    weights = list(rng.uniform(0.1, 3.3, n_texts))
    fast = _train(base_model, texts, labels, weights, monkeypatch, profiles_module._merged)
    slow = _train(
        base_model, texts, labels, weights, monkeypatch, profiles_module._merged_by_sorting
    )
    assert fast.classes == slow.classes and "tlh" in fast.classes
    assert fast.keys.tobytes() == slow.keys.tobytes()
    assert fast.counts.shape == slow.counts.shape
    assert np.array_equal(fast.counts.indptr, slow.counts.indptr)
    assert np.array_equal(fast.counts.indices, slow.counts.indices)
    assert fast.counts.data.tobytes() == slow.counts.data.tobytes()
    assert fast.counts.nnz > base_model._profiles().counts.nnz  # new n-grams were slotted in
