"""axe-core, run in a real Chromium on every screen, finds no serious or critical issue.

axe-playwright-python bundles axe-core (no CDN). Public, cataloguer and admin screens are
checked with data on them: a waiting and a flagged item, a trained field with two versions,
a model value a visitor can confirm or flag, and an alert.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from catalogue.models import Alert, ModelVersion
from tests.conftest import train
from tests.factories import FlagFactory, PredictionFactory, RecordFactory, applied_prediction
from tests.review.browser import logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = ("serious", "critical")


@pytest.fixture
def screens(genre, genre_records, field):
    """Every page of the app, with something on each."""
    first = train(genre)
    assert first.status == "succeeded", first.message
    record = RecordFactory(identifier="bl-000123", title="Histoire de la littérature")
    waiting = PredictionFactory(record=record, field=field, label="fra")
    flagged = PredictionFactory(label="ita", flagged=True, routed_by="flag")
    FlagFactory(record=flagged.record, prediction=flagged, proposed_label="spa", comment="No.")
    shown = applied_prediction(field=field, label="deu", confidence=0.91)
    version = ModelVersion.objects.filter(field=genre).first()
    alert = Alert.objects.create(
        field=genre,
        kind=Alert.Kind.DRIFT,
        day=date.today(),
        window_start=date.today(),
        message="Input drift",
    )
    return [
        reverse("catalogue:home"),
        reverse("catalogue:home") + "?q=Histoire",
        reverse("catalogue:collection", args=[record.collection.slug]),
        reverse("catalogue:record", args=[shown.record.code]),
        reverse("catalogue:record", args=[record.code]),
        "/no/such/page/",
        reverse("review:queue"),
        reverse("review:queue") + "?view=focus",
        reverse("review:item", args=[waiting.code]),
        reverse("review:flags"),
        reverse("review:dashboard"),
        reverse("review:model_version", args=[version.code]),
        reverse("review:training_run", args=[first.code]),
        reverse("review:experiments"),
        reverse("review:field_create"),
        reverse("review:field_rules", args=[genre.key]),
        reverse("review:field_collections", args=[genre.key]),
        reverse("review:field_model_params", args=[genre.key]),
        reverse("review:monitoring"),
        reverse("review:monitoring_field", args=[genre.key]),
        reverse("review:monitoring_alert", args=[alert.code]),
    ]


def blocking_issues(page) -> list[str]:
    """axe's serious and critical violations on the page, one line per element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("width", [1280, 390])
def test_no_screen_has_a_serious_or_critical_accessibility_issue(
    live_server, chromium, client, admin_user, screens, width
):
    found = {}
    with logged_in_page(chromium, live_server, client, admin_user, width=width) as page:
        for path in screens:
            page.goto(live_server.url + path)
            issues = blocking_issues(page)
            if issues:
                found[path] = issues
    assert found == {}


def test_the_login_page_and_a_public_record_have_none_for_a_visitor(live_server, chromium, field):
    shown = applied_prediction(field=field, label="deu", confidence=0.91)
    found = {}
    with chromium.context() as context:  # no session cookie: a visitor
        page = context.new_page()
        for path in (reverse("login"), reverse("catalogue:record", args=[shown.record.code])):
            page.goto(live_server.url + path)
            issues = blocking_issues(page)
            if issues:
                found[path] = issues
    assert found == {}
