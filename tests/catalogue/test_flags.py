"""The flag service: a public "this is wrong" puts the value back in front of a cataloguer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalogue.machine import artefact_path, model_cache_clear, model_dir
from catalogue.models import FieldValue, Flag, ModelVersion, Prediction, RateLimitHit
from catalogue.services.flags import RATE_LIMITED, FlagError, FlagRateLimited, flag_create
from glamml.ml.langid import LanguageIdentifier
from tests.factories import (
    FieldValueFactory,
    ModelVersionFactory,
    PredictionFactory,
    RecordFactory,
)

CLIENT = "a" * 64

# Article 1 of the Universal Declaration of Human Rights: a tiny, real training set.
UDHR_ARTICLE_1 = {
    "fra": "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont "
    "doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit "
    "de fraternité.",
    "eng": "All human beings are born free and equal in dignity and rights. They are endowed "
    "with reason and conscience and should act towards one another in a spirit of brotherhood.",
    "deu": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit "
    "Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.",
}


@pytest.fixture
def applied(field):
    """A model value on a record, written by an applied prediction."""
    prediction = PredictionFactory(
        label="fra", confidence=0.95, status=Prediction.Status.APPLIED, routed_by="threshold"
    )
    FieldValueFactory(
        record=prediction.record,
        label="fra",
        source=FieldValue.Source.MODEL,
        prediction=prediction,
        model_version=prediction.model_version,
        confidence=0.95,
    )
    return prediction


def test_it_puts_an_applied_prediction_back_in_the_queue_with_priority(applied):
    flag = flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)

    applied.refresh_from_db()
    assert (applied.status, applied.flagged, applied.routed_by, applied.review_round) == (
        Prediction.Status.QUEUED,
        True,
        "flag",
        1,
    )
    assert (flag.prediction, flag.flagged_label, flag.client_hash, flag.status) == (
        applied,
        "fra",
        CLIENT,
        Flag.Status.OPEN,
    )


def test_it_leaves_the_value_on_the_record_until_a_cataloguer_decides(applied):
    flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)

    (value,) = FieldValue.objects.filter(record=applied.record)
    assert (value.label, value.source, value.is_current) == ("fra", "model", True)


def test_it_reopens_a_decided_prediction(field, cataloguer):
    prediction = PredictionFactory(status=Prediction.Status.ACCEPTED, review_round=2)
    FieldValueFactory(
        record=prediction.record,
        label="fra",
        source=FieldValue.Source.HUMAN,
        action=FieldValue.Action.ACCEPTED,
        prediction=prediction,
        user=cataloguer,
    )

    flag_create(record=prediction.record, field=field, client_hash=CLIENT)

    prediction.refresh_from_db()
    assert (prediction.status, prediction.flagged, prediction.review_round) == ("queued", True, 3)


def test_a_second_flag_on_a_flagged_item_does_not_bump_its_round_again(applied):
    flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)
    flag_create(record=applied.record, field=applied.field, client_hash="b" * 64)

    applied.refresh_from_db()
    assert applied.review_round == 1
    assert Flag.objects.filter(prediction=applied).count() == 2


def test_it_ignores_superseded_predictions(field):
    record = RecordFactory()
    old = PredictionFactory(record=record, status=Prediction.Status.SUPERSEDED)
    current = PredictionFactory(
        record=record,
        model_version=ModelVersionFactory(status=ModelVersion.Status.CANDIDATE),
        status=Prediction.Status.APPLIED,
    )

    flag = flag_create(record=record, field=field, client_hash=CLIENT)

    assert flag.prediction == current
    old.refresh_from_db()
    assert old.status == Prediction.Status.SUPERSEDED


@pytest.mark.parametrize(("given", "stored"), [("Italian", "ita"), ("de", "deu"), ("ger", "deu")])
def test_it_stores_the_proposed_value_as_an_iso_639_3_code(applied, given, stored):
    flag = flag_create(
        record=applied.record, field=applied.field, client_hash=CLIENT, proposed_label=given
    )

    assert flag.proposed_label == stored


def test_it_refuses_a_proposed_value_that_is_no_language_and_changes_nothing(applied):
    with pytest.raises(FlagError, match="Unknown language: 'Klingonese'"):
        flag_create(
            record=applied.record,
            field=applied.field,
            client_hash=CLIENT,
            proposed_label="Klingonese",
        )

    assert not Flag.objects.exists()
    applied.refresh_from_db()
    assert (applied.status, applied.flagged, applied.review_round) == ("applied", False, 0)


def test_it_keeps_at_most_2000_characters_of_comment(applied):
    flag = flag_create(
        record=applied.record, field=applied.field, client_hash=CLIENT, comment="x" * 2500
    )

    assert len(flag.comment) == 2000


def test_the_n_plus_first_flag_from_one_address_in_an_hour_is_refused(applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 3
    for _ in range(3):
        flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)

    with pytest.raises(FlagRateLimited) as excinfo:
        flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)

    assert str(excinfo.value) == RATE_LIMITED
    assert Flag.objects.count() == 3
    # Another address is not held back by the first one.
    flag_create(record=applied.record, field=applied.field, client_hash="b" * 64)


def test_flags_older_than_an_hour_do_not_count_towards_the_limit(applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 2
    for _ in range(2):
        flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)
    RateLimitHit.objects.update(created_at=timezone.now() - timedelta(minutes=61))

    flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)

    assert Flag.objects.count() == 3


def test_a_refused_label_uses_none_of_the_addresses_flags(applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 1
    with pytest.raises(FlagError):
        flag_create(
            record=applied.record,
            field=applied.field,
            client_hash=CLIENT,
            proposed_label="Klingonese",
        )

    flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)

    assert Flag.objects.count() == 1


def test_a_flag_with_no_model_to_ask_still_reaches_a_cataloguer(field):
    """An imported value and no trained model yet: the flag is kept, with no prediction."""
    value = FieldValueFactory(label="eng")

    flag = flag_create(record=value.record, field=field, client_hash=CLIENT, proposed_label="fr")

    assert (flag.prediction, flag.flagged_label, flag.proposed_label) == (None, "eng", "fra")
    assert not Prediction.objects.exists()


@pytest.fixture
def trained_model(field):
    """An active model version trained on a tiny real text set, saved where the app looks."""
    model = LanguageIdentifier.from_examples(
        list(UDHR_ARTICLE_1.values()), list(UDHR_ARTICLE_1.keys())
    )
    path = artefact_path(field=field, version=1)
    checksum = model.save(path)
    model_cache_clear()
    yield ModelVersion.objects.create(
        field=field,
        version=1,
        status=ModelVersion.Status.ACTIVE,
        artefact=str(path.relative_to(model_dir())),
        checksum=checksum,
        format_version=LanguageIdentifier.FORMAT_VERSION,
        training_fingerprint="f" * 64,
    )
    model_cache_clear()


def test_a_flag_on_a_value_no_model_predicted_asks_the_model_into_the_queue(trained_model, field):
    record = RecordFactory(title="Histoire de la littérature française depuis les origines")
    FieldValueFactory(record=record, label="eng")

    flag = flag_create(record=record, field=field, client_hash=CLIENT)

    prediction = Prediction.objects.get(record=record)
    assert (prediction.label, prediction.status, prediction.flagged, prediction.routed_by) == (
        "fra",
        Prediction.Status.QUEUED,
        True,
        "flag",
    )
    assert flag.prediction == prediction
    # The imported value stays until a cataloguer decides.
    assert FieldValue.objects.get(record=record, is_current=True).label == "eng"
