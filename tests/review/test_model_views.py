from __future__ import annotations

import re

import pytest
from django.urls import reverse

from catalogue.models import DecisionPolicy, FieldJob, ModelVersion
from tests.factories import ModelVersionFactory, TrainingRunFactory
from tests.ml.test_cards import SECTIONS as CARD_SECTIONS
from tests.review.conftest import HTMX


def metrics(accuracy: float = 0.9, macro_f1: float = 0.8, ece: float = 0.05) -> dict:
    """Held-out metrics shaped like the ML core's ``evaluate``."""
    return {
        "n": 60,
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "ece": ece,
        "per_label": {
            "fra": {"precision": 0.95, "recall": 0.9, "f1": 0.92, "support": 40},
            "ita": {"precision": 0.6, "recall": 0.5, "f1": 0.545, "support": 12},
            "spa": {"precision": 0.7, "recall": 0.875, "f1": 0.778, "support": 8},
        },
        "confusion": {
            "fra": {"fra": 36, "ita": 4},
            "ita": {"fra": 3, "ita": 6, "spa": 3},
            "spa": {"spa": 7, "ita": 1},
        },
        "reliability": [
            {"lower": 0.4, "upper": 0.6, "n": 10, "confidence": 0.52, "accuracy": 0.5},
            {"lower": 0.8, "upper": 1.0, "n": 50, "confidence": 0.93, "accuracy": 0.9},
        ],
        "precision_coverage": [
            {"threshold": 0.97, "precision": 1.0, "coverage": 0.3},
            {"threshold": 0.9, "precision": 0.96, "coverage": 0.7},
            {"threshold": 0.4, "precision": 0.82, "coverage": 1.0},
        ],
    }


BASELINES = {
    "stratified": {"accuracy": 0.41, "macro_f1": 0.3111, "ece": 0.4},
    "majority": {"accuracy": 0.6667, "macro_f1": 0.2667, "ece": 0.33},
    "rules": {"accuracy": 0.55, "macro_f1": 0.4444, "ece": 0.45},
}


def version_url(version: ModelVersion, name: str = "review:model_version") -> str:
    return reverse(name, args=[version.code])


# --- the version page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_version_page_compares_the_model_with_the_three_baselines(staff_client, field):
    version = ModelVersionFactory(
        field=field,
        version=4,
        status=ModelVersion.Status.CANDIDATE,
        metrics={
            **metrics(),
            "active_on_same_split": {"accuracy": 0.8765, "macro_f1": 0.7654, "ece": 0.0876},
        },
        baselines=BASELINES,
        params={"C": 4.0, "word_ngrams": [1, 2]},
        n_train=240,
        n_test=60,
        size_bytes=123456,
    )
    ModelVersionFactory(field=field, version=3, status=ModelVersion.Status.ACTIVE)

    response = staff_client.get(version_url(version))

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Language model v4",
        "0.311",  # proportional guessing
        "0.267",  # majority label
        "0.444",  # rules
        "Compared with the active version on the same held-out records",
        "0.765",
        "word_ngrams",
        "120.6\xa0KB",
        "Promote to active",
        'role="img"',  # both curves are drawn as inline SVG
    ):
        assert text in html, text
    assert html.count("<svg") == 2
    page = response.context["page"]
    assert [s.key for s in page.scores] == ["model", "stratified", "majority", "rules"]
    assert [label.code for label in page.label_scores] == ["ita", "spa", "fra"]  # weakest first
    assert page.confusion.labels == ["fra", "ita", "spa"]
    assert page.confusion.rows[1] == ("ita", [3, 6, 3], 12)
    assert page.active_version.version == 3


@pytest.mark.django_db
def test_a_version_without_curves_or_baselines_still_shows(staff_client, field):
    version = ModelVersionFactory(field=field, metrics={"accuracy": 0.9}, baselines={})

    response = staff_client.get(version_url(version))

    assert response.status_code == 200
    html = response.content.decode()
    assert "No reliability curve was stored" in html
    assert "Not measured for this version" in html
    assert "made before model cards were kept" in html
    assert "<svg" not in html


@pytest.mark.django_db
def test_the_version_page_is_for_admins_only(client, cataloguer, admin_user, field):
    version = ModelVersionFactory(field=field)
    url = version_url(version)

    assert client.get(url).status_code == 302
    client.force_login(cataloguer)
    assert client.get(url).status_code == 403
    assert client.get(version_url(version, "review:model_card")).status_code == 403
    client.force_login(admin_user)
    missing = reverse("review:model_version", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_a_trained_version_shows_real_metrics_and_its_model_card(staff_client, trained_genre):
    version = trained_genre.model_versions.order_by("version").first()

    response = staff_client.get(version_url(version))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 2
    assert "Fiction" in html and "Non-fiction" in html
    for section in CARD_SECTIONS:
        assert section.lower() in html.lower(), section
    assert response.context["page"].confusion is not None


# --- the model card -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_card_downloads_as_markdown(staff_client, trained_genre):
    version = trained_genre.model_versions.order_by("version").first()

    response = staff_client.get(version_url(version, "review:model_card"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="genre-v{version.version}-model-card.md"'
    )
    text = response.content.decode()
    for section in CARD_SECTIONS:
        assert section.lower() in text.lower(), section


# --- promotion and rollback ---------------------------------------------------------------------


def promote(client, version: ModelVersion, data: dict | None = None, **extra):
    """Make a version active, confirmed (as the browser's confirmation or the page's form)."""
    data = {"confirm": "yes", **(data or {})}
    return client.post(version_url(version, "review:model_version_promote"), data, **extra)


def statuses(field) -> dict[int, str]:
    return dict(field.model_versions.values_list("version", "status"))


@pytest.mark.django_db
def test_an_admin_promotes_a_candidate(staff_client, admin_user, field):
    ModelVersionFactory(field=field, version=1, status=ModelVersion.Status.ACTIVE)
    candidate = ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.CANDIDATE)

    response = promote(staff_client, candidate)

    assert response.status_code == 302
    assert response.url == version_url(candidate)
    assert statuses(field) == {1: "retired", 2: "active"}
    candidate.refresh_from_db()
    assert candidate.promoted_by == admin_user
    assert candidate.promoted_at is not None
    assert field.model_versions.filter(status="active").count() == 1
    followed = staff_client.get(response.url).content.decode()
    assert "Language v2 is now the active model (v1 retired)" in followed
    # The re-prediction that follows is a job the dashboard shows, started by the admin.
    job = FieldJob.objects.get(field=field)
    assert (job.kind, job.started_by, job.reason) == ("repredict", admin_user, "v2 was made active")


@pytest.mark.django_db
def test_promotion_asks_for_confirmation_first_and_changes_nothing_until_then(staff_client, field):
    ModelVersionFactory(field=field, version=1, status=ModelVersion.Status.ACTIVE)
    candidate = ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.CANDIDATE)
    back = f"{reverse('review:dashboard')}#field-language"

    response = staff_client.post(
        version_url(candidate, "review:model_version_promote"), {"next": back}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Make language v2 the active model?" in html
    assert "v1 is active now and will be retired" in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert f'<input type="hidden" name="next" value="{back}">' in html
    assert statuses(field) == {1: "active", 2: "candidate"}
    assert not FieldJob.objects.exists()
    dashboard = staff_client.get(back).content.decode()
    assert 'hx-confirm="Make v2 the active language model?' in dashboard


@pytest.mark.django_db
def test_making_an_older_version_active_with_htmx_redraws_the_fields_panel(
    staff_client, admin_user, field
):
    old = ModelVersionFactory(field=field, version=1, status=ModelVersion.Status.RETIRED)
    ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.ACTIVE)

    response = promote(staff_client, old, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="field-panel" id="field-language"')
    assert "Language v1 is now the active model (v2 retired)." in html
    assert statuses(field) == {1: "active", 2: "retired"}
    old.refresh_from_db()
    assert old.promoted_by == admin_user
    # v2 is now the one offered, as "make active" (it moves forward, not back).
    assert 'Make active<span class="visually-hidden"> v2</span>' in html
    assert "Roll back" not in html
    # Its re-prediction waits for a worker: the panel polls it, and its button waits too.
    job = FieldJob.objects.get(field=field)
    assert f'hx-get="{reverse("review:field_job", args=[job.code])}" hx-trigger="every 1s"' in html
    assert 'disabled title="Wait until the re-prediction above has finished"' in html


@pytest.mark.django_db
def test_a_real_rollback_predicts_again_with_the_old_version(
    staff_client, trained_genre, django_capture_on_commit_callbacks
):
    older = trained_genre.model_versions.order_by("version").first()
    if older.status == ModelVersion.Status.ACTIVE:
        # The second run was kept as a candidate: promote it so there is something to roll back.
        newer = trained_genre.model_versions.order_by("-version").first()
        promote(staff_client, newer)
        older.refresh_from_db()
    assert older.status == ModelVersion.Status.RETIRED

    with django_capture_on_commit_callbacks(execute=True):
        response = promote(staff_client, older)

    assert response.status_code == 302
    older.refresh_from_db()
    assert older.status == ModelVersion.Status.ACTIVE
    assert trained_genre.model_versions.filter(status="active").count() == 1


@pytest.mark.django_db
def test_promoting_the_active_version_changes_nothing(staff_client, field):
    active = ModelVersionFactory(field=field, version=1, status=ModelVersion.Status.ACTIVE)

    response = promote(staff_client, active, **HTMX)

    assert "already the active model: nothing changed" in response.content.decode()
    active.refresh_from_db()
    assert active.promoted_by is None


@pytest.mark.django_db
def test_a_promotion_from_the_dashboard_returns_there(staff_client, field):
    candidate = ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.CANDIDATE)
    back = f"{reverse('review:dashboard')}#field-language"

    response = promote(staff_client, candidate, {"next": back})

    assert response.url == back
    dashboard = staff_client.get(reverse("review:dashboard")).content.decode()
    assert "Language v2 is now the active model." in dashboard


@pytest.mark.django_db
def test_a_cataloguer_may_not_promote_and_anonymous_must_log_in(
    client, cataloguer, admin_user, field
):
    active = ModelVersionFactory(field=field, version=1, status=ModelVersion.Status.ACTIVE)
    candidate = ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.CANDIDATE)

    response = promote(client, candidate)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    client.force_login(cataloguer)
    assert promote(client, candidate, **HTMX).status_code == 403
    assert statuses(field) == {1: "active", 2: "candidate"}
    client.force_login(admin_user)
    missing = reverse("review:model_version_promote", args=["00000000-0000-0000-0000-000000000000"])
    assert client.post(missing).status_code == 404
    assert client.get(version_url(candidate, "review:model_version_promote")).status_code == 405
    active.refresh_from_db()
    assert active.status == ModelVersion.Status.ACTIVE


@pytest.mark.django_db
def test_the_model_card_says_what_monitoring_watches_only_once_it_does(
    staff_client, genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    from catalogue.models import Snapshot
    from tests.catalogue.monitoring_data import watched_with_drift_and_spot_checks

    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )
    version = field.model_versions.get(status="active")
    watched = staff_client.get(version_url(version, "review:model_card")).content.decode()
    page = staff_client.get(version_url(version)).content.decode()
    Snapshot.objects.all().delete()
    unwatched = staff_client.get(version_url(version, "review:model_card")).content.decode()

    assert "\n## Monitoring\n\nWatched since **" in watched
    assert "Spot checks: 50% of the values it applies on its own" in watched
    # 20 of 30 confirmed lies below the held-out precision: the row is the one to notice.
    assert "| **Live precision (spot checks)** | 67% (20 of 30; 95% Wilson interval 49%–81%) |" in (
        watched
    )
    assert re.search(
        r"\| \*\*Script against the training records\*\* \| 0\.\d{3} \(crossed\) \| 0\.20 \|",
        watched,
    )
    assert "<h3>Monitoring</h3>" in page
    assert "Not monitored yet: no monitoring snapshot has been taken" in unwatched
    assert "Watched since" not in unwatched


@pytest.mark.django_db
def test_a_retired_versions_card_says_nothing_watches_it_and_what_its_spot_checks_found(
    staff_client, genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    from catalogue.services.training.promotion import model_version_promote
    from tests.catalogue.monitoring_data import watched_with_drift_and_spot_checks

    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )
    watched = field.model_versions.get(status="active")
    newer = ModelVersionFactory(field=field, version=watched.version + 1, status="candidate")
    model_version_promote(version=newer, promoted_by=None)

    retired = staff_client.get(version_url(watched, "review:model_card")).content.decode()
    current = staff_client.get(version_url(newer, "review:model_card")).content.decode()

    assert "This version is not live, so nothing watches its predictions now" in retired
    # Its own spot checks, kept: 20 of the 30 decided were confirmed.
    assert "While it was live, spot checks confirmed 67% (20 of 30;" in retired
    assert "Watched since" not in retired and "open alert" not in retired
    # The newly live version has no snapshot of its own yet: it does not inherit the old figures.
    assert "Not monitored yet: no monitoring snapshot has been taken" in current
    assert "spot checks confirmed" not in current


@pytest.mark.django_db
def test_the_page_says_how_a_version_was_made_and_its_parameters_in_words(staff_client, field):
    version = ModelVersionFactory(
        field=field,
        version=2,
        created_by=None,
        params={"word_ngrams": [1, 2], "calibration": {"method": "temperature", "t": 0.63520161}},
    )
    TrainingRunFactory(field=field, status="succeeded", model_version=version, trigger="manual")

    html = staff_client.get(version_url(version)).content.decode()

    assert "</time> in a training run started by hand" in html
    assert "by started by a person" not in html
    assert "<dd>1, 2</dd>" in html
    # (PostgreSQL keeps a JSON object's keys in its own order.)
    assert re.search(
        r"<dd>(method: temperature; t: 0\.6352|t: 0\.6352; method: temperature)</dd>", html
    )
    assert "[1, 2]" not in html and "{&#x27;method" not in html


@pytest.mark.django_db
def test_the_card_and_the_page_give_the_threshold_the_field_has_now(staff_client, field):
    version = ModelVersionFactory(
        field=field,
        version=2,
        metrics=metrics(),
        card={
            "field": {"key": "language", "name": "Language"},
            "version": 2,
            "routing": {"mode": "threshold", "threshold": 0.9},
        },
    )
    DecisionPolicy.objects.filter(field=field).update(mode="threshold", threshold=0.75)

    html = staff_client.get(version_url(version)).content.decode()
    card = staff_client.get(version_url(version, "review:model_card")).content.decode()

    assert "The marked point is the field's threshold, 0.75." in html
    assert "Accept threshold: 0.75." in html
    assert "Accept threshold: 0.75." in card
    assert "0.90" not in card


@pytest.mark.django_db
def test_another_version_waits_while_a_reprediction_runs(staff_client, field):
    ModelVersionFactory(field=field, version=1, status=ModelVersion.Status.ACTIVE)
    candidate = ModelVersionFactory(field=field, version=2, status=ModelVersion.Status.CANDIDATE)
    FieldJob.objects.create(field=field, kind=FieldJob.Kind.REPREDICT, status="running")

    html = staff_client.get(version_url(candidate)).content.decode()

    assert '<button type="submit" id="promote" disabled aria-describedby="promote-busy">' in html
    assert "Waits until the re-prediction running now ends" in html
