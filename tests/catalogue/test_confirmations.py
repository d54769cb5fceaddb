"""Public "this is right": weak evidence that is stored, rate-limited like flags, and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalogue.models import Confirmation, FieldValue, Flag, Prediction, RateLimitHit
from catalogue.services.confirmations import (
    NOTHING_TO_CONFIRM,
    VALUE_CHANGED,
    ConfirmationError,
    confirmation_create,
)
from catalogue.services.flags import RATE_LIMITED, FlagRateLimited, flag_create
from tests.factories import FieldValueFactory, PredictionFactory, RecordFactory, applied_prediction

CLIENT = "c" * 64


@pytest.fixture
def applied(field):
    return applied_prediction(field=field, label="ita", confidence=0.81)


def confirm(prediction, *, label="ita", client=CLIENT, show_model=True):
    return confirmation_create(
        record=prediction.record,
        field=prediction.field,
        label=label,
        client_hash=client,
        show_model=show_model,
    )


def test_it_stores_a_confirmation_of_a_model_value_with_its_prediction(applied):
    confirmation = confirm(applied)

    assert (confirmation.label, confirmation.source, confirmation.prediction) == (
        "ita",
        FieldValue.Source.MODEL,
        applied,
    )
    assert confirmation.client_hash == CLIENT


def test_it_changes_no_value_and_no_prediction(applied):
    confirm(applied)

    applied.refresh_from_db()
    assert (applied.status, applied.review_round, applied.flagged) == (
        Prediction.Status.APPLIED,
        0,
        False,
    )
    current = FieldValue.objects.get(record=applied.record, is_current=True)
    assert (current.label, current.source) == ("ita", FieldValue.Source.MODEL)
    assert FieldValue.objects.filter(record=applied.record).count() == 1


def test_a_waiting_suggestion_stays_in_the_queue_when_confirmed(field):
    waiting = PredictionFactory(field=field, label="spa", status=Prediction.Status.QUEUED)

    confirmation = confirm(waiting, label="spa")

    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED
    assert confirmation.prediction == waiting
    assert not FieldValue.objects.filter(record=waiting.record).exists()


def test_a_catalogue_value_can_be_confirmed_without_a_prediction(field):
    record = RecordFactory()
    FieldValueFactory(record=record, field=field, label="fin", source=FieldValue.Source.IMPORT)

    confirmation = confirmation_create(
        record=record, field=field, label="fin", client_hash=CLIENT, show_model=False
    )

    assert (confirmation.source, confirmation.prediction) == (FieldValue.Source.IMPORT, None)


def test_a_value_that_changed_since_the_visitor_saw_it_is_not_confirmed(applied):
    with pytest.raises(ConfirmationError, match=VALUE_CHANGED):
        confirm(applied, label="spa")

    assert not Confirmation.objects.exists()


@pytest.mark.parametrize("show_model", [True, False])
def test_there_is_nothing_to_confirm_without_a_value_or_a_visible_suggestion(field, show_model):
    record = RecordFactory()
    if not show_model:
        PredictionFactory(record=record, field=field, label="spa", status=Prediction.Status.QUEUED)

    with pytest.raises(ConfirmationError, match=NOTHING_TO_CONFIRM):
        confirmation_create(
            record=record, field=field, label="spa", client_hash=CLIENT, show_model=show_model
        )

    assert not Confirmation.objects.exists()


def test_a_model_value_hidden_from_the_public_cannot_be_confirmed(applied):
    with pytest.raises(ConfirmationError, match=NOTHING_TO_CONFIRM):
        confirm(applied, show_model=False)


def test_an_address_may_confirm_as_often_as_it_may_flag_in_an_hour(applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 2
    confirm(applied)
    confirm(applied)

    with pytest.raises(FlagRateLimited, match=RATE_LIMITED):
        confirm(applied)

    assert Confirmation.objects.count() == 2
    # Another address has its own budget, and confirming did not use up this one's flags.
    confirm(applied, client="d" * 64)
    flag_create(record=applied.record, field=applied.field, client_hash=CLIENT)
    assert Flag.objects.count() == 1


def test_a_refused_confirmation_uses_none_of_the_limit(applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 1
    with pytest.raises(ConfirmationError):
        confirm(applied, label="spa")

    confirm(applied)

    assert Confirmation.objects.count() == 1


def test_confirmations_older_than_an_hour_do_not_count(applied, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 1
    confirm(applied)
    RateLimitHit.objects.update(created_at=timezone.now() - timedelta(hours=1, minutes=1))

    confirm(applied)

    assert Confirmation.objects.count() == 2
