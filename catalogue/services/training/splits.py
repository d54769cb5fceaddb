"""The frozen held-out split of a field: every version is measured on the same records."""

from __future__ import annotations

from dataclasses import dataclass

from catalogue.models import Field, FieldValue, SplitAssignment
from glamml.ml.examples import Example
from glamml.ml.hashing import stable_fraction

TEST_SHARE = 0.2
TRAIN = "train"
TEST = "test"
# Split rows written per statement.
INSERT_BATCH = 5000


def split_fraction(*, field: Field, record_id: int) -> float:
    """Where a record falls in [0, 1) for this field's split: the same on every machine."""
    return stable_fraction(f"split:{field.key}:{record_id}")


def split_assign(*, field: Field, examples: list[Example[int]]) -> dict[int, str]:
    """The frozen split side of every example, assigning sides to records seen the first time.

    The first time a field is trained, the held-out side is a stratified share of everything
    labelled. After that only new human decisions can join the held-out side, so every version
    is compared on the same records and the held-out set grows only with people's answers.
    """
    sides = dict(SplitAssignment.objects.filter(field=field).values_list("record_id", "side"))
    new = [e for e in examples if e.key not in sides]
    if not new:
        return sides
    first_time = not sides
    by_label: dict[str, list[Example[int]]] = {}
    for e in new:
        by_label.setdefault(e.label, []).append(e)
    assigned: dict[int, str] = {}
    for items in by_label.values():
        ranked = sorted(items, key=lambda e: split_fraction(field=field, record_id=e.key))
        if first_time:
            n_test = int(len(ranked) * TEST_SHARE) if len(ranked) >= 2 else 0
            for i, e in enumerate(ranked):
                assigned[e.key] = TEST if i < n_test else TRAIN
        else:
            for e in ranked:
                human = e.source == FieldValue.Source.HUMAN
                fraction = split_fraction(field=field, record_id=e.key)
                assigned[e.key] = TEST if human and fraction < TEST_SHARE else TRAIN
    # A batch of rows at a time: 100,000 model objects in one statement cost 80 MB.
    pairs = list(assigned.items())
    for start in range(0, len(pairs), INSERT_BATCH):
        SplitAssignment.objects.bulk_create(
            [
                SplitAssignment(field=field, record_id=rid, side=side)
                for rid, side in pairs[start : start + INSERT_BATCH]
            ],
            ignore_conflicts=True,
        )
    sides.update(assigned)
    return sides


@dataclass(frozen=True)
class Sides:
    """A field's examples on the training side and on the held-out side."""

    train: list[Example[int]]
    test: list[Example[int]]


def split_sides(*, examples: list[Example[int]], sides: dict[int, str]) -> Sides:
    return Sides(
        train=[e for e in examples if sides.get(e.key) == TRAIN],
        test=[e for e in examples if sides.get(e.key) == TEST],
    )
