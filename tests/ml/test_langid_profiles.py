"""Adding examples to a trained model's counts: the fast merge must equal a full re-sort."""

import numpy as np
import pytest
from scipy import sparse

from glamml.ml.langid import profiles as profiles_module
from glamml.ml.langid.profiles import Profiles, UsableExamples


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


def test_pruning_drops_rare_counts_and_the_ngrams_no_profile_keeps():
    counts = sparse.csr_matrix(np.array([[1.0, 1.0, 5.0, 0.0], [0.0, 2.0, 1.0, 1.0]]))
    profiles = Profiles(
        classes=["deu", "fra"],
        keys=np.array([3, 5, 7, 9], dtype=np.uint64),
        counts=counts,
        totals=np.array([10.0, 8.0]),
        docs=np.array([1.0, 2.0]),
    )
    everywhere = profiles.pruned(2.0)
    assert everywhere.keys.tolist() == [5, 7]  # 3 and 9 had only counts of 1
    assert everywhere.counts.toarray().tolist() == [[0.0, 5.0], [2.0, 0.0]]
    assert everywhere.totals.tolist() == [10.0, 8.0] and everywhere.docs.tolist() == [1.0, 2.0]
    # Only n-grams of one profile: key 5's 1 stays (fra has it too), so does 7's.
    unshared = profiles.pruned(2.0, unshared_only=True)
    assert unshared.keys.tolist() == [5, 7]
    assert unshared.counts.toarray().tolist() == [[1.0, 5.0], [2.0, 1.0]]
