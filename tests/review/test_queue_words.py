"""The queue and the item page name labels ("Finnish (fin)"), never a bare code, never twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.services.decisions import decision_make
from tests.factories import FieldValueFactory, PredictionFactory, RecordFactory

QUEUE = reverse("review:queue")


@pytest.mark.django_db
def test_the_item_history_names_each_value_with_its_code_once(
    cataloguer_client, cataloguer, labels
):
    record = RecordFactory()
    FieldValueFactory(record=record, label="spa", source="import")
    prediction = PredictionFactory(record=record, label="ita")
    decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label="fra")

    html = cataloguer_client.get(reverse("review:item", args=[prediction.code])).text

    history = html.split('id="history-title"', 1)[1]
    assert '<td>French (fra) <span class="badge">current</span>' in history
    assert "<td>Spanish (spa)</td>" in history
    assert "Decided: <strong>correct</strong> to French (fra) by" in html


@pytest.mark.django_db
def test_a_label_whose_name_is_its_code_is_shown_once(cataloguer_client, genre):
    record = RecordFactory()
    FieldValueFactory(record=record, field=genre, label="Fiction", source="import")
    PredictionFactory(
        record=record,
        field=genre,
        label="Non-fiction",
        alternatives=[["Non-fiction", 0.6], ["Fiction", 0.4]],
    )

    html = cataloguer_client.get(QUEUE, {"field": "genre"}).text

    assert "Fiction Fiction" not in html
    assert "Non-fiction Non-fiction" not in html
    assert 'Now: \n<span class="label-code">Fiction</span>\n<span class="badge' in html
    assert 'Take the model\'s <span class="label-name">Non-fiction</span>' in html
