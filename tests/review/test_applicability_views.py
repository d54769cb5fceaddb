"""Who may mark an item "not applicable" and choose where a field applies, and what happens."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalogue.models import Field, FieldValue, Prediction
from review.views.applicability import MARKED
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory, UserFactory


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def waiting(field):
    return PredictionFactory(label="arn", record=RecordFactory(identifier="T01234"))


def mark_url(prediction):
    return reverse("review:not_applicable", args=[prediction.code])


def test_a_cataloguer_marks_an_item_not_applicable_from_the_queue(waiting, cataloguer):
    client = client_for(cataloguer)
    queue = client.get(reverse("review:queue"))
    assert mark_url(waiting) in queue.text

    response = client.post(
        mark_url(waiting), {"review_round": 0, "next": reverse("review:queue")}, follow=True
    )

    assert response.redirect_chain[-1] == (reverse("review:queue"), 302)
    assert MARKED.format(field="language", identifier="T01234") in response.text
    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.NOT_APPLICABLE
    assert FieldValue.objects.get(record=waiting.record).action == "not_applicable"
    assert "T01234" not in client.get(reverse("review:queue")).text


def test_the_item_page_offers_to_send_it_back(waiting, cataloguer):
    client = client_for(cataloguer)
    client.post(mark_url(waiting), {"review_round": 0})

    page = client.get(reverse("review:item", args=[waiting.code]))
    assert "Marked not applicable" in page.text

    client.post(reverse("review:not_applicable_undo", args=[waiting.code]))
    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_round) == (Prediction.Status.QUEUED, 1)


def test_a_stale_round_is_refused_with_a_message(waiting, cataloguer):
    response = client_for(cataloguer).post(mark_url(waiting), {"review_round": 3}, follow=True)

    assert "decided or changed after you opened it" in response.text
    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_only_cataloguers_may_mark_items(waiting, who):
    user = None if who == "anonymous" else UserFactory()

    response = client_for(user).post(mark_url(waiting), {"review_round": 0})

    assert response.status_code == (302 if user is None else 403)
    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED


def test_an_unknown_item_is_not_found(cataloguer, db):
    response = client_for(cataloguer).post(
        reverse("review:not_applicable", args=["00000000-0000-0000-0000-000000000000"]),
        {"review_round": 0},
    )
    assert response.status_code == 404


def test_get_is_not_allowed(waiting, cataloguer):
    assert client_for(cataloguer).get(mark_url(waiting)).status_code == 405


# -- where a field applies -----------------------------------------------------------------------


def collections_url(key="language"):
    return reverse("review:field_collections", args=[key])


def test_an_admin_chooses_the_collections_a_field_applies_to(field, admin_user):
    books = CollectionFactory(slug="books", name="Books")
    art = CollectionFactory(slug="art", name="Artworks")
    outside = PredictionFactory(record=RecordFactory(collection=art))
    client = client_for(admin_user)
    page = client.get(collections_url())
    assert page.status_code == 200
    assert 'type="checkbox" name="collections"' in page.text

    response = client.post(collections_url(), {"collections": [books.id]}, follow=True)

    assert response.redirect_chain[-1][0].endswith("#field-language")
    assert "Language now applies to Books. 1 suggestion(s) outside them" in response.text
    assert list(field.collections.all()) == [books]
    outside.refresh_from_db()
    assert outside.status == Prediction.Status.SUPERSEDED


@pytest.mark.parametrize("who", ["anonymous", "cataloguer"])
def test_only_admins_choose_where_a_field_applies(field, cataloguer, who):
    books = CollectionFactory(slug="books")
    user = None if who == "anonymous" else cataloguer

    response = client_for(user).post(collections_url(), {"collections": [books.id]})

    assert response.status_code == (302 if user is None else 403)
    assert not field.collections.exists()


def test_an_unknown_field_is_not_found(admin_user, db):
    assert client_for(admin_user).get(collections_url("nope")).status_code == 404


def test_a_field_defined_for_some_collections_applies_there_only(admin_user, db):
    art = CollectionFactory(slug="art", name="Artworks")
    books = CollectionFactory(slug="books", name="Books")
    book = RecordFactory(collection=books)

    response = client_for(admin_user).post(
        reverse("review:field_create"),
        {
            "key": "object_type",
            "name": "Object type",
            "labels": "painting\nprint",
            "text_source": ["title"],
            "metric": "accuracy",
            "collections": [art.id],
        },
    )

    assert response.status_code == 302
    assert list(Field.objects.get(key="object_type").collections.all()) == [art]
    page = Client().get(reverse("catalogue:record", args=[book.code]))
    assert 'id="field-object_type"' not in page.text
