from __future__ import annotations

import pytest

from catalogue.services.tokens import token_create


def bearer(user) -> dict[str, str]:
    """Request headers that sign in as ``user`` with a fresh API token."""
    _, raw = token_create(user=user, name="test system", created_by=None)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def as_cataloguer(cataloguer):
    return bearer(cataloguer)


@pytest.fixture
def as_visitor(visitor):
    return bearer(visitor)
