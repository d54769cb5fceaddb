"""The monitoring page in a real browser, at desktop and phone width, with real figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Alert, MonitoringPolicy, Prediction, Snapshot
from catalogue.services.monitoring.alerts import monitoring_run
from tests.catalogue.monitoring_data import watched_with_drift_and_spot_checks
from tests.review.browser import logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = (
    "chart-precision",
    "chart-drift",
    "chart-labels",
    "chart-confidence",
    "chart-live-reliability",
)


@pytest.fixture
def admin_page(live_server, chromium, client, admin_user):
    with logged_in_page(chromium, live_server, client, admin_user) as page:
        yield page


def _fits(page, width):
    """Every chart is drawn within the window and the page itself never scrolls sideways
    (wide tables scroll inside their own box)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for chart in CHARTS:
        drawn = page.locator(f"svg.{chart}").all()  # drift: one chart per comparison
        assert drawn, chart
        for svg in drawn:
            box = svg.bounding_box()
            assert box is not None, chart
            assert box["width"] > 200, chart
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, chart


def test_the_monitoring_page_reads_at_desktop_and_phone_width_and_acknowledges_in_place(
    live_server,
    admin_page,
    admin_user,
    genre,
    tmp_path,
    django_capture_on_commit_callbacks,
    cataloguer,
):
    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )
    # The British Library records a week earlier, so the page has a previous window as well.
    week_ago = timezone.now() - timedelta(days=7)
    Prediction.objects.filter(field=field).exclude(record__collection__slug="jp").update(
        created_at=week_ago
    )
    Snapshot.objects.filter(field=field).delete()
    monitoring_run(field=field)
    page = admin_page
    page.goto(live_server.url + reverse("review:monitoring_field", args=[field.key]))
    assert page.locator("svg.chart-drift").count() == 2  # against training, against previous
    assert page.get_by_role("heading", name="Against the previous window").is_visible()
    _fits(page, 1280)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _fits(page, 390)

    alert = Alert.objects.filter(field=field, collection__slug="jp").get()
    item = page.locator(f"#alert-{alert.code}")
    item.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector(f"#alert-{alert.code}.is-acknowledged")
    assert f"Acknowledged by {admin_user.username}" in item.text_content()
    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user

    page.fill("#monitoring-audit_rate", "5")
    page.get_by_role("button", name="Save monitoring settings").click()
    page.wait_for_selector("#settings .message.success")
    assert "audit_rate 0.5 → 0.05" in page.text_content("#settings")
    assert MonitoringPolicy.objects.get(field=field).audit_rate == 0.05
