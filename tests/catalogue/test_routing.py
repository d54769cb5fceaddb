from __future__ import annotations

import itertools

import numpy as np
import pytest
from django.forms.models import model_to_dict

from catalogue.models import (
    DecisionPolicy,
    FieldJob,
    FieldValue,
    PolicyChange,
    Prediction,
    SpotCheck,
)
from catalogue.services.decisions import decision_make
from catalogue.services.flags import flag_create
from catalogue.services.monitoring.spotchecks import live_precision
from catalogue.services.policy import BAD_THRESHOLD, PolicyError, policy_update
from catalogue.services.rerouting import predictions_reroute
from catalogue.services.routing import route, route_many
from catalogue.services.values import value_set
from tests.factories import (
    CollectionFactory,
    PredictionFactory,
    RecordFactory,
    spot_checked_prediction,
)


def routed(
    mode,
    confidence,
    *,
    threshold=0.9,
    collection_sensitive=False,
    label_sensitive=False,
    not_a_language=False,
):
    return route(
        mode=mode,
        threshold=threshold,
        confidence=confidence,
        collection_sensitive=collection_sensitive,
        label_sensitive=label_sensitive,
        not_a_language=not_a_language,
    )


@pytest.mark.parametrize("mode", [*DecisionPolicy.Mode.values, "unknown"])
def test_a_batch_is_routed_as_each_prediction_alone(mode):
    threshold = 0.8125
    near = [threshold, np.nextafter(threshold, 0.0), np.nextafter(threshold, 1.0), 0.0, 1.0, 0.3]
    cases = list(itertools.product(near, [False, True], [False, True], [False, True]))
    confidence, collection, label, language = (
        np.array(column) for column in zip(*cases, strict=True)
    )
    routes, chosen = route_many(
        mode=mode,
        threshold=threshold,
        confidence=confidence,
        collection_sensitive=collection,
        label_sensitive=label,
        not_a_language=language,
    )
    expected = [policy_says(mode, threshold, *case) for case in cases]
    assert [routes[i] for i in chosen.tolist()] == expected
    assert [
        routed(
            mode,
            c,
            threshold=threshold,
            collection_sensitive=cs,
            label_sensitive=ls,
            not_a_language=na,
        )
        for c, cs, ls, na in cases
    ] == expected


def policy_says(mode, threshold, confidence, collection, label, not_a_language):
    """The routing rules as the policy page states them, one prediction at a time."""
    if not_a_language:
        return ("queued", "not-a-language")
    if collection:
        return ("queued", "sensitive-collection")
    if label:
        return ("queued", "sensitive-label")
    applies = mode == "auto" or (mode == "threshold" and confidence >= threshold)
    return ("applied" if applies else "queued", mode)


def test_auto_applies_whatever_the_confidence():
    assert routed("auto", 0.2).status == "applied"


def test_review_queues_even_a_certain_prediction():
    assert routed("review", 1.0).status == "queued"


def test_threshold_applies_at_or_above_and_queues_below():
    assert routed("threshold", 0.9).status == "applied"
    assert routed("threshold", 0.8999).status == "queued"


def test_sensitive_collections_and_labels_always_go_to_a_person():
    assert routed("auto", 1.0, collection_sensitive=True) == ("queued", "sensitive-collection")
    assert routed("auto", 1.0, label_sensitive=True) == ("queued", "sensitive-label")


@pytest.mark.django_db
def test_changing_the_threshold_reroutes_waiting_predictions_but_not_decided_ones(
    field, admin_user, django_capture_on_commit_callbacks
):
    policy = field.policy
    policy_update(policy=policy, changed_by=admin_user, mode="threshold", threshold=0.95)
    waiting = PredictionFactory(confidence=0.8, status="queued")
    applied = PredictionFactory(confidence=0.97, status="applied")
    value_set(
        record=applied.record,
        field=field,
        label=applied.label,
        source="model",
        prediction=applied,
        model_version=applied.model_version,
    )
    decided = PredictionFactory(confidence=0.5, status="accepted")
    value_set(record=decided.record, field=field, label="fra", source="human", user=admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=policy, changed_by=admin_user, threshold=0.75)
    waiting.refresh_from_db()
    assert waiting.status == "applied"
    assert FieldValue.objects.get(record=waiting.record, is_current=True).source == "model"

    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=policy, changed_by=admin_user, threshold=0.99)
    waiting.refresh_from_db()
    applied.refresh_from_db()
    assert (waiting.status, applied.status) == ("queued", "queued")
    # The model's value is withdrawn (kept in history), the person's value untouched.
    assert FieldValue.objects.get(record=applied.record, is_current=True).label == ""
    assert FieldValue.objects.filter(record=applied.record).count() == 2
    decided.refresh_from_db()
    assert decided.status == "accepted"
    assert FieldValue.objects.get(record=decided.record, is_current=True).source == "human"


@pytest.mark.django_db
def test_rerouting_respects_a_sensitive_collection(
    field, admin_user, django_capture_on_commit_callbacks
):
    record = RecordFactory(collection=CollectionFactory(is_sensitive=True))
    prediction = PredictionFactory(record=record, confidence=0.99, status="queued")
    other = PredictionFactory(confidence=0.2, status="queued")
    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    other.refresh_from_db()
    assert other.status == "applied"
    prediction.refresh_from_db()
    assert prediction.status == "queued"


@pytest.mark.django_db
def test_a_collection_made_sensitive_sends_its_applied_values_back_to_a_person(field, admin_user):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    closed, open_ = CollectionFactory(), CollectionFactory()
    applied = PredictionFactory(record=RecordFactory(collection=closed), status="queued")
    kept = PredictionFactory(record=RecordFactory(collection=open_), status="queued")
    predictions_reroute(field=field)
    assert FieldValue.objects.get(record=applied.record, is_current=True).source == "model"
    closed.is_sensitive = True
    closed.save()
    result = predictions_reroute(field=field)
    assert (result.queued, result.applied, result.unchanged) == (1, 0, 1)
    applied.refresh_from_db()
    assert (applied.status, applied.routed_by) == ("queued", "sensitive-collection")
    withdrawn = FieldValue.objects.get(record=applied.record, is_current=True)
    assert (withdrawn.label, withdrawn.action) == ("", "withdrawn")
    kept.refresh_from_db()
    assert kept.status == "applied"


@pytest.mark.django_db
def test_a_collection_made_sensitive_in_the_admin_sends_its_values_back_to_a_person(
    client, field, admin_user, django_capture_on_commit_callbacks
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    closed = CollectionFactory()
    applied = PredictionFactory(record=RecordFactory(collection=closed), status="queued")
    predictions_reroute(field=field)
    assert FieldValue.objects.get(record=applied.record, is_current=True).source == "model"
    client.force_login(admin_user)
    form = {k: v for k, v in model_to_dict(closed).items() if v not in (None, False)}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/catalogue/collection/{closed.pk}/change/", {**form, "is_sensitive": "on"}
        )

    assert response.status_code == 302
    applied.refresh_from_db()
    assert (applied.status, applied.routed_by) == ("queued", "sensitive-collection")
    assert FieldValue.objects.get(record=applied.record, is_current=True).action == "withdrawn"
    job = FieldJob.objects.get(field=field, reason__contains=closed.name)
    assert (job.kind, job.status, job.started_by) == ("reroute", "succeeded", admin_user)
    assert job.reason == f"after the collection {closed.name} was made sensitive"


@pytest.mark.django_db
def test_every_policy_change_is_logged_with_who_old_and_new(field, admin_user):
    old = field.policy.threshold
    policy_update(policy=field.policy, changed_by=admin_user, threshold=0.5, show_public=False)
    changes = {c.attribute: c for c in PolicyChange.objects.all()}
    assert set(changes) == {"threshold", "show_public"}
    assert (changes["threshold"].old_value, changes["threshold"].new_value) == (old, 0.5)
    assert changes["threshold"].changed_by == admin_user
    # Setting the same values again logs nothing.
    assert policy_update(policy=field.policy, changed_by=admin_user, threshold=0.5) == []


@pytest.mark.django_db
def test_a_threshold_outside_zero_to_one_is_refused(field, admin_user):
    with pytest.raises(PolicyError) as excinfo:
        policy_update(policy=field.policy, changed_by=admin_user, threshold=1.5)
    assert str(excinfo.value) == BAD_THRESHOLD.format(threshold=1.5)
    field.policy.refresh_from_db()
    assert field.policy.mode == DecisionPolicy.Mode.THRESHOLD
    assert not PolicyChange.objects.exists()
    assert Prediction.objects.count() == 0


@pytest.mark.django_db
def test_rerouting_updates_why_a_waiting_item_is_in_the_queue(
    field, admin_user, django_capture_on_commit_callbacks
):
    prediction = PredictionFactory(confidence=0.5, status="queued", routed_by="threshold")
    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=field.policy, changed_by=admin_user, mode="review")
    prediction.refresh_from_db()
    assert (prediction.status, prediction.routed_by) == ("queued", "review")


@pytest.mark.django_db
def test_a_value_withdrawn_by_a_reroute_comes_back_when_the_policy_applies_it_again(
    field, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    prediction = PredictionFactory(confidence=0.95, status="queued")
    predictions_reroute(field=field)
    assert FieldValue.objects.get(record=prediction.record, is_current=True).label == "fra"
    policy_update(policy=field.policy, changed_by=admin_user, threshold=0.97)
    predictions_reroute(field=field)
    assert FieldValue.objects.get(record=prediction.record, is_current=True).label == ""

    policy_update(policy=field.policy, changed_by=admin_user, threshold=0.9)
    predictions_reroute(field=field)

    prediction.refresh_from_db()
    assert prediction.status == "applied"
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.source, value.prediction_id) == ("fra", "model", prediction.id)


@pytest.mark.django_db
def test_a_collection_made_sensitive_withdraws_a_spot_checked_value_and_the_check_still_waits(
    field, admin_user, cataloguer
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    closed = CollectionFactory()
    checked = spot_checked_prediction(record=RecordFactory(collection=closed))
    decided = spot_checked_prediction(record=RecordFactory(collection=closed), label="ger")
    decision_make(prediction=decided, reviewer=cataloguer, action="accept")
    persons = spot_checked_prediction(record=RecordFactory(collection=closed), label="ita")
    value_set(record=persons.record, field=field, label="spa", source="human", user=admin_user)
    flagged = spot_checked_prediction(record=RecordFactory(collection=closed), label="spa")
    flag_create(record=flagged.record, field=field, client_hash="visitor")
    elsewhere = spot_checked_prediction(record=RecordFactory(collection=CollectionFactory()))
    closed.is_sensitive = True
    closed.save()

    result = predictions_reroute(field=field)

    checked.refresh_from_db()
    assert (checked.status, checked.routed_by) == ("queued", "sensitive-collection")
    withdrawn = FieldValue.objects.get(record=checked.record, is_current=True)
    assert (withdrawn.label, withdrawn.action, withdrawn.policy) == (
        "",
        "withdrawn",
        "policy-change",
    )
    assert result.queued == 2  # the one checked, and the one a person set (nothing to withdraw)
    persons.refresh_from_db()
    assert persons.routed_by == "sensitive-collection"
    person = FieldValue.objects.get(record=persons.record, is_current=True)
    assert (person.label, person.source) == ("spa", "human")
    decided.refresh_from_db()
    assert decided.status == "accepted"
    assert FieldValue.objects.get(record=decided.record, is_current=True).source == "human"
    flagged.refresh_from_db()
    assert (flagged.status, flagged.routed_by, flagged.flagged) == ("queued", "flag", True)
    assert FieldValue.objects.get(record=flagged.record, is_current=True).label == "spa"
    elsewhere.refresh_from_db()
    assert (elsewhere.status, elsewhere.routed_by) == ("queued", "spot-check")
    assert FieldValue.objects.get(record=elsewhere.record, is_current=True).source == "model"
    assert predictions_reroute(field=field).queued == 0  # run twice, nothing more moves
    assert SpotCheck.objects.filter(prediction__in=[checked, decided, persons]).count() == 3

    decision_make(prediction=checked, reviewer=cataloguer, action="accept")

    value = FieldValue.objects.get(record=checked.record, is_current=True)
    assert (value.label, value.source, value.action) == ("fra", "human", "accepted")
    precision = live_precision(field=field, model_version=checked.model_version)
    assert (precision.overall.successes, precision.overall.n) == (2, 2)
    assert precision.pending == 3  # persons, flagged and elsewhere wait


@pytest.mark.django_db
def test_a_spot_check_withdrawn_in_a_sensitive_collection_is_routed_by_the_rules_when_it_is_not(
    field, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    closed = CollectionFactory()
    checked = spot_checked_prediction(record=RecordFactory(collection=closed))
    closed.is_sensitive = True
    closed.save()
    predictions_reroute(field=field)
    closed.is_sensitive = False
    closed.save()
    policy_update(policy=field.policy, changed_by=admin_user, mode="review")
    predictions_reroute(field=field)
    checked.refresh_from_db()
    # Review mode applies nothing: the item waits for the policy's reason, its value withdrawn.
    assert (checked.status, checked.routed_by) == ("queued", "review")
    assert FieldValue.objects.get(record=checked.record, is_current=True).action == "withdrawn"

    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    result = predictions_reroute(field=field)

    # Applied again by the rules, it waits as the spot check it was, its value applied.
    assert result.applied == 1
    checked.refresh_from_db()
    assert (checked.status, checked.routed_by) == ("queued", "spot-check")
    value = FieldValue.objects.get(record=checked.record, is_current=True)
    assert (value.label, value.source) == ("fra", "model")
    assert live_precision(field=field, model_version=checked.model_version).pending == 1
