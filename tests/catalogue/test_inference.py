"""The app's language predictions read the whole record, abstain honestly, and never apply
a value that names no single language, whatever the input."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from catalogue.machine import model_load
from catalogue.models import FieldValue, Prediction
from catalogue.services.inference import (
    language_evidence,
    language_evidence_columns,
    predict_records_top_k,
    predict_records_top_k_arrays,
    record_reader,
)
from catalogue.services.policy import policy_update
from catalogue.services.prediction_batch import batch_records
from catalogue.services.predictions import predictions_create
from catalogue.services.rerouting import predictions_reroute
from catalogue.services.routing import NOT_A_LANGUAGE
from glamml.ml.records import RECORD_FIELDS
from tests.factories import CollectionFactory, RecordFactory

BAD_INPUT = {
    "empty": "",
    "blank": "  \t\n ",
    "numeric": "1, 2, 3 · 1984-1985 · 12.345,67",
    "shelfmark": "MS 123",
    "100 KB": ("Geschichte der deutschen Literatur von den Anfängen bis zur Gegenwart. " * 1500)[
        :100_000
    ],
    "mixed scripts": "Война и мир War and Peace 戦争と平和 حرب وسلام",
    # NUL is left out: PostgreSQL stores no NUL in a text column, so no record holds one.
    "control characters": "\x07Geschichte\x1b der Stadt\x7f Berlin\x0c\x01",
    "right-to-left marks": "\u200f\u202bתולדות היהודים בארץ ישראל\u202c\u200e",
    "marks alone": "\u200f\u200e\u202b\u202c",
}


def _predict(field, **record_values):
    record = RecordFactory(collection=CollectionFactory(), **record_values)
    predictions_create(field=field, record_ids=[record.id])
    return Prediction.objects.get(record=record)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "extra", "alone", "whole"),
    [
        # Place and publisher speak for a record whose title has no words.
        (
            "1848",
            {"place": "Leipzig", "publisher": "Verlag der Dykschen Buchhandlung"},
            "und",
            "deu",
        ),
        # The original-script title is read beside the romanised or translated one.
        ("Opera omnia", {"title_original_script": "Собрание сочинений в двух томах"}, "lat", "rus"),
    ],
)
def test_the_rest_of_the_record_is_evidence_beside_the_title(
    field, active_model, title, extra, alone, whole
):
    assert _predict(field, title=title).label == alone
    assert _predict(field, title=title, extra=extra).label == whole


@pytest.mark.django_db
def test_notes_count_as_evidence_unless_the_field_already_reads_the_description(field):
    record = RecordFactory(description="Enthält Briefe", extra={"place": "Wien", "date": "1900"})
    assert language_evidence(record=record, field=field) == {
        "title": record.title,
        "place": "Wien",
        "notes": "Enthält Briefe",
    }
    field.text_source = ["title", "description"]
    evidence = language_evidence(record=record, field=field)
    assert evidence == {"title": f"{record.title} Enthält Briefe", "place": "Wien"}


class Row(NamedTuple):
    """A prediction batch's plain row of a record."""

    id: int
    collection_id: int
    title: str
    description: str
    extra: Any


AWKWARD_ROWS = [
    Row(1, 1, "Geschichte der Stadt", "Enthält Briefe", {"place": "Wien", "date": 1900}),
    Row(2, 1, "1848", "", {"place": "Leipzig", "publisher": "Verlag", "notes": "  "}),
    Row(3, 1, "", "A description", {"notes": "Notes of the catalogue", "title": "not this"}),
    Row(4, 1, "Poems", "   ", {"place": 12, "publisher": None, "notes": ["a list"]}),
    Row(5, 1, "Opera", "Beschreibung", ["extra", "as a list"]),
    Row(6, 1, "Opera", "Beschreibung", None),
    Row(7, 1, "MS 123", "", "a string"),
    Row(8, 1, "Война и мир", "", {"title_original_script": "Война", "medium": "oil"}),
    Row(9, 1, "Poems", "", {"place": " \t", "title_original_script": "", "publisher": "Zed"}),
    *(Row(10 + i, 1, title, "", {}) for i, title in enumerate(BAD_INPUT.values())),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text_source", [["title"], [], ["title", "description"], ["medium", "title"]]
)
def test_a_batch_hands_the_model_each_records_evidence_field_by_field(
    field, active_model, text_source
):
    """The columns a batch hands the model hold what each record's evidence holds, and the
    model's answers from them are those from the records one by one."""
    field.text_source = text_source
    columns = language_evidence_columns(records=AWKWARD_ROWS, field=field)
    for i, row in enumerate(AWKWARD_ROWS):
        evidence = language_evidence(record=row, field=field)
        # As the model reads a record's evidence: "" for a field it does not have.
        assert {name: texts[i] for name, texts in columns.items()} == {
            name: str(evidence.get(name) or "") for name in RECORD_FIELDS
        }
    model = model_load(version=active_model)
    one_by_one = record_reader(model).predict_records_top_k(
        [language_evidence(record=row, field=field) for row in AWKWARD_ROWS]
    )
    arrays = predict_records_top_k_arrays(model=model, field=field, records=AWKWARD_ROWS)
    assert arrays.as_lists() == one_by_one
    assert predict_records_top_k(model=model, field=field, records=AWKWARD_ROWS) == one_by_one


@pytest.mark.django_db
@pytest.mark.parametrize("text_source", [["title"], ["title", "description"], ["medium"]])
def test_a_batch_reads_of_each_record_what_the_model_reads_of_it(field, text_source):
    """On PostgreSQL a batch selects only the extra values a language model reads, as text:
    the evidence is what the whole record gives."""
    field.text_source = text_source
    collection = CollectionFactory()
    records = [
        RecordFactory(
            collection=collection, title=row.title, description=row.description, extra=row.extra
        )
        for row in AWKWARD_ROWS
        if row.extra is not None
    ]
    read = batch_records(field=field, record_ids=[r.id for r in records])
    assert [r.id for r in read] == [r.id for r in records]
    for record in records:
        record.refresh_from_db()  # its extra as stored: JSON read back
    assert language_evidence_columns(records=read, field=field) == language_evidence_columns(
        records=records, field=field
    )


@pytest.mark.django_db
def test_an_abstention_is_never_applied_even_when_every_prediction_is(
    field, active_model, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    prediction = _predict(field, title="1, 2, 3")
    assert (prediction.label, prediction.confidence) == ("und", 0.0)
    assert (prediction.status, prediction.routed_by) == ("queued", NOT_A_LANGUAGE)
    assert not FieldValue.objects.filter(record=prediction.record).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["myn", "sai", "mul", "zxx", "mis", "und"])
def test_a_collective_or_special_code_is_never_applied_by_a_policy_change(
    field, active_model, admin_user, code
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="review")
    prediction = _predict(field, title="Histoire de la littérature française")
    Prediction.objects.filter(pk=prediction.pk).update(label=code, confidence=0.999)
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    predictions_reroute(field=field)
    prediction.refresh_from_db()
    assert (prediction.status, prediction.routed_by) == ("queued", NOT_A_LANGUAGE)
    assert not FieldValue.objects.filter(record=prediction.record, label=code).exists()


@pytest.mark.django_db
def test_a_language_prediction_is_still_applied_by_the_same_policy(field, active_model, admin_user):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    prediction = _predict(field, title="Histoire de la littérature française")
    assert prediction.label == "fra"
    # Applied; a spot check may draw it (by a hash of its record's id), leaving it applied.
    assert prediction.status == "applied" or prediction.routed_by == "spot-check"
    assert FieldValue.objects.get(record=prediction.record, is_current=True).label == "fra"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(BAD_INPUT))
def test_bad_input_gets_an_answer_with_honest_confidence_or_an_abstention(
    field, active_model, admin_user, kind
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    text = BAD_INPUT[kind]
    prediction = _predict(field, title=text)
    assert 0.0 <= prediction.confidence <= 1.0
    assert all(0.0 <= p <= 1.0 for _, p in prediction.alternatives)
    if prediction.label == "und":
        assert prediction.confidence == 0.0
        assert prediction.status == "queued"
    if kind in {"empty", "blank", "numeric", "shelfmark", "marks alone"}:
        assert (prediction.label, prediction.confidence) == ("und", 0.0)
    elif kind in {"100 KB", "control characters"}:
        assert prediction.label == "deu"
    elif kind == "right-to-left marks":
        assert prediction.label == "heb"
    else:  # four scripts, four languages: no single one deserves a confident answer
        assert prediction.confidence < 0.9
        assert prediction.status == "queued"
