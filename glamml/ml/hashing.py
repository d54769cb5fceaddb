"""Stable pseudo-random numbers from keys: splits, folds and audit samples that never move."""

from __future__ import annotations

import hashlib


def stable_fraction(key: str) -> float:
    """A number in [0, 1) that depends only on ``key``: the same on every machine and run.

    Callers put everything the number should depend on into the key (a source, a salt, a
    field, a record id), so that adding records never moves an old one.
    """
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
