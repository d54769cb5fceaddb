"""The public "this is right" button on record pages: who may use it and what they see."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from catalogue.models import Confirmation, FieldValue, Prediction
from catalogue.services.confirmations import NOTHING_TO_CONFIRM, VALUE_CHANGED
from catalogue.services.fields import field_create
from catalogue.services.flags import RATE_LIMITED
from catalogue.views import CONFIRM_THANKS
from tests.factories import (
    CollectionFactory,
    FieldValueFactory,
    LabelFactory,
    PredictionFactory,
    RecordFactory,
    applied_prediction,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def applied(field):
    record = RecordFactory(collection=CollectionFactory(slug="books", name="Books"))
    return applied_prediction(record=record, field=field, label="ita", confidence=0.81)


def confirm_url(record, key="language"):
    return reverse("catalogue:confirm", args=[record.code, key])


def record_url(record):
    return reverse("catalogue:record", args=[record.code])


def test_the_record_page_offers_this_is_right_beside_this_is_wrong(client, applied):
    page = client.get(record_url(applied.record))

    assert 'name="label" value="ita"' in page.text
    assert "This is right</button>" in page.text
    assert "<summary>This is wrong</summary>" in page.text


def test_a_visitor_confirms_the_value_and_reads_a_thank_you(client, applied):
    response = client.post(confirm_url(applied.record), {"label": "ita"}, follow=True)

    assert response.redirect_chain[-1] == (record_url(applied.record) + "#field-language", 302)
    assert CONFIRM_THANKS in response.text
    confirmation = Confirmation.objects.get()
    assert (confirmation.record, confirmation.prediction, confirmation.label) == (
        applied.record,
        applied,
        "ita",
    )
    applied.refresh_from_db()
    assert applied.status == Prediction.Status.APPLIED


def test_with_htmx_the_field_is_swapped_in_place(client, applied):
    response = client.post(confirm_url(applied.record), {"label": "ita"}, **HTMX)

    assert response.status_code == 200
    assert response.text.strip().startswith('<section class="card field-value" id="field-language"')
    assert CONFIRM_THANKS in response.text
    assert Confirmation.objects.count() == 1


def test_a_changed_value_is_refused_with_a_reason(client, applied):
    response = client.post(confirm_url(applied.record), {"label": "spa"}, **HTMX)

    assert response.status_code == 422
    assert "The value changed since you opened this page" in response.text
    assert VALUE_CHANGED.startswith("The value changed")
    assert not Confirmation.objects.exists()


def test_a_post_without_a_label_is_refused(client, applied):
    response = client.post(confirm_url(applied.record), {}, **HTMX)

    assert response.status_code == 422
    assert NOTHING_TO_CONFIRM in response.text
    assert not Confirmation.objects.exists()


def test_confirmations_are_rate_limited_like_flags(client, applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 2
    for _ in range(2):
        assert client.post(confirm_url(applied.record), {"label": "ita"}, **HTMX).status_code == 200

    response = client.post(confirm_url(applied.record), {"label": "ita"}, **HTMX)

    assert response.status_code == 429
    assert RATE_LIMITED.replace("'", "&#x27;") in response.text
    assert Confirmation.objects.count() == 2


def test_a_record_of_a_non_public_collection_is_not_found(client, field):
    hidden = RecordFactory(collection=CollectionFactory(slug="hidden", is_public=False))
    FieldValueFactory(record=hidden, field=field, label="fin", source=FieldValue.Source.IMPORT)

    response = client.post(confirm_url(hidden), {"label": "fin"})

    assert response.status_code == 404
    assert not Confirmation.objects.exists()


def test_a_field_that_does_not_apply_to_the_collection_is_not_found(client, applied, genre):
    # The genre field applies to another collection only.
    genre.collections.set([CollectionFactory(slug="novels")])

    response = client.post(confirm_url(applied.record, "genre"), {"label": "fiction"})

    assert response.status_code == 404
    assert not Confirmation.objects.exists()


def test_get_is_not_allowed(client, applied):
    assert client.get(confirm_url(applied.record)).status_code == 405


def test_cataloguers_see_how_many_visitors_confirmed_the_value(client, applied, cataloguer):
    for address in ("10.0.0.1", "10.0.0.2"):
        Client(REMOTE_ADDR=address).post(confirm_url(applied.record), {"label": "ita"})
    staff = Client()
    staff.force_login(cataloguer)

    assert "2 visitors said “Italian” is right" in staff.get(record_url(applied.record)).text
    assert "visitors said" not in client.get(record_url(applied.record)).text


def test_a_field_defined_for_other_collections_adds_no_card_to_this_record(client, applied, db):
    field_create(
        key="object_type",
        name="Object type",
        labels=[("painting", "Painting"), ("print", "Print")],
        text_source=["title"],
        collections=[CollectionFactory(slug="art")],
    )

    page = client.get(record_url(applied.record))

    assert 'id="field-object_type"' not in page.text
    assert 'id="field-language"' in page.text


def test_the_cataloguers_item_page_shows_the_confirmations(client, field, cataloguer):
    LabelFactory(field=field, code="spa", name="Spanish")
    waiting = PredictionFactory(field=field, label="spa", status=Prediction.Status.QUEUED)
    Client(REMOTE_ADDR="10.0.0.9").post(confirm_url(waiting.record), {"label": "spa"})
    staff = Client()
    staff.force_login(cataloguer)

    page = staff.get(reverse("review:item", args=[waiting.code]))

    assert "1 visitor said “Spanish (spa)” is right" in page.text
    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED
