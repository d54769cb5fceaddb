from __future__ import annotations

import pytest

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
