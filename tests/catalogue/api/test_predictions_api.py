from __future__ import annotations

import pytest
from django.test import Client

from catalogue.models import Decision, DecisionPolicy, FieldValue, Prediction, Record
from catalogue.services.decisions import ALREADY_DECIDED, LABEL_REQUIRED
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory


@pytest.fixture
def waiting(field):
    record = RecordFactory(collection=CollectionFactory(slug="books"), identifier="w1")
    return PredictionFactory(record=record, label="fra", confidence=0.62)


def decide(client, prediction, headers, **body):
    return client.post(
        f"/api/predictions/{prediction.code}/decision",
        body,
        content_type="application/json",
        **headers,
    )


@pytest.mark.django_db
def test_a_cataloguer_reads_the_queue_and_a_records_predictions(
    client: Client, waiting, as_cataloguer
):
    page = client.get("/api/predictions?field=language", **as_cataloguer).json()
    assert page["count"] == 1
    (item,) = page["items"]
    assert item["code"] == str(waiting.code) and item["record"] == str(waiting.record.code)
    assert item["status"] == "queued" and item["confidence"] == 0.62
    assert item["alternatives"][1] == {"label": "ita", "confidence": 0.2}
    listed = client.get(f"/api/records/{waiting.record.code}/predictions", **as_cataloguer).json()
    assert [p["code"] for p in listed] == [str(waiting.code)]
    assert client.get("/api/predictions?status=accepted", **as_cataloguer).json()["count"] == 0


@pytest.mark.django_db
def test_the_public_sees_predictions_only_where_the_policy_shows_them(
    client: Client, waiting, as_visitor
):
    assert client.get("/api/predictions", **as_visitor).status_code == 403
    assert client.get(f"/api/predictions/{waiting.code}", **as_visitor).status_code == 200
    DecisionPolicy.objects.update(show_public=False)
    assert client.get(f"/api/predictions/{waiting.code}", **as_visitor).status_code == 404
    assert client.get(f"/api/records/{waiting.record.code}/predictions", **as_visitor).json() == []


@pytest.mark.django_db
def test_a_cataloguer_corrects_a_prediction_and_the_record_keeps_it(
    client: Client, waiting, cataloguer, as_cataloguer
):
    response = decide(client, waiting, as_cataloguer, action="correct", label="ita", review_round=0)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["action"], body["label"], body["status"]) == ("correct", "ita", "corrected")
    assert body["reviewer"] == cataloguer.username
    value = FieldValue.objects.get(record=waiting.record, is_current=True)
    assert (value.label, value.source, value.user) == ("ita", "human", cataloguer)

    again = decide(client, waiting, as_cataloguer, action="accept", review_round=0)
    assert again.status_code == 409
    assert again.json()["detail"] == ALREADY_DECIDED
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_a_decision_with_a_wrong_type_or_missing_label_is_refused(
    client: Client, waiting, as_cataloguer
):
    response = decide(client, waiting, as_cataloguer, action="correct")
    assert response.status_code == 400 and response.json()["detail"] == LABEL_REQUIRED
    response = decide(client, waiting, as_cataloguer, action="approve")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.action"
    response = decide(client, waiting, as_cataloguer, action="accept", review_round="first")
    assert response.status_code == 422 and "body.review_round" in response.json()["detail"]
    response = decide(client, waiting, as_cataloguer, action="accept", reason="sure")
    assert (
        response.status_code == 422
        and "body.reason: Extra inputs are not permitted" in response.json()["detail"]
    )
    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED and not Decision.objects.exists()


@pytest.mark.django_db
def test_only_cataloguers_decide(client: Client, waiting, as_visitor):
    assert decide(client, waiting, as_visitor, action="accept").status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED


@pytest.mark.django_db
def test_predict_answers_at_once_and_stores_nothing(client: Client, active_model, as_visitor):
    records, predictions = Record.objects.count(), Prediction.objects.count()
    response = client.post(
        "/api/predict",
        {
            "field": "language",
            "texts": ["Geschichte der deutschen Literatur", "Histoire de la littérature française"],
            "k": 2,
        },
        content_type="application/json",
        **as_visitor,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model_version"] == 1
    assert [guesses[0]["label"] for guesses in body["predictions"]] == ["deu", "fra"]
    assert body["predictions"][0][0]["name"] == "German"
    assert all(len(g) == 2 for g in body["predictions"])
    assert (Record.objects.count(), Prediction.objects.count()) == (records, predictions)


@pytest.mark.django_db
def test_predict_names_an_unknown_field_and_a_field_without_a_model(
    client: Client, field, genre, as_visitor
):
    response = client.post(
        "/api/predict",
        {"field": "colour", "texts": ["x"]},
        content_type="application/json",
        **as_visitor,
    )
    assert (
        response.status_code == 404
        and "No field 'colour'; the fields are genre, language" in response.json()["detail"]
    )
    response = client.post(
        "/api/predict",
        {"field": "genre", "texts": ["x"]},
        content_type="application/json",
        **as_visitor,
    )
    assert (
        response.status_code == 409
        and "No active model for field 'genre'" in response.json()["detail"]
    )
    response = client.post(
        "/api/predict", {"texts": "just one"}, content_type="application/json", **as_visitor
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.texts"
