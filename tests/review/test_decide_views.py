from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from catalogue.models import Decision, FieldValue, Prediction
from catalogue.services.decisions import ALREADY_DECIDED
from tests.factories import (
    CataloguerFactory,
    FieldValueFactory,
    LabelFactory,
    PredictionFactory,
)
from tests.review.conftest import HTMX

QUEUE = reverse("review:queue")


def decide_url(prediction: Prediction) -> str:
    return reverse("review:decide", args=[prediction.code])


def post(client, prediction, *, htmx=False, **data):
    data.setdefault("review_round", prediction.review_round)
    return client.post(decide_url(prediction), data, **(HTMX if htmx else {}))


def current_value(prediction: Prediction) -> FieldValue:
    return FieldValue.objects.get(record=prediction.record, field=prediction.field, is_current=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_accepting_makes_the_suggestion_the_records_value_and_goes_back_to_the_queue(
    cataloguer_client, cataloguer, labels
):
    prediction = PredictionFactory(label="fra", record__identifier="bl-000042")
    next_url = f"{QUEUE}?field=language"

    response = post(cataloguer_client, prediction, action="accept", next=next_url)

    assert response.status_code == 302
    assert response.url == next_url
    assert messages_of(response) == [
        "Accepted French (fra) for bl-000042 “Histoire de la littérature française depuis les origines”: "
        "the record's language is now French (fra)."
    ]
    decision = Decision.objects.get()
    assert (decision.action, decision.label, decision.reviewer) == ("accept", "fra", cataloguer)
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.ACCEPTED
    value = current_value(prediction)
    assert (value.label, value.source, value.action, value.user) == (
        "fra",
        "human",
        "accepted",
        cataloguer,
    )


@pytest.mark.django_db
def test_accepting_with_htmx_replaces_just_the_item_with_a_confirmation(
    cataloguer_client, cataloguer, labels
):
    prediction = PredictionFactory(label="fra", record__identifier="bl-000042")

    response = post(cataloguer_client, prediction, htmx=True, action="accept")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<article")
    assert f'id="item-{prediction.code}"' in html
    assert "is-decided" in html
    assert "<html" not in html
    assert "Accepted French (fra) for bl-000042" in html
    assert "the record&#x27;s language is now French (fra)." in html
    # No more decisions on it here: only the way to take this one back.
    assert f'action="{decide_url(prediction)}"' not in html
    assert f'action="{reverse("review:undo", args=[prediction.code])}"' in html
    assert current_value(prediction).user == cataloguer


@pytest.mark.django_db
def test_correcting_to_one_of_the_alternatives_stores_that_label(
    cataloguer_client, cataloguer, labels
):
    prediction = PredictionFactory(label="fra")

    response = post(cataloguer_client, prediction, htmx=True, action="correct", label="ita")

    assert response.status_code == 200
    assert "Corrected French (fra) → Italian (ita)" in response.content.decode()
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.CORRECTED
    assert Decision.objects.get().label == "ita"
    value = current_value(prediction)
    assert (value.label, value.source, value.action, value.user) == (
        "ita",
        "human",
        "corrected",
        cataloguer,
    )


@pytest.mark.django_db
def test_a_typed_name_wins_over_the_picked_label(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra")

    response = post(
        cataloguer_client, prediction, action="correct", label="ita", label_text="German"
    )

    assert response.status_code == 302
    assert current_value(prediction).label == "deu"


@pytest.mark.django_db
def test_correcting_to_an_unknown_label_says_why_and_stores_nothing(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra")

    response = post(
        cataloguer_client, prediction, htmx=True, action="correct", label_text="Klingonish"
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Klingonish" in html
    # The item stays decidable, with what was typed kept for fixing.
    assert 'value="Klingonish"' in html
    assert decide_url(prediction) in html
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.QUEUED
    assert not Decision.objects.exists()
    assert not FieldValue.objects.exists()


@pytest.mark.django_db
def test_correcting_to_an_unknown_label_without_htmx_redirects_with_the_error(
    cataloguer_client, labels
):
    prediction = PredictionFactory(label="fra")

    response = post(cataloguer_client, prediction, action="correct", label_text="Klingonish")

    assert response.status_code == 302
    assert any("Klingonish" in m for m in messages_of(response))
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_correcting_without_a_label_is_refused(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra")

    response = post(cataloguer_client, prediction, htmx=True, action="correct", label="")

    assert response.status_code == 422
    assert "Choose the correct label to correct a suggestion." in response.content.decode()
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_rejecting_says_the_suggestion_is_wrong_and_keeps_the_catalogues_value(
    cataloguer_client, cataloguer, labels
):
    prediction = PredictionFactory(label="fra")
    FieldValueFactory(record=prediction.record, label="ita", source="import")

    response = post(cataloguer_client, prediction, htmx=True, action="reject")

    assert response.status_code == 200
    assert "the record&#x27;s language is now Italian (ita)." in response.content.decode()
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.REJECTED
    decision = Decision.objects.get()
    assert (decision.action, decision.label, decision.reviewer) == ("reject", "fra", cataloguer)
    value = current_value(prediction)
    assert (value.label, value.source) == ("ita", "import")


@pytest.mark.django_db
def test_it_refuses_a_second_decision(client, labels):
    prediction = PredictionFactory(label="fra")
    first, second = CataloguerFactory(), CataloguerFactory()
    client.force_login(first)
    post(client, prediction, action="accept")
    client.force_login(second)

    response = post(client, prediction, htmx=True, action="reject", review_round=0)

    assert response.status_code == 409
    html = response.content.decode()
    assert ALREADY_DECIDED.replace("'", "&#x27;") in html
    assert "<form" not in html
    assert Decision.objects.count() == 1
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.ACCEPTED
    assert current_value(prediction).user == first


@pytest.mark.django_db
def test_a_second_decision_without_htmx_is_refused_with_a_message(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra")
    post(cataloguer_client, prediction, action="accept")

    response = post(cataloguer_client, prediction, action="reject", review_round=0)

    assert response.status_code == 302
    assert messages_of(response)[-1] == ALREADY_DECIDED
    assert Decision.objects.count() == 1
    assert current_value(prediction).label == "fra"


@pytest.mark.django_db
def test_it_refuses_a_decision_on_a_review_round_the_reviewer_did_not_see(
    cataloguer_client, labels
):
    # The item went back to the queue (say, flagged) after the reviewer loaded the page.
    prediction = PredictionFactory(label="fra", review_round=2, flagged=True)

    response = post(cataloguer_client, prediction, htmx=True, action="accept", review_round=1)

    assert response.status_code == 409
    html = response.content.decode()
    assert ALREADY_DECIDED.replace("'", "&#x27;") in html
    # It is still waiting: the fresh item (with the round now current) can be decided again.
    assert 'name="review_round" value="2"' in html
    assert not Decision.objects.exists()
    assert not FieldValue.objects.exists()


@pytest.mark.django_db
def test_a_decision_that_cannot_be_read_is_refused(cataloguer_client, labels):
    prediction = PredictionFactory()

    response = cataloguer_client.post(decide_url(prediction), {"action": "maybe"}, **HTMX)

    assert response.status_code == 400
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_it_only_answers_posts(cataloguer_client, field):
    assert cataloguer_client.get(decide_url(PredictionFactory())).status_code == 405


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in_and_changes_nothing(client, field):
    prediction = PredictionFactory()

    response = post(client, prediction, action="accept")

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_it_forbids_a_logged_in_user_who_is_not_a_cataloguer(visitor_client, field):
    prediction = PredictionFactory()

    response = post(visitor_client, prediction, htmx=True, action="accept")

    assert response.status_code == 403
    assert not Decision.objects.exists()
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.QUEUED


@pytest.mark.django_db
def test_an_unknown_item_is_not_found(cataloguer_client, field):
    url = reverse("review:decide", args=["00000000-0000-0000-0000-000000000000"])

    response = cataloguer_client.post(url, {"action": "accept", "review_round": 0})

    assert response.status_code == 404


@pytest.mark.django_db
def test_it_never_redirects_off_site(cataloguer_client, labels):
    prediction = PredictionFactory()

    response = post(cataloguer_client, prediction, action="accept", next="https://evil.example/")

    assert response.url == QUEUE


@pytest.mark.django_db
def test_an_item_whose_catalogue_value_disagrees_offers_to_keep_it_or_take_the_models(
    cataloguer_client, labels
):
    prediction = PredictionFactory(label="spa", confidence=0.62)
    FieldValueFactory(record=prediction.record, label="ita", source="import")
    LabelFactory(field=prediction.field, code="spa", name="Spanish")

    # The queue and the item's own page say it alike, in names, with the three ways out.
    item = reverse("review:item", args=[prediction.code])
    for url in (QUEUE, item):
        html = cataloguer_client.get(url).content.decode()
        assert "<strong>catalogue:</strong> Italian · <strong>model:</strong> Spanish 62%" in html
        assert 'Keep the catalogue&#x27;s <span class="label-name">Italian</span>' in html
        assert 'Take the model\'s <span class="label-name">Spanish</span>' in html
        assert '<label for="label-' in html and ">Correct to</label>" in html
