from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from catalogue.models import Alert, MonitoringPolicy, PolicyChange, TrainingRun
from tests.catalogue.monitoring_data import watched_with_drift_and_spot_checks
from tests.factories import CollectionFactory, LabelFactory, PredictionFactory
from tests.review.conftest import HTMX

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("review:monitoring")


def field_url(key="language"):
    return reverse("review:monitoring_field", args=[key])


def settings_url(key="language"):
    return reverse("review:monitoring_settings", args=[key])


def an_alert(field, **kwargs):
    defaults = {
        "kind": Alert.Kind.DRIFT,
        "day": datetime.date(2026, 3, 2),
        "window_start": datetime.date(2026, 2, 24),
        "message": "Drift in Language in Japanese: script against the training records: 1.00.",
        "details": {
            "script": {"distance": 1.0, "line": 0.2, "p_value": 1e-9, "n": 100, "n_reference": 300}
        },
    }
    defaults.update(kwargs)
    return Alert.objects.create(field=field, **defaults)


def settings_data(**changes):
    data = {
        "audit_rate": "2",
        "window_days": "7",
        "min_records": "50",
        "drift_threshold": "0.2",
        "precision_alerts": "on",
        "flags_per_thousand": "",
        "on_alert": "propose",
        "email_to": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_page_shows_each_figure_as_a_chart_with_its_numbers_beside_it(
    client, admin_user, genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )
    client.force_login(admin_user)

    page = client.get(field_url(field.key)).content.decode()

    for chart in (
        "chart-precision",
        "chart-drift",
        "chart-labels",
        "chart-confidence",
        "chart-live-reliability",
    ):
        assert f'class="chart {chart}"' in page, chart
    assert "Watched since" in page
    assert "People confirmed <strong>67% (20 of 30; 95% Wilson interval" in page
    assert '<abbr title="Script against the training records">Script</abbr>' in page
    assert "▲" in page  # a crossing, said in the table, not only drawn
    assert "Drift in Genre in Japanese" in page  # the open alert
    # The day's corrections, and how many named a label the model cannot predict.
    assert '<td>10 <span class="meta">(0)</span></td>' in page
    japanese = client.get(field_url(field.key) + "?collection=jp").content.decode()
    assert 'Monitoring: Genre <span class="meta">in Japanese</span>' in japanese


def test_only_admins_may_see_or_change_monitoring(client, field, visitor, cataloguer, admin_user):
    alert = an_alert(field)
    pages = [OVERVIEW, field_url(), reverse("review:monitoring_alert", args=[alert.code])]
    actions = [
        settings_url(),
        reverse("review:monitoring_alert_acknowledge", args=[alert.code]),
        reverse("review:monitoring_alert_retrain", args=[alert.code]),
    ]
    for url in pages:
        assert client.get(url).status_code == 302  # to the login page
    for user in (visitor, cataloguer):
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 403, url
        for url in actions:
            assert client.post(url, settings_data()).status_code == 403, url
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
    assert not TrainingRun.objects.exists()
    client.force_login(admin_user)
    for url in pages:
        assert client.get(url).status_code == 200, url
    assert client.get(field_url("no-such-field")).status_code == 404
    missing = reverse("review:monitoring_alert", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing).status_code == 404
    assert client.get(settings_url()).status_code == 405


def test_settings_are_saved_with_who_changed_them(client, field, admin_user):
    client.force_login(admin_user)

    response = client.post(
        settings_url(), settings_data(audit_rate="5", email_to="curator@example.org")
    )

    assert response.status_code == 302
    policy = MonitoringPolicy.objects.get(field=field)
    assert (policy.audit_rate, policy.email_to) == (0.05, "curator@example.org")
    logged = PolicyChange.objects.filter(attribute="monitoring.audit_rate").get()
    assert (logged.old_value, logged.new_value, logged.changed_by) == (0.02, 0.05, admin_user)
    same = settings_data(audit_rate="5", email_to="curator@example.org")
    partial = client.post(settings_url(), same, **HTMX)
    assert partial.status_code == 200
    assert "Nothing changed" in partial.content.decode()
    assert "<html" not in partial.content.decode()


def test_a_bad_setting_is_refused_with_a_message_and_changes_nothing(client, field, admin_user):
    client.force_login(admin_user)
    client.post(settings_url(), settings_data(audit_rate="3"))

    response = client.post(settings_url(), settings_data(audit_rate="3", email_to="not an address"))
    partial = client.post(settings_url(), settings_data(drift_threshold="3"), **HTMX)

    assert response.status_code == 422
    assert "&#x27;not an address&#x27; is not an e-mail address." in response.content.decode()
    assert partial.status_code == 422
    assert "Ensure this value is less than or equal to 1.0." in partial.content.decode()
    policy = MonitoringPolicy.objects.get(field=field)
    assert (policy.audit_rate, policy.email_to, policy.drift_threshold) == (0.03, "", 0.2)


def test_an_alert_is_acknowledged_once_from_the_page(client, field, admin_user):
    alert = an_alert(field)
    url = reverse("review:monitoring_alert_acknowledge", args=[alert.code])
    client.force_login(admin_user)

    response = client.post(url, {"next": field_url()})
    again = client.post(url, **HTMX)

    assert response.status_code == 302
    assert response["Location"] == field_url()
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user
    assert again.status_code == 409
    body = again.content.decode()
    assert f"acknowledged by {admin_user.username}" in body
    assert f"Acknowledged by {admin_user.username}" in body
    page = client.get(field_url()).content.decode()
    assert "Acknowledged alerts (1)" in page
    assert "No open alerts." in page


def test_retraining_from_an_alert_opens_a_run_that_says_why(client, field, admin_user):
    alert = an_alert(field)
    client.force_login(admin_user)

    response = client.post(reverse("review:monitoring_alert_retrain", args=[alert.code]))

    run = TrainingRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("review:training_run", args=[run.code])
    assert run.trigger == "monitoring"
    assert run.started_by == admin_user
    page = client.get(response["Location"]).content.decode()
    assert "Why it ran" in page
    assert "Drift alert of 2026-03-02: Drift in Language in Japanese" in page


def test_the_alert_page_lists_the_records_behind_a_drift(client, field, admin_user):
    japanese = CollectionFactory(slug="jp", name="Japanese")
    other = CollectionFactory(slug="en", name="English")
    LabelFactory(field=field, code="jpn", name="Japanese")
    inside = PredictionFactory(record__collection=japanese, record__title="夏帽子", label="jpn")
    PredictionFactory(record__collection=other, record__title="Old Dorset")
    day = inside.created_at.date()
    alert = an_alert(field, collection=japanese, day=day, window_start=day)
    client.force_login(admin_user)

    page = client.get(reverse("review:monitoring_alert", args=[alert.code])).content.decode()

    assert "夏帽子" in page
    assert "<td>Japanese (jpn)</td>" in page  # the label by name, its code once
    assert "Old Dorset" not in page
    assert "What crossed which line" in page
    assert "1.000 (p &lt; 0.001)" in page  # not "p 1e-09"
    partial = client.get(reverse("review:monitoring_alert", args=[alert.code]), **HTMX)
    assert "<html" not in partial.content.decode()


def test_the_dashboard_shows_open_alerts_and_links_to_monitoring(client, field, admin_user):
    an_alert(field)
    client.force_login(admin_user)

    page = client.get(reverse("review:dashboard")).content.decode()

    assert "1 open monitoring alert" in page
    assert f'href="{OVERVIEW}"' in page


def test_a_spot_check_says_in_the_queue_why_it_is_there(client, field, cataloguer):
    PredictionFactory(status="queued", routed_by="spot-check")
    client.force_login(cataloguer)

    page = client.get(reverse("review:queue")).content.decode()

    assert "A spot check: a random sample of values the model applied on its own." in page


def test_the_dashboard_sets_live_precision_beside_the_held_out_estimate(
    client, admin_user, genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )
    client.force_login(admin_user)

    page = client.get(reverse("review:dashboard")).content.decode()

    # The field's threshold panel: the held-out estimate, then what spot checks found live.
    start = page.index(f'id="preview-{field.key}-result"')
    panel = page[start : page.index("</div>", page.index("live-estimate", start))]
    held_out = panel.index("the active model was right <strong>")
    live = panel.index(
        "Spot checks of what the active model applied: people confirmed "
        "<strong>67% (20 of 30; 95% Wilson interval"
    )
    assert held_out < live
    assert f'href="{field_url(field.key)}"' in panel[live:]
