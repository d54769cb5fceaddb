"""Text features of the language identifier: hashed character n-grams and words, key tables.

A feature is kept as a 40-bit hash of its code points (a polynomial hash and splitmix64's
finaliser, its top 40 bits), extracted for a whole batch with array arithmetic: this is where
prediction time goes. :class:`KeyTable` maps keys to vocabulary columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "KEY_BITS",
    "KEY_SHIFT",
    "KeyTable",
    "char_ngrams",
    "ngram_key",
    "ngram_keys",
    "short_keys",
    "word_key",
]


def char_ngrams(cleaned: str, ngram_min: int, ngram_max: int) -> list[str]:
    """Character n-grams of a cleaned text, words padded with a space on each side.

    Unigrams are the letters alone (a lone space says nothing about the language). The model
    works on their hashes (:func:`ngram_keys`); this spelled-out form is for inspection.
    """
    grams: list[str] = []
    for word in cleaned.split(" "):
        if not word:
            continue
        padded = f" {word} "
        size = len(padded)
        for n in range(max(ngram_min, 1), ngram_max + 1):
            if n == 1:
                grams.extend(word)
            else:
                grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_ONE = np.uint64(1)
# A key is the top KEY_BITS bits of the 64-bit hash, kept in place (the low bits are 0 but the
# lowest, which is 1: 0 marks an empty slot in the lookup table). 40 bits rather than 64 make
# the stored vocabulary half the size; among 700,000 kept n-grams an n-gram the model never saw
# matches one of them by chance once in 1.6 million (see docs/langid.md, "File").
KEY_BITS = 40
KEY_SHIFT = 64 - KEY_BITS
_KEEP = np.uint64(((1 << KEY_BITS) - 1) << KEY_SHIFT)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the key depends on every code point of the n-gram."""
    h = h ^ (h >> np.uint64(30))
    h = h * _MIX_1
    h = h ^ (h >> np.uint64(27))
    h = h * _MIX_2
    h = h ^ (h >> np.uint64(31))
    return short_keys(h)


def short_keys(h: np.ndarray) -> np.ndarray:
    """The stored form of 64-bit hashes (also of a format 2 file's keys): their top
    :data:`KEY_BITS` bits in place, the lowest bit set."""
    return (h & _KEEP) | _ONE


def ngram_keys(
    cleaned: Sequence[str], ngram_min: int, ngram_max: int, *, words: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Keys of the n-grams :func:`char_ngrams` spells out, for a batch of cleaned texts.

    Returns ``(keys, text_index)``, one entry per n-gram occurrence. Done with array arithmetic
    over the whole batch rather than a Python loop per n-gram: this is where prediction time
    goes. The texts are joined as `` text1 <NUL> text2 ...``; an n-gram is a window that crosses
    no text boundary and holds no space except at its ends (so it stays inside one padded word).
    """
    if not cleaned:
        empty = np.zeros(0, dtype=np.uint64)
        return empty, np.zeros(0, dtype=np.int64)
    joined = "\0".join([f" {text} " for text in cleaned])
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.array([len(text) for text in cleaned], dtype=np.int64) + 3
    text_of = np.repeat(np.arange(len(cleaned), dtype=np.int64), lengths)[: len(points)]
    boundary = points == 0
    space = points == 32
    boundaries = np.concatenate([[0], np.cumsum(boundary)])
    spaces = np.concatenate([[0], np.cumsum(space)])
    size = len(points)
    keys: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for n in range(max(ngram_min, 1), ngram_max + 1):
        windows = size - n + 1
        if windows <= 0:
            break
        if n == 1:
            inside = np.flatnonzero(~(boundary | space))
        else:
            # Window i spans points[i : i + n]; shifted slices compare all windows at once.
            inside = np.flatnonzero(
                (boundaries[n : n + windows] == boundaries[:windows])
                & (spaces[n - 1 : n - 1 + windows] == spaces[1 : 1 + windows])
            )
        h = np.full(len(inside), np.uint64(n))
        for k in range(n):
            h = h * _MULTIPLIER + points[inside + k]
        keys.append(_mix(h))
        owners.append(text_of[inside])
    if words:
        key, owner = _word_keys(points, boundary | space, text_of)
        keys.append(key)
        owners.append(owner)
    return np.concatenate(keys), np.concatenate(owners)


# Whole words are hashed on their first letters (and their full length); longer words are rare
# and their n-grams say enough.
_WORD_PREFIX = 24
_WORD_TAG = np.uint64(1 << 20)


def _word_keys(
    points: np.ndarray, gap: np.ndarray, text_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One key per word (a run between spaces), distinct from every n-gram key."""
    edges = np.diff(np.concatenate([[1], gap.view(np.int8), [1]]))
    starts = np.flatnonzero(edges == -1)
    lengths = np.flatnonzero(edges == 1) - starts
    # Longest words first: the words that still have a k-th letter are then a prefix, and each
    # round hashes only them.
    order = np.argsort(-lengths, kind="stable")
    starts_by_length, lengths_by_length = starts[order], lengths[order]
    longer_than = np.searchsorted(-lengths_by_length, -np.arange(_WORD_PREFIX), side="left")
    h = _WORD_TAG + lengths_by_length.astype(np.uint64)
    for k in range(min(_WORD_PREFIX, int(lengths.max(initial=0)))):
        m = longer_than[k]
        h[:m] = h[:m] * _MULTIPLIER + points[starts_by_length[:m] + k]
    keys = np.empty_like(h)
    keys[order] = h
    return _mix(keys), text_of[starts]


def word_key(word: str) -> int:
    """The key :func:`ngram_keys` gives a whole word."""
    h = np.full(1, _WORD_TAG + np.uint64(len(word)))
    for char in word[:_WORD_PREFIX]:
        h = h * _MULTIPLIER + np.uint64(ord(char))
    return int(_mix(h)[0])


def ngram_key(gram: str) -> int:
    """The key :func:`ngram_keys` gives one n-gram (a space marks a word boundary)."""
    h = np.full(1, np.uint64(len(gram)))
    for char in gram:
        h = h * _MULTIPLIER + np.uint64(ord(char))
    return int(_mix(h)[0])


class KeyTable:
    """Open-addressing hash table from n-gram key to vocabulary column, looked up in batches.

    A sorted-array search over half a million keys costs more than the rest of prediction
    together; one or two vectorised probes into a table four times the vocabulary do not.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray | None = None) -> None:
        """``values[i]`` is what ``keys[i]`` looks up (default: ``i``, its vocabulary column)."""
        values = np.arange(len(keys)) if values is None else np.asarray(values)
        bits = max(8, int(math.ceil(math.log2(max(len(keys), 1) * 4))))
        self._mask = np.uint64((1 << bits) - 1)
        self._shift = np.uint64(64 - bits)
        self._keys = np.zeros(1 << bits, dtype=np.uint64)
        self._values = np.full(1 << bits, -1, dtype=np.int32)
        pending = np.arange(len(keys))
        home = keys >> self._shift
        step = 0
        while len(pending):
            slots = (home[pending] + np.uint64(step)) & self._mask
            free = self._keys[slots] == 0
            candidates, slots = pending[free], slots[free]
            # One key per free slot this round; the rest probe on.
            _, first = np.unique(slots, return_index=True)
            self._keys[slots[first]] = keys[candidates[first]]
            self._values[slots[first]] = values[candidates[first]]
            placed = np.zeros(len(keys), dtype=bool)
            placed[candidates[first]] = True
            pending = pending[~placed[pending]]
            step += 1
        self.max_probe = step

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Value (column) of each key as int32, -1 for keys not in the table."""
        if not self.max_probe:
            return np.full(len(keys), -1, dtype=np.int32)
        # The first probe, over every key, settles nearly all of them: it is written without
        # the index bookkeeping of the later rounds, which only follow the few keys left.
        slots = keys >> self._shift
        found = self._keys[slots]
        miss = found != keys
        result: np.ndarray = self._values[slots]
        result[miss] = -1
        # Stop at a hit or an empty slot; probe on past other keys.
        pending = np.flatnonzero(miss & (found != 0))
        slots = (slots[pending] + _ONE) & self._mask
        for _ in range(self.max_probe - 1):
            if not len(pending):
                break
            found = self._keys[slots]
            hit = found == keys[pending]
            result[pending[hit]] = self._values[slots[hit]]
            again = ~hit & (found != 0)
            pending = pending[again]
            slots = (slots[again] + _ONE) & self._mask
        return result
