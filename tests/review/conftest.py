from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.factories import CollectionFactory, LabelFactory

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


GENRE_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "label-samples" / "bl-genre.csv"


@pytest.fixture
def genre(db):
    """A label field defined as an admin would: two labels, reading the title."""
    from catalogue.services.fields import field_create

    return field_create(
        key="genre",
        name="Genre",
        labels=[("Fiction", "Fiction"), ("Non-fiction", "Non-fiction")],
        text_source=["title"],
        metric="macro_f1",
    )


@pytest.fixture
def genre_records(genre, tmp_path):
    """300 real British Library records with their genre, imported as the catalogue's values."""
    from catalogue.services.imports import records_import

    with GENRE_SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:300]
    path = tmp_path / "genre.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["identifier", "title", "genre"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in ("identifier", "title", "genre")} for r in rows)
    collection = CollectionFactory(slug="bl", name="British Library")
    records_import(path=path, collection=collection, mapping={"genre": "genre"})
    return collection


def train(field, **kwargs):
    """One real training run, executed in-process (a few seconds)."""
    from catalogue.models import TrainingRun
    from catalogue.services.training import training_run_execute

    return training_run_execute(run=TrainingRun.objects.create(field=field, **kwargs))


@pytest.fixture
def trained_genre(genre, genre_records):
    """Two real versions of the genre field: v1 active, v2 trained on the same data."""
    genre.labels.filter(code="Fiction").update(rules=r"\bnovel\b\n\btale\b")
    first = train(genre)
    assert first.status == "succeeded", first.message
    second = train(genre)
    assert second.status == "succeeded", second.message
    return genre
