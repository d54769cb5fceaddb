from __future__ import annotations

import pytest

from catalogue.services.training.runs import EVEN_IF_UNCHANGED
from tests.conftest import train
from tests.factories import LabelFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def labels(field):
    """French, Italian, Spanish and German in the language field's vocabulary."""
    names = {"fra": "French", "ita": "Italian", "spa": "Spanish", "deu": "German"}
    return {code: LabelFactory(field=field, code=code, name=name) for code, name in names.items()}


@pytest.fixture
def cataloguer_client(client, cataloguer):
    client.force_login(cataloguer)
    return client


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def visitor_client(client, visitor):
    client.force_login(visitor)
    return client


@pytest.fixture
def trained_genre(genre, genre_records):
    """Two real versions of the genre field: v1 active, v2 trained on the same data."""
    genre.labels.filter(code="Fiction").update(rules=r"\bnovel\b\n\btale\b")
    first = train(genre)
    assert first.status == "succeeded", first.message
    second = train(genre, params={EVEN_IF_UNCHANGED: True})
    assert second.status == "succeeded", second.message
    return genre
