"""The queue and the item page name labels ("Finnish (fin)"), never a bare code, never twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.services.decisions import decision_make
from catalogue.services.fields import field_create
from catalogue.services.values import value_set
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


@pytest.fixture
def object_type(db):
    """A label field like the demo's object types: each label's name is its code."""
    return field_create(
        key="object_type",
        name="Object type",
        labels=[("painting", "painting"), ("print", "print"), ("sculpture", "sculpture")],
        text_source=["title"],
        metric="macro_f1",
    )


@pytest.mark.django_db
def test_the_correct_to_list_names_a_label_whose_name_is_its_code_once(
    cataloguer_client, object_type
):
    PredictionFactory(
        field=object_type,
        label="painting",
        confidence=0.6,
        alternatives=[["painting", 0.6], ["print", 0.3]],
    )
    PredictionFactory(field=object_type, label="sculpture", confidence=0.7, alternatives=[])

    html = cataloguer_client.get(QUEUE, {"field": "object_type"}).text

    for code in ("painting", "print", "sculpture"):
        assert f"{code} – {code}" not in html
        assert f'<span class="guess-code">{code}</span>' not in html
    assert '<option value="print">print (30%)</option>' in html
    assert '<option value="sculpture">sculpture</option>' in html


@pytest.mark.django_db
def test_the_correct_to_list_gives_a_languages_code_and_name(cataloguer_client, labels):
    PredictionFactory(label="fra", alternatives=[["fra", 0.5], ["ita", 0.3]])

    html = cataloguer_client.get(QUEUE).text

    assert '<option value="ita">ita – Italian (30%)</option>' in html
    assert '<option value="spa">spa – Spanish</option>' in html


@pytest.mark.django_db
def test_the_collection_list_shows_a_value_whose_name_is_its_code_once(client, object_type):
    record = RecordFactory()
    object_type.collections.add(record.collection)
    value_set(record=record, field=object_type, label="print", source="import")

    url = reverse("catalogue:collection", args=[record.collection.slug])
    html = client.get(url, {"field": "object_type"}).text

    assert '<span class="value">print</span> <span class="badge' in html
    assert '<code class="code">print</code>' not in html
