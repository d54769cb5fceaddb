from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from glamml.ml.corpora import TEST_FRACTION, split_side
from glamml.ml.hashing import stable_fraction
from glamml.ml.splits import frozen_split, stratified_folds, stratified_split

# -- the frozen split (a field's held-out records) ---------------------------------------------


def labelled_keys(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    keys = [f"rec-{seed}-{i}" for i in range(n)]
    labels = [rng.choice(["a", "a", "a", "b", "b", "c"]) for _ in keys]
    return keys, labels


def test_the_frozen_split_is_stratified():
    keys, labels = labelled_keys(3000, seed=1)
    held = frozen_split(keys, labels, test_size=0.2)
    for label in "abc":
        members = [k for k, lab in zip(keys, labels, strict=True) if lab == label]
        share = sum(k in held for k in members) / len(members)
        assert 0.16 <= share <= 0.24


def test_adding_examples_never_moves_existing_keys():
    keys, labels = labelled_keys(500, seed=2)
    before = frozen_split(keys, labels)
    more_keys, more_labels = labelled_keys(300, seed=3)
    after = frozen_split(keys + more_keys, labels + more_labels)
    assert {k for k in keys if k in after} == before
    # ...whatever order they come in.
    shuffled = list(zip(keys + more_keys, labels + more_labels, strict=True))
    random.Random(0).shuffle(shuffled)
    assert frozen_split([k for k, _ in shuffled], [lab for _, lab in shuffled]) == after


def test_the_frozen_split_depends_on_the_seed():
    keys, labels = labelled_keys(200, seed=4)
    assert frozen_split(keys, labels, seed=0) != frozen_split(keys, labels, seed=1)
    assert frozen_split(keys, labels, seed=5) == frozen_split(keys, labels, seed=5)


def test_a_label_keeps_something_to_learn_from():
    # A single example stays in train; a label is never held out entirely.
    for n in range(1, 40):
        keys = [f"k{n}-{i}" for i in range(3)]
        held = frozen_split(keys, ["only", "pair", "pair"], test_size=0.9, seed=n)
        assert f"k{n}-0" not in held
        assert len({f"k{n}-1", f"k{n}-2"} & held) <= 1


def test_the_frozen_split_refuses_bad_input():
    with pytest.raises(ValueError, match="unique"):
        frozen_split(["a", "a"], ["x", "y"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        frozen_split(["a"], ["x"], test_size=1.0)
    with pytest.raises(ValueError, match="2 keys but 1 labels"):
        frozen_split(["a", "b"], ["x"])


def test_a_key_is_held_out_when_its_stable_hash_falls_below_the_share():
    keys, labels = labelled_keys(300, seed=6)
    held = frozen_split(keys, labels, test_size=0.3, seed=7)
    # Every label here has many examples, some above the share: no exception applies.
    assert held == {k for k in keys if stable_fraction(f"7:{k}") < 0.3}


# -- a seeded stratified split of one batch ----------------------------------------------------


def test_stratified_split_keeps_singletons_in_train_and_every_other_label_in_both():
    labels = ["eng"] * 10 + ["fin"] * 5 + ["swe"] * 2 + ["lat"]
    train, test = stratified_split(labels, test_size=0.2, seed=0)
    assert sorted(train + test) == list(range(len(labels)))
    assert not set(train) & set(test)
    test_labels = [labels[i] for i in test]
    assert test_labels.count("eng") == 2
    assert test_labels.count("fin") == 1
    assert test_labels.count("swe") == 1
    assert "lat" not in test_labels
    assert stratified_split(labels, test_size=0.2, seed=0) == (train, test)
    assert stratified_split(labels, test_size=0.2, seed=1) != (train, test)


def test_a_stratified_split_holds_out_a_label_with_two_examples_even_when_small():
    labels = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"]
    train, test = stratified_split(labels, test_size=0.2, seed=0)
    assert sorted(labels[i] for i in test) == ["a", "b", "c", "d", "e"]
    assert sorted(labels[i] for i in train) == ["a", "b", "c", "d", "e"]


# -- cross-fitting folds -----------------------------------------------------------------------


def test_folds_spread_each_label_evenly_and_cover_every_example():
    labels = ["eng"] * 23 + ["fin"] * 11 + ["swe"] * 5 + ["lat"] * 2 + ["grc"]
    fold = stratified_folds(labels, n_folds=5, seed=0)
    assert sorted(set(fold.tolist())) == [0, 1, 2, 3, 4]
    for label, n in Counter(labels).items():
        per_fold = Counter(f for f, lab in zip(fold, labels, strict=True) if lab == label)
        # As even as the count allows: no fold has two more of a label than another.
        counts = [per_fold.get(k, 0) for k in range(5)]
        assert max(counts) - min(counts) <= 1, (label, counts)
        assert sum(counts) == n


def test_folds_are_reproducible_for_a_seed_and_differ_between_seeds():
    labels = ["a"] * 20 + ["b"] * 20
    first = stratified_folds(labels, n_folds=5, seed=3)
    assert np.array_equal(first, stratified_folds(labels, n_folds=5, seed=3))
    assert not np.array_equal(first, stratified_folds(labels, n_folds=5, seed=4))


def test_folds_cope_with_fewer_examples_than_folds():
    # Every label smaller than the number of folds: plain shuffled folds, each used.
    fold = stratified_folds(["a", "a", "b", "c"], n_folds=5, seed=0)
    assert sorted(fold.tolist()) == [0, 1, 2, 3]
    assert stratified_folds(["a"], n_folds=5, seed=0).tolist() == [0]
    assert stratified_folds([], n_folds=5, seed=0).tolist() == []
    with pytest.raises(ValueError, match="at least 2"):
        stratified_folds(["a", "b"], n_folds=1, seed=0)


# -- the shipped data sets, split by source ----------------------------------------------------


def test_a_corpus_record_is_held_out_by_the_hash_of_its_source_and_key():
    assert split_side("bl", "0") == ("test" if stable_fraction("bl:0") < 0.3 else "train")
    sides = [split_side("tatoeba", str(i)) for i in range(4000)]
    share = sides.count("test") / len(sides)
    assert abs(share - TEST_FRACTION["tatoeba"]) < 0.02
    # The same record is on the same side whatever else is read.
    assert [split_side("tatoeba", str(i)) for i in range(10)] == sides[:10]
