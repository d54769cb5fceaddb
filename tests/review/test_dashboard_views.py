from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue.models import (
    DecisionPolicy,
    FieldJob,
    FieldValue,
    ModelVersion,
    PolicyChange,
    Prediction,
    TrainingRun,
)
from catalogue.services.fields import field_create
from catalogue.services.policy import PolicyError, policy_update
from catalogue.services.values import value_set
from tests.factories import (
    CollectionFactory,
    LabelFactory,
    ModelVersionFactory,
    PredictionFactory,
    RecordFactory,
    TrainingRunFactory,
)
from tests.review.conftest import HTMX

DASHBOARD = reverse("review:dashboard")
# Session, user, jobs that stopped (failed if any), fields, status counts, spot checks and their
# decisions (live precision), open monitoring alerts, collection calibrations, and for all the
# fields at once: change logs, versions, threshold previews, runs, background jobs. (Roles cost
# nothing for staff.) The same with one field or several.
DASHBOARD_QUERIES = 14


def policy_url(key: str = "language") -> str:
    return reverse("review:policy_update", args=[key])


def policy_data(**changes: object) -> dict[str, object]:
    data = {
        "mode": "threshold",
        "threshold": "0.9",
        "show_public": "on",
        "auto_promote": "on",
        "retrain_after_decisions": "50",
    }
    data.update(changes)
    return {f"language-{name}": value for name, value in data.items() if value is not None}


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_each_fields_policy_models_and_runs(staff_client, admin_user, field):
    ModelVersionFactory(
        field=field,
        version=3,
        status=ModelVersion.Status.ACTIVE,
        n_train=1234,
        metrics={"accuracy": 0.9312, "macro_f1": 0.8123, "ece": 0.0421},
        training_fingerprint="abcdef0123456789" + "0" * 48,
    )
    ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.RETIRED, metrics={})
    TrainingRunFactory(field=field, status=TrainingRun.Status.FAILED, message="Out of letters")
    PredictionFactory.create_batch(2, confidence=0.95, status=Prediction.Status.APPLIED)
    PredictionFactory(confidence=0.5)
    PolicyChange.objects.create(
        policy=field.policy,
        changed_by=admin_user,
        attribute="threshold",
        old_value=0.8,
        new_value=0.9,
    )

    response = staff_client.get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        'name="language-mode"',
        'name="language-threshold"',
        'name="language-show_public"',
        "0.931",
        "0.812",
        "0.042",
        "abcdef012345",
        "1234",
        "Out of letters",
        "Train a new version",
        f"{admin_user.username} · threshold: <code>0.8</code> → <code>0.9</code>",
    ):
        assert text in html, text
    preview = response.context["panels"][0].section.preview
    assert (preview.threshold, preview.would_apply, preview.would_queue) == (0.9, 2, 1)
    counts = {value: n for value, _, n in response.context["panels"][0].section.status_counts}
    assert (counts["applied"], counts["queued"], counts["accepted"]) == (2, 1, 0)


@pytest.mark.django_db
def test_each_version_shows_the_rules_baseline_and_a_promote_or_rollback_button(
    staff_client, field
):
    rules = {"rules": {"accuracy": 0.5, "macro_f1": 0.6789}}
    active = ModelVersionFactory(
        field=field, version=3, metrics={"macro_f1": 0.81}, baselines=rules
    )
    retired = ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.RETIRED)
    candidate = ModelVersionFactory(
        field=field, version=4, status=ModelVersion.Status.CANDIDATE, baselines=rules
    )

    html = staff_client.get(DASHBOARD).content.decode()

    assert "0.679" in html
    assert "(the model beats the rules)" in html
    assert reverse("review:model_version", args=[active.code]) in html
    for version, text in ((candidate, "Promote"), (retired, "Make active")):
        url = reverse("review:model_version_promote", args=[version.code])
        assert f'hx-post="{url}" hx-target="#field-language"' in html
        assert f'{text}<span class="visually-hidden"> v{version.version}</span>' in html
    assert reverse("review:model_version_promote", args=[active.code]) not in html
    assert reverse("review:experiments") in html
    assert reverse("review:field_create") in html
    assert reverse("review:field_rules", args=["language"]) in html


@pytest.mark.django_db
def test_the_dashboard_is_for_admins_only(client, cataloguer, field):
    assert client.get(DASHBOARD).status_code == 302
    client.force_login(cataloguer)
    assert client.get(DASHBOARD).status_code == 403


# --- the policy ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_changes_the_policy_and_the_change_is_logged(staff_client, admin_user, field):
    response = staff_client.post(policy_url(), policy_data(mode="review", threshold="0.75"))

    assert response.status_code == 302
    assert response.url == f"{DASHBOARD}#field-language"
    policy = DecisionPolicy.objects.get(field=field)
    assert (policy.mode, policy.threshold, policy.show_public) == ("review", 0.75, True)
    changes = {
        c.attribute: (c.old_value, c.new_value, c.changed_by) for c in PolicyChange.objects.all()
    }
    assert changes == {
        "mode": ("threshold", "review", admin_user),
        "threshold": (0.9, 0.75, admin_user),
    }


@pytest.mark.django_db
def test_a_lower_threshold_applies_waiting_predictions_in_the_background(
    staff_client, field, django_capture_on_commit_callbacks
):
    waiting = PredictionFactory(confidence=0.8)
    decided = PredictionFactory(confidence=0.8, status=Prediction.Status.REJECTED)

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(policy_url(), policy_data(threshold="0.7"))

    waiting.refresh_from_db()
    decided.refresh_from_db()
    assert waiting.status == Prediction.Status.APPLIED
    assert decided.status == Prediction.Status.REJECTED
    value = FieldValue.objects.get(record=waiting.record, is_current=True)
    assert (value.label, value.source) == ("fra", "model")


@pytest.mark.django_db
def test_a_policy_change_with_htmx_returns_the_fields_panel(staff_client, field):
    response = staff_client.post(policy_url(), policy_data(show_public=None), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="field-panel" id="field-language"')
    assert "Saved: show_public True → False." in html
    assert PolicyChange.objects.get().attribute == "show_public"


@pytest.mark.django_db
def test_saving_an_unchanged_policy_logs_nothing(staff_client, field):
    response = staff_client.post(policy_url(), policy_data(), **HTMX)

    assert "Nothing changed" in response.content.decode()
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_a_threshold_outside_0_to_1_is_refused(staff_client, field):
    response = staff_client.post(policy_url(), policy_data(threshold="1.5"), **HTMX)

    assert response.status_code == 422
    assert "less than or equal to 1" in response.content.decode()
    assert DecisionPolicy.objects.get(field=field).threshold == 0.9
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["99999999999999999999", "0", "1000001"])
def test_a_retraining_count_out_of_range_is_refused_not_a_server_error(staff_client, field, value):
    response = staff_client.post(policy_url(), policy_data(retrain_after_decisions=value), **HTMX)

    assert response.status_code == 422
    assert "Retrain after this many new decisions" in response.content.decode()
    assert DecisionPolicy.objects.get(field=field).retrain_after_decisions == 50
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_retraining_count_the_column_cannot_hold(field):
    with pytest.raises(PolicyError, match="between 1 and 1,000,000 new decisions"):
        policy_update(policy=field.policy, changed_by=None, retrain_after_decisions=10**20)
    assert DecisionPolicy.objects.get(field=field).retrain_after_decisions == 50


@pytest.mark.django_db
def test_a_cataloguer_may_not_change_the_policy(cataloguer_client, field):
    response = cataloguer_client.post(policy_url(), policy_data(mode="auto"), **HTMX)

    assert response.status_code == 403
    assert DecisionPolicy.objects.get(field=field).mode == "threshold"
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_changing_a_policy_needs_a_login_and_a_known_field(client, admin_user, field):
    response = client.post(policy_url(), policy_data(mode="auto"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.force_login(admin_user)
    assert client.post(policy_url("no-such-field"), policy_data()).status_code == 404
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_an_admin_sets_automatic_promotion_and_the_retraining_trigger(
    staff_client, admin_user, field
):
    response = staff_client.post(
        policy_url(), policy_data(auto_promote=None, retrain_after_decisions="20"), **HTMX
    )

    assert response.status_code == 200
    assert "auto_promote True → False; retrain_after_decisions 50 → 20" in response.content.decode()
    policy = DecisionPolicy.objects.get(field=field)
    assert (policy.auto_promote, policy.retrain_after_decisions) == (False, 20)
    assert set(PolicyChange.objects.values_list("attribute", flat=True)) == {
        "auto_promote",
        "retrain_after_decisions",
    }


@pytest.mark.django_db
def test_retraining_needs_at_least_one_decision(staff_client, field):
    response = staff_client.post(policy_url(), policy_data(retrain_after_decisions="0"), **HTMX)

    assert response.status_code == 422
    assert DecisionPolicy.objects.get(field=field).retrain_after_decisions == 50
    assert not PolicyChange.objects.exists()


# --- the threshold preview ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_counts_what_a_threshold_would_apply_and_queue(staff_client, field):
    for confidence in (0.55, 0.65, 0.75, 0.85):
        PredictionFactory(confidence=confidence)
    PredictionFactory(confidence=0.95, status=Prediction.Status.APPLIED)
    PredictionFactory(confidence=0.99, status=Prediction.Status.ACCEPTED)  # decided: not live
    PredictionFactory(
        confidence=0.9, record=RecordFactory(collection=CollectionFactory(is_sensitive=True))
    )
    LabelFactory(field=field, code="yid", name="Yiddish", is_sensitive=True)
    PredictionFactory(confidence=0.9, label="yid")

    response = staff_client.get(
        reverse("review:threshold_preview", args=["language"]), {"threshold": "0.7"}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="preview-result"')
    assert "of the 7 waiting or model-applied predictions" in html
    assert "<strong>3</strong> would be applied" in html
    assert "<strong>2</strong> would wait for review" in html
    assert "<strong>2</strong> stay with people anyway" in html


@pytest.mark.django_db
def test_the_preview_shows_the_held_out_precision_of_the_active_model(staff_client, field):
    ModelVersionFactory(
        field=field,
        metrics={
            "precision_coverage": [
                {"threshold": 0.95, "precision": 1.0, "coverage": 0.4},
                {"threshold": 0.8, "precision": 0.97, "coverage": 0.7},
                {"threshold": 0.5, "precision": 0.9, "coverage": 1.0},
            ],
            "threshold_at_precision": {"0.95": 0.8, "0.99": 0.95},
            "coverage_at_precision": {"0.95": 0.7, "0.99": 0.4},
        },
    )

    response = staff_client.get(
        reverse("review:threshold_preview", args=["language"]), {"threshold": "0.8"}, **HTMX
    )

    html = response.content.decode()
    assert "right <strong>97%</strong> of the time" in html
    assert "covered 70% of them" in html
    assert "0.95</a>\n          for 99% precision (covers 40%)" in html


@pytest.mark.django_db
def test_the_preview_without_htmx_is_the_whole_dashboard(staff_client, field):
    response = staff_client.get(
        reverse("review:threshold_preview", args=["language"]), {"threshold": "0.5"}
    )

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert response.context["panels"][0].section.preview.threshold == 0.5


@pytest.mark.django_db
def test_a_preview_of_a_nonsense_threshold_falls_back_to_the_saved_one(staff_client, field):
    response = staff_client.get(
        reverse("review:threshold_preview", args=["language"]), {"threshold": "2"}, **HTMX
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Showing the saved threshold instead." in html
    assert "At a threshold of <strong>0.90</strong>" in html


@pytest.mark.django_db
def test_the_preview_is_for_admins_only(cataloguer_client, field):
    url = reverse("review:threshold_preview", args=["language"])

    assert cataloguer_client.get(url, {"threshold": "0.5"}).status_code == 403


# --- training -----------------------------------------------------------------------------------

TITLES = {
    "lat": [
        "De bello Gallico commentarii septem",
        "Historiae Romanae libri qui supersunt",
        "Carmina selecta cum notis et indice",
        "Epistolae ad familiares et ad Atticum",
        "De natura deorum libri tres",
        "Annales ab excessu divi Augusti",
    ],
    "eng": [
        "A history of the county of York",
        "The poetical works of the late author",
        "Notes on a journey through the north of England",
        "Sermons preached in the parish church",
        "An account of the voyage to the South Seas",
        "Letters written during a residence in Sweden",
    ],
}


@pytest.mark.django_db
def test_an_admin_trains_a_new_version_and_sees_how_the_run_ended(
    staff_client, admin_user, field, django_capture_on_commit_callbacks
):
    collection = CollectionFactory()
    for label, titles in TITLES.items():
        for title in titles:
            record = RecordFactory(collection=collection, title=title)
            value_set(record=record, field=field, label=label, source="import")

    # The task runs once the view's transaction commits: after the response, as with a worker.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("review:training_run_create", args=["language"]), **HTMX
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="field-panel" id="field-language"')
    run = TrainingRun.objects.get()
    run_url = reverse("review:training_run", args=[run.code])
    # The response came first: the run was waiting, its row polls, the button waits for it.
    assert "Training a new language model: the run below shows its progress" in html
    assert f'<tr id="run-{run.code}" hx-get="{run_url}" hx-trigger="every 1s"' in html
    assert "Waiting for a training worker." in html
    assert 'id="train-language" disabled' in html
    assert run.started_by == admin_user
    assert run.status == TrainingRun.Status.SUCCEEDED, run.message
    assert run.model_version.status == ModelVersion.Status.ACTIVE
    # The row's next poll finds the run finished and brings the new version into view.
    polled = staff_client.get(run_url, **HTMX).content.decode()
    assert run.message in polled
    assert f"v{run.model_version.version}" in polled


@pytest.mark.django_db
def test_training_without_htmx_redirects_to_the_field_with_a_message(staff_client, field):
    # Without capturing on-commit callbacks the run stays queued, as with a real broker.
    response = staff_client.post(reverse("review:training_run_create", args=["language"]))

    assert response.status_code == 302
    assert response.url == f"{DASHBOARD}#field-language"
    assert TrainingRun.objects.get().status == TrainingRun.Status.QUEUED


@pytest.mark.django_db
def test_a_cataloguer_may_not_train(cataloguer_client, field):
    response = cataloguer_client.post(reverse("review:training_run_create", args=["language"]))

    assert response.status_code == 403
    assert not TrainingRun.objects.exists()


@pytest.mark.django_db
def test_a_running_run_polls_itself_until_it_finishes(staff_client, field):
    run = TrainingRunFactory(
        field=field, status=TrainingRun.Status.RUNNING, progress=40, message="Training a model."
    )
    url = reverse("review:training_run", args=[run.code])

    dashboard = staff_client.get(DASHBOARD).content.decode()
    polled = staff_client.get(url, **HTMX)

    assert f'<tr id="run-{run.code}" hx-get="{url}" hx-trigger="every 1s"' in dashboard
    assert '<progress class="job-bar" max="100" value="40"' in dashboard
    assert "Training a model." in dashboard
    # Another run cannot start meanwhile: the button says why it is off.
    assert 'id="train-language" disabled aria-describedby="train-language-busy"' in dashboard
    assert polled.status_code == 200
    assert (
        polled.content.decode()
        .lstrip()
        .startswith(f'<tr id="run-{run.code}" hx-get="{url}" hx-trigger="every 1s"')
    )


@pytest.mark.django_db
def test_a_finished_run_stops_polling_and_refreshes_the_fields_panel(staff_client, field):
    version = ModelVersionFactory(field=field, version=7)
    run = TrainingRunFactory(
        field=field, status=TrainingRun.Status.SUCCEEDED, model_version=version, message="Done"
    )

    response = staff_client.get(reverse("review:training_run", args=[run.code]), **HTMX)

    assert response.headers["HX-Retarget"] == "#field-language"
    assert response.headers["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="field-panel" id="field-language"')
    assert "v7" in html
    assert "every 1s" not in html
    assert 'id="train-language">' in html


@pytest.mark.django_db
def test_a_run_has_its_own_page_for_admins_only(client, cataloguer, admin_user, field):
    run = TrainingRunFactory(field=field, status=TrainingRun.Status.FAILED, message="No letters")
    url = reverse("review:training_run", args=[run.code])

    assert client.get(url).status_code == 302
    client.force_login(cataloguer)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    assert "No letters" in response.content.decode()
    missing = reverse("review:training_run", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_versions_runs_or_predictions(
    staff_client, field, django_assert_num_queries
):
    def load() -> None:
        assert staff_client.get(DASHBOARD).status_code == 200

    ModelVersionFactory(field=field, status=ModelVersion.Status.RETIRED)
    TrainingRunFactory(field=field, status=TrainingRun.Status.SUCCEEDED)
    PredictionFactory()
    with django_assert_num_queries(DASHBOARD_QUERIES):
        load()

    ModelVersionFactory.create_batch(4, field=field, status=ModelVersion.Status.RETIRED)
    TrainingRunFactory.create_batch(4, field=field, status=TrainingRun.Status.FAILED)
    PredictionFactory.create_batch(5)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        load()


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_fields(
    staff_client, field, genre, admin_user, django_assert_num_queries
):
    def fill(f) -> None:
        ModelVersionFactory(field=f, status=ModelVersion.Status.ACTIVE)
        TrainingRunFactory(field=f, status=TrainingRun.Status.SUCCEEDED)
        PredictionFactory(field=f, label="Fiction" if f == genre else "fra")
        FieldJob.objects.create(field=f, kind=FieldJob.Kind.REROUTE)
        PolicyChange.objects.create(
            policy=f.policy, changed_by=admin_user, attribute="threshold", old_value=0.8
        )

    fill(field)
    other = field_create(
        key="object_type",
        name="Object type",
        labels=[("painting", "painting"), ("print", "print")],
        text_source=["title"],
        metric="macro_f1",
    )
    fill(genre)
    fill(other)

    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = staff_client.get(DASHBOARD)

    assert len(response.context["panels"]) == 3


@pytest.mark.django_db
def test_each_field_shows_its_own_latest_rows_and_preview_at_its_own_threshold(
    staff_client, field, genre, admin_user
):
    DecisionPolicy.objects.filter(field=genre).update(mode="threshold", threshold=0.6)
    retired = [
        ModelVersionFactory(field=field, version=version, status=ModelVersion.Status.RETIRED)
        for version in range(1, 13)
    ]
    active = ModelVersionFactory(field=genre, version=1, status=ModelVersion.Status.ACTIVE)
    for n in range(12):
        PolicyChange.objects.create(
            policy=field.policy, changed_by=admin_user, attribute="threshold", new_value=n
        )
    TrainingRunFactory(field=genre, status=TrainingRun.Status.FAILED, message="Out of letters")
    FieldJob.objects.create(field=genre, kind=FieldJob.Kind.REROUTE)
    PredictionFactory(field=field, model_version=retired[0], label="fra", confidence=0.7)
    PredictionFactory(field=genre, model_version=active, label="Fiction", confidence=0.7)

    panels = {p.section.field.key: p.section for p in staff_client.get(DASHBOARD).context["panels"]}

    language, fiction = panels["language"], panels["genre"]
    assert [v.version for v in language.versions] == list(range(12, 2, -1))
    assert [v.version for v in fiction.versions] == [1]
    assert (language.active_version, fiction.active_version.version) == (None, 1)
    assert [c.new_value for c in language.changes] == list(range(11, 1, -1))
    assert fiction.changes == []
    assert (language.runs, [r.message for r in fiction.runs]) == ([], ["Out of letters"])
    assert (language.jobs, [j.field for j in fiction.jobs]) == ([], [genre])
    # 0.7 waits under the language field's 0.9 and is applied at the genre field's 0.6.
    assert (language.preview.would_apply, language.preview.would_queue) == (0, 1)
    assert (fiction.preview.would_apply, fiction.preview.would_queue) == (1, 0)


@pytest.mark.django_db
def test_it_shows_each_collections_calibration_and_its_evidence(
    staff_client, field, active_model, cataloguer, settings
):
    settings.GLAMML_NEW_COLLECTION_RATIO = 0.9
    from catalogue.services.decisions import decision_make
    from catalogue.services.predictions import predictions_create

    checked = CollectionFactory(name="Checked books")
    fresh = CollectionFactory(name="Fresh arrivals")
    titles = ["Histoire de la littérature française depuis les origines"] * 3
    for collection in (checked, fresh):
        ids = [RecordFactory(collection=collection, title=t).id for t in titles]
        predictions_create(field=field, record_ids=ids)
    waiting = Prediction.objects.filter(record__collection=checked, status="queued")
    first, *rest = list(waiting)
    decision_make(prediction=first, reviewer=cataloguer, action="correct", label="ita")
    for prediction in rest:
        decision_make(prediction=prediction, reviewer=cataloguer, action="accept")

    page = staff_client.get(DASHBOARD).content.decode()
    assert "Calibration by collection" in page
    checked_row = page[
        page.index("Checked books") : page.index("</tr>", page.index("Checked books"))
    ]
    fresh_row = page[
        page.index("Fresh arrivals") : page.index("</tr>", page.index("Fresh arrivals"))
    ]
    assert "conservative start" in fresh_row and "conservative start" not in checked_row
    assert [cell.split("<")[0].strip() for cell in checked_row.split('<td class="num">')[1:4]] == [
        "0", "2", "1",
    ]  # fmt: skip
    assert "2 / 3" in checked_row
    assert "0.99 → <strong>0.89</strong>" in fresh_row


# --- background jobs: re-routing and re-predicting ---------------------------------------------


@pytest.mark.django_db
def test_a_saved_threshold_returns_at_once_with_the_reroute_waiting_and_the_save_button_off(
    staff_client, admin_user, field
):
    # No on-commit callbacks run here: the task waits, as it does for a worker.
    response = staff_client.post(policy_url(), policy_data(threshold="0.7"), **HTMX)

    html = response.content.decode()
    job = FieldJob.objects.get(field=field)
    assert (job.kind, job.status, job.started_by) == ("reroute", "queued", admin_user)
    job_url = reverse("review:field_job", args=[job.code])
    assert f'<div class="job job-queued" id="job-{job.code}" hx-get="{job_url}"' in html
    assert "Re-routing waiting predictions" in html
    assert "waiting to start" in html
    assert 'id="save-language" disabled aria-describedby="save-language-busy"' in html


@pytest.mark.django_db
def test_a_running_job_polls_with_its_count(staff_client, field):
    job = FieldJob.objects.create(
        field=field, kind=FieldJob.Kind.REROUTE, status="running", done=1, total=3
    )
    url = reverse("review:field_job", args=[job.code])

    polled = staff_client.get(url, **HTMX)

    html = polled.content.decode()
    assert html.lstrip().startswith(f'<div class="job job-running" id="job-{job.code}"')
    assert f'hx-get="{url}" hx-trigger="every 1s"' in html
    assert '<progress class="job-bar" max="3" value="1"' in html
    assert "1 of 3 (33%)" in html


@pytest.mark.django_db
def test_a_finished_job_stops_polling_and_brings_back_the_whole_panel(staff_client, field):
    job = FieldJob.objects.create(
        field=field, kind=FieldJob.Kind.REROUTE, status="running", done=0, total=3
    )
    FieldJob.objects.filter(pk=job.pk).update(
        status="succeeded", done=3, message="Moved 3 predictions.", finished_at=timezone.now()
    )

    response = staff_client.get(reverse("review:field_job", args=[job.code]), **HTMX)

    assert response.headers["HX-Retarget"] == "#field-language"
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="field-panel" id="field-language"')
    assert "Done</span>" in html and "Moved 3 predictions." in html
    assert "every 1s" not in html
    assert 'id="save-language">' in html


@pytest.mark.django_db
def test_a_failed_job_says_why(staff_client, field):
    FieldJob.objects.create(
        field=field,
        kind=FieldJob.Kind.REPREDICT,
        status="failed",
        message="ModelUnavailable: the artefact is missing",
        finished_at=timezone.now(),
    )

    html = staff_client.get(DASHBOARD).content.decode()

    assert "Predicting again with the active model" in html
    assert "Failed: ModelUnavailable: the artefact is missing" in html


@pytest.mark.django_db
def test_a_job_is_for_admins_only(client, cataloguer, admin_user, field):
    job = FieldJob.objects.create(field=field, kind=FieldJob.Kind.REROUTE)
    url = reverse("review:field_job", args=[job.code])

    assert client.get(url).status_code == 302  # to the login page
    client.force_login(cataloguer)
    assert client.get(url, **HTMX).status_code == 403
    client.force_login(admin_user)
    missing = reverse("review:field_job", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing, **HTMX).status_code == 404
    # Without htmx the job's place is the field's panel on the dashboard.
    assert client.get(url).url == f"{DASHBOARD}#field-language"


@pytest.mark.django_db
def test_the_preview_says_how_many_held_out_records_its_precision_rests_on(staff_client, field):
    ModelVersionFactory(
        field=field,
        metrics={
            "precision_coverage": [
                {"threshold": 0.95, "precision": 1.0, "coverage": 0.4},
                {"threshold": 0.8, "precision": 0.97, "coverage": 0.7},
            ],
            "threshold_at_precision": {"0.95": 0.8},
            "threshold_parts": {"validation": 40, "report": 60},
            "n_test": 100,
        },
    )

    html = staff_client.get(
        reverse("review:threshold_preview", args=["language"]), {"threshold": "0.8"}, **HTMX
    ).content.decode()

    assert "On the report half of its held-out records (60 records) the active model" in html
    assert "covered 70% of them (42 records)." in html
    assert "That is few records: read the percentage as a rough guide." in html


@pytest.mark.django_db
def test_a_job_that_stopped_without_finishing_fails_on_the_dashboard_and_frees_its_button(
    staff_client, field, settings
):
    # The server restarted mid-run in the demo, where no periodic sweep runs.
    settings.GLAMML_JOB_STALE_SECONDS = 600
    job = FieldJob.objects.create(
        field=field, kind=FieldJob.Kind.REROUTE, status="running", done=1, total=3
    )
    FieldJob.objects.filter(pk=job.pk).update(touched_at=timezone.now() - timedelta(seconds=601))

    html = staff_client.get(DASHBOARD).content.decode()

    assert "Failed: Stopped without finishing (no progress since " in html
    assert "start it again." in html
    assert 'id="save-language">' in html
    assert "every 1s" not in html


@pytest.mark.django_db
def test_a_polled_job_that_stopped_brings_back_the_panel_with_the_button_on(
    staff_client, field, settings
):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    job = FieldJob.objects.create(field=field, kind=FieldJob.Kind.REPREDICT, status="running")
    FieldJob.objects.filter(pk=job.pk).update(touched_at=timezone.now() - timedelta(seconds=601))

    response = staff_client.get(reverse("review:field_job", args=[job.code]), **HTMX)

    assert response.headers["HX-Retarget"] == "#field-language"
    html = response.content.decode()
    assert "Stopped without finishing" in html
    assert ' disabled title="Wait until the re-prediction' not in html


@pytest.mark.django_db
def test_a_calibrations_model_version_shows_by_number_without_loading_its_documents(
    staff_client, field, active_model, django_assert_num_queries
):
    from catalogue.models import CollectionCalibration

    CollectionCalibration.objects.create(
        field=field, collection=CollectionFactory(name="Imported books"),
        imported_version=active_model, n_imported=40,
    )  # fmt: skip
    staff_client.get(DASHBOARD)  # warm the cached counts

    # The version's card and metrics are deferred: showing its number must not load them (a
    # deferred field read costs a query per row).
    with django_assert_num_queries(DASHBOARD_QUERIES):
        page = staff_client.get(DASHBOARD).content.decode()

    row = page[page.index("Imported books") : page.index("</tr>", page.index("Imported books"))]
    assert f'40 <span class="meta">(v{active_model.version})</span>' in row
