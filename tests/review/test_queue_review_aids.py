"""What helps a cataloguer go fast: the guesses as buttons, the tally, focus mode, the links."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.models import Decision, FieldValue
from tests.factories import FieldValueFactory, PredictionFactory, RecordFactory
from tests.review.conftest import HTMX

QUEUE = reverse("review:queue")


def decide(client, prediction, **data):
    data.setdefault("review_round", prediction.review_round)
    return client.post(reverse("review:decide", args=[prediction.code]), data, **HTMX)


@pytest.mark.django_db
def test_each_of_the_models_top_guesses_is_a_numbered_button(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra", alternatives=[["fra", 0.62], ["ita", 0.2]])

    html = cataloguer_client.get(QUEUE).content.decode()

    guesses = html.split('class="guesses"')[1].split("</div>")[0]
    assert guesses.count("<form") == 2
    first, second = guesses.split("<form")[1:]
    assert 'name="action" value="accept"' in first and 'data-key="1"' in first
    assert 'name="label" value="ita"' in second and 'data-key="2"' in second
    assert "Italian" in second and "20%" in second
    assert f'href="{reverse("catalogue:record", args=[prediction.record.code])}"' in html


@pytest.mark.django_db
def test_picking_the_second_guess_corrects_to_it(cataloguer_client, cataloguer, labels):
    prediction = PredictionFactory(label="fra", alternatives=[["fra", 0.62], ["ita", 0.2]])

    response = decide(cataloguer_client, prediction, action="correct", label="ita")

    assert response.status_code == 200
    assert Decision.objects.get().label == "ita"
    assert FieldValue.objects.get(record=prediction.record, is_current=True).label == "ita"


@pytest.mark.django_db
def test_after_a_decision_the_waiting_counts_and_the_tally_come_along(cataloguer_client, labels):
    first, second, third = (PredictionFactory(label="fra") for _ in range(3))
    assert (
        "This sitting: <strong>0 decided</strong>" in cataloguer_client.get(QUEUE).content.decode()
    )

    decide(cataloguer_client, first, action="accept")
    response = decide(cataloguer_client, second, action="correct", label="ita")

    html = response.content.decode()
    status = html.split('id="queue-status"')[1]
    assert status.startswith(' class="queue-status" hx-swap-oob="true"')
    assert "1 waiting" in status
    assert "<strong>2 decided</strong> (1 accepted, 1 corrected, 0 rejected)" in status


@pytest.mark.django_db
def test_the_tally_counts_only_this_sittings_decisions_that_stand(
    cataloguer_client, cataloguer, labels
):
    earlier = PredictionFactory(label="fra")
    decide(cataloguer_client, earlier, action="accept")  # starts the sitting
    undone = PredictionFactory(label="fra")
    decide(cataloguer_client, undone, action="accept")
    cataloguer_client.post(reverse("review:undo", args=[undone.code]), {"review_round": 0})

    html = cataloguer_client.get(QUEUE).content.decode()

    assert "<strong>1 decided</strong> (1 accepted, 0 corrected, 0 rejected)" in html


@pytest.mark.django_db
def test_focus_mode_shows_the_rest_of_the_record(cataloguer_client, labels, genre):
    record = RecordFactory(
        description="Dalle origini al Cinquecento.", extra={"publisher": "Einaudi"}
    )
    FieldValueFactory(record=record, field=genre, label="Fiction")
    PredictionFactory(record=record, label="ita")

    html = cataloguer_client.get(QUEUE, {"view": "focus"}).content.decode()

    assert 'class="queue-list is-focus" data-focus-mode' in html
    details = html.split('class="record-details"')[1].split("</dl>")[0]
    for text in ("Genre", "Fiction", "Description", "Dalle origini", "publisher", "Einaudi"):
        assert text in details, text
    assert "Show the whole list" in html
    assert 'class="record-details"' not in cataloguer_client.get(QUEUE).content.decode()


@pytest.mark.django_db
def test_focus_mode_keeps_to_the_same_rules_for_who_may_see_it(client, visitor, labels):
    PredictionFactory()
    client.force_login(visitor)
    assert client.get(QUEUE, {"view": "focus"}).status_code == 403
