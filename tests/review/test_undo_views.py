"""Undo a decision from the queue, and change one from the item's page."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from catalogue.models import Decision, FieldValue, Prediction
from catalogue.services.decisions import NOTHING_TO_UNDO, decision_make
from catalogue.services.training.examples import training_examples
from review.views.undo import UNDONE
from tests.factories import FieldValueFactory, PredictionFactory
from tests.review.conftest import HTMX

QUEUE = reverse("review:queue")


def undo_url(prediction: Prediction) -> str:
    return reverse("review:undo", args=[prediction.code])


def change_url(prediction: Prediction) -> str:
    return reverse("review:change", args=[prediction.code])


def current_value(prediction: Prediction) -> FieldValue:
    return FieldValue.objects.get(record=prediction.record, field=prediction.field, is_current=True)


@pytest.fixture
def accepted(cataloguer, labels):
    """A suggestion (fra) the cataloguer accepted over the catalogue's ita."""
    prediction = PredictionFactory(label="fra", record__identifier="bl-000042")
    FieldValueFactory(record=prediction.record, label="ita", source="import")
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    prediction.refresh_from_db()
    return prediction


@pytest.mark.django_db
def test_a_decision_made_with_htmx_comes_back_with_an_undo_toast(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra", record__identifier="bl-000042")

    response = cataloguer_client.post(
        reverse("review:decide", args=[prediction.code]),
        {"action": "accept", "review_round": 0},
        **HTMX,
    )

    html = response.content.decode()
    assert 'id="toast" class="toast is-visible" hx-swap-oob="true"' in html
    assert f'hx-post="{undo_url(prediction)}"' in html
    assert 'data-key="u" aria-keyshortcuts="u"' in html


@pytest.mark.django_db
def test_undo_puts_the_item_back_in_the_queue_with_the_value_it_had(cataloguer_client, accepted):
    response = cataloguer_client.post(undo_url(accepted), {"review_round": 0, "next": QUEUE})

    assert response.status_code == 302
    assert response.url == QUEUE
    accepted.refresh_from_db()
    assert (accepted.status, accepted.review_round) == ("queued", 1)
    assert (current_value(accepted).label, current_value(accepted).source) == ("ita", "import")
    assert Decision.objects.get().withdrawn_at is not None
    assert "bl-000042" in cataloguer_client.get(QUEUE).content.decode()


@pytest.mark.django_db
def test_undo_with_htmx_swaps_in_the_waiting_item_and_says_so(cataloguer_client, accepted):
    response = cataloguer_client.post(undo_url(accepted), {"review_round": 0}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<article")
    assert UNDONE.format(identifier="bl-000042") in html
    # Waiting again, in round 1: its forms answer the new round.
    assert 'name="review_round" value="1"' in html
    assert reverse("review:decide", args=[accepted.code]) in html


@pytest.mark.django_db
def test_undo_a_second_time_is_refused_and_changes_nothing(cataloguer_client, accepted):
    cataloguer_client.post(undo_url(accepted), {"review_round": 0})

    response = cataloguer_client.post(undo_url(accepted), {"review_round": 0}, **HTMX)

    assert response.status_code == 409
    assert NOTHING_TO_UNDO.replace("'", "&#x27;") in response.content.decode()
    assert FieldValue.objects.filter(record=accepted.record).count() == 3
    accepted.refresh_from_db()
    assert accepted.review_round == 1


@pytest.mark.django_db
def test_a_visitor_may_not_undo(client, visitor, accepted):
    client.force_login(visitor)
    assert client.post(undo_url(accepted), {"review_round": 0}).status_code == 403
    accepted.refresh_from_db()
    assert accepted.status == "accepted"


@pytest.mark.django_db
def test_undoing_an_unknown_item_is_not_found(cataloguer_client, labels):
    unknown = reverse("review:undo", args=[uuid.uuid4()])
    assert cataloguer_client.post(unknown, {"review_round": 0}).status_code == 404


@pytest.mark.django_db
def test_the_item_page_of_a_decided_suggestion_offers_to_change_it(cataloguer_client, accepted):
    html = cataloguer_client.get(reverse("review:item", args=[accepted.code])).content.decode()

    assert "Decided: <strong>accept</strong>" in html
    assert f'action="{change_url(accepted)}"' in html
    assert "Send back to the queue" in html


@pytest.mark.django_db
def test_changing_a_decision_from_the_item_page_makes_a_new_one(
    cataloguer_client, cataloguer, accepted
):
    item_url = reverse("review:item", args=[accepted.code])

    response = cataloguer_client.post(
        change_url(accepted),
        {"action": "correct", "label": "spa", "review_round": 0, "next": item_url},
    )

    assert response.status_code == 302
    assert response.url == item_url
    decisions = list(Decision.objects.order_by("id").values_list("action", "label", "review_round"))
    assert decisions == [("accept", "fra", 0), ("correct", "spa", 1)]
    assert current_value(accepted).label == "spa"
    accepted.refresh_from_db()
    assert accepted.status == "corrected"
    # Training learns the latest decision only: one example for the record, with its label.
    record_examples = [
        e for e in training_examples(field=accepted.field) if e.key == accepted.record_id
    ]
    assert [(e.label, e.source) for e in record_examples] == [("spa", "human")]


@pytest.mark.django_db
def test_a_visitor_may_not_change_a_decision(client, visitor, accepted):
    client.force_login(visitor)
    response = client.post(change_url(accepted), {"action": "reject", "review_round": 0})
    assert response.status_code == 403
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_a_stale_change_is_refused(cataloguer_client, accepted):
    cataloguer_client.post(change_url(accepted), {"action": "reject", "review_round": 0})

    response = cataloguer_client.post(
        change_url(accepted), {"action": "accept", "review_round": 0}, **HTMX
    )

    assert response.status_code == 409
    assert list(Decision.objects.filter(withdrawn_at__isnull=True).values_list("action")) == [
        ("reject",)
    ]
