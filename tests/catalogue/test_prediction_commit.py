"""With ``GLAMML_PREDICTIONS_ASYNC_COMMIT`` a prediction batch's own transaction commits without
waiting for the disk; a transaction a caller opened (which may hold a person's decision) and
every later transaction of the connection still wait."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from catalogue.models import Prediction
from catalogue.services import predictions
from catalogue.services.predictions import predictions_create
from tests.factories import CollectionFactory, RecordFactory

TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
]


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def _batch_setting(monkeypatch, field) -> list[str]:
    """Predict a small batch; the ``synchronous_commit`` its storing transaction ran with."""
    seen: list[str] = []
    store = predictions._store

    def spy(*args, **kwargs):
        seen.append(_synchronous_commit())
        return store(*args, **kwargs)

    monkeypatch.setattr(predictions, "_store", spy)
    collection = CollectionFactory()
    ids = [RecordFactory(collection=collection, title=t).id for t in TITLES]
    assert predictions_create(field=field, record_ids=ids).created == len(ids)
    return seen


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("on", [True, False])
def test_a_batch_of_its_own_commits_without_waiting_for_the_disk_only_when_asked(
    field, active_model, settings, monkeypatch, on
):
    settings.GLAMML_PREDICTIONS_ASYNC_COMMIT = on
    assert _batch_setting(monkeypatch, field) == ["off" if on else "on"]
    assert _synchronous_commit() == "on"  # the connection's next transactions wait again
    assert Prediction.objects.count() == len(TITLES)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_inside_a_callers_transaction_leaves_its_commit_waiting(
    field, active_model, settings, monkeypatch
):
    settings.GLAMML_PREDICTIONS_ASYNC_COMMIT = True
    with transaction.atomic():
        assert _batch_setting(monkeypatch, field) == ["on"]
        assert _synchronous_commit() == "on"
    assert Prediction.objects.count() == len(TITLES)
