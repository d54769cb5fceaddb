"""The labelled example: one text and its label, as training and evaluation read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Example"]

KeyT = TypeVar("KeyT", str, int)


@dataclass(frozen=True)
class Example(Generic[KeyT]):
    """A labelled text from a data set (``Example[str]``) or a catalogue record (``Example[int]``).

    ``key`` identifies the record within its source (an identifier in a data set, a record's
    database id in the app), so splits decided by a hash of it never move. ``source`` says where
    the example comes from: a data set (``"bl"``, ``"udhr"``) or a value's provenance
    (``"import"``, ``"human"``). ``split`` is ``"train"`` or ``"test"`` where the source fixes
    it, and empty otherwise.
    """

    text: str
    label: str
    key: KeyT
    source: str = ""
    split: str = ""
    extra: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
