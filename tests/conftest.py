from __future__ import annotations

import pytest

from tests.factories import AdminFactory, CataloguerFactory, UserFactory, language_field


@pytest.fixture
def field(db):
    """The language field with its default policy and vocabulary."""
    return language_field()


@pytest.fixture
def cataloguer(db):
    return CataloguerFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def visitor(db):
    """A logged-in user who is neither cataloguer nor admin."""
    return UserFactory()
