"""Stable pseudo-random numbers from keys: splits, folds and audit samples that never move."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def stable_fraction(key: str) -> float:
    """A number in [0, 1) that depends only on ``key``: the same on every machine and run.

    Callers put everything the number should depend on into the key (a source, a salt, a
    field, a record id), so that adding records never moves an old one.
    """
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def stable_fractions(keys: Iterable[str]) -> np.ndarray:
    """:func:`stable_fraction` of each key, bit for bit, as one array.

    The digests' first 8 bytes are read as one array of unsigned integers: a uint64 becomes the
    float64 nearest to it, as ``int / 2**64`` rounds, and dividing by a power of two is exact.
    """
    sha256 = hashlib.sha256
    heads = b"".join([sha256(key.encode()).digest()[:8] for key in keys])
    return np.frombuffer(heads, dtype=">u8").astype(np.float64) / 2**64
