"""The simulated review's random order is fixed by the file, not by database ids."""

from __future__ import annotations

import pytest

from catalogue.models import Prediction
from catalogue.simulation import _next_batch, random_rank
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory

IDENTIFIERS = [f"sim-{i:06d}" for i in range(12)]


def queued_in(collection_slug: str, identifiers: list[str]) -> list[str]:
    """Queue a prediction for each identifier, records created in the given order, and return
    the identifiers in the order random order answers them."""
    collection = CollectionFactory(slug=collection_slug)
    for identifier in identifiers:
        PredictionFactory(record=RecordFactory(collection=collection, identifier=identifier))
    waiting = Prediction.objects.filter(
        record__collection=collection, status=Prediction.Status.QUEUED
    )
    return [p.record.identifier for p in _next_batch(waiting, "random", len(identifiers))]


@pytest.mark.django_db
def test_random_order_is_the_same_whatever_ids_the_records_got():
    # A rolled-back run leaves PostgreSQL's id sequences where they were, so a second run in
    # the same database gives the same rows other ids; and a database used before starts
    # elsewhere. The order must come from the rows themselves.
    first = queued_in("first", IDENTIFIERS)
    again = queued_in("again", list(reversed(IDENTIFIERS)))  # other ids, other id order
    assert first == again
    assert first == sorted(IDENTIFIERS, key=random_rank)
    assert first != IDENTIFIERS  # a shuffle, not the order of the file
