"""Long admin actions in a real browser: the page returns at once, shows progress, ends done.

The demo's in-process tasks run in a thread after the response here, as in the demo
(``GLAMML_EAGER_IN_BACKGROUND``). Each test holds its task at a known point with an event, so
"the page answered while the work was still running" is shown by what the page says, not by a
clock; then lets it go and waits for the page to say how it ended.
"""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from catalogue.models import DecisionPolicy, FieldJob, Prediction, TrainingRun
from catalogue.services import predictions, rerouting
from catalogue.services.jobs import job_progress
from catalogue.services.training import runs
from tests.factories import PredictionFactory
from tests.review.browser import logged_in_page
from tests.test_accessibility_browser import blocking_issues

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 60_000


@pytest.fixture
def background(settings):
    settings.GLAMML_EAGER_IN_BACKGROUND = True


@pytest.fixture
def admin_page(live_server, chromium, client, admin_user, background):
    with logged_in_page(chromium, live_server, client, admin_user) as page:
        yield page


def save_threshold(page, live_server, threshold: str) -> None:
    """On the dashboard, type the language field's threshold and save its policy."""
    page.goto(live_server.url + reverse("review:dashboard"))
    page.fill("#id_language-threshold", threshold)
    page.click("#save-language")


class Hold:
    """Stops the background task at one point until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()

    def here(self) -> None:
        self.reached.set()
        assert self.released.wait(timeout=60)


def test_saving_a_threshold_returns_at_once_and_the_reroute_shows_its_count_until_done(
    live_server, admin_page, field, monkeypatch
):
    DecisionPolicy.objects.filter(field=field).update(mode="threshold", threshold=0.99)
    for _ in range(3):
        PredictionFactory(field=field, label="fra", confidence=0.8, status="queued")
    hold = Hold()

    def held_progress(*, job):
        note = job_progress(job=job)

        def counted(done: int, total: int) -> None:
            note(done, total)
            if done == 0:
                hold.here()

        return counted

    monkeypatch.setattr(rerouting, "job_progress", held_progress)
    page = admin_page
    save_threshold(page, live_server, "0.7")

    job = page.locator("#jobs-language .job")
    job.wait_for(timeout=WAIT_MS)
    assert hold.reached.wait(timeout=60)
    # The page answered while the re-route waits at its first count: it shows that count.
    page.locator("#jobs-language .job-count", has_text="0 of 3 (0%)").wait_for(timeout=WAIT_MS)
    assert "Re-routing waiting predictions" in job.inner_text()
    assert page.locator("#jobs-language progress").count() == 1
    assert page.locator("#save-language").is_disabled()
    assert Prediction.objects.filter(status="applied").count() == 0
    # The progress bar and its words are readable by assistive technology too.
    assert blocking_issues(page) == []

    hold.released.set()
    page.locator("#jobs-language .job-succeeded").wait_for(timeout=WAIT_MS)
    assert "Moved 3 predictions: 3 applied" in page.locator("#jobs-language").inner_text()
    assert page.locator("#save-language").is_enabled()
    assert FieldJob.objects.get().status == "succeeded"
    assert Prediction.objects.filter(status="applied").count() == 3


def test_training_returns_at_once_shows_its_stage_and_ends_with_the_new_version(
    live_server, admin_page, genre, genre_records, monkeypatch
):
    hold = Hold()
    train = runs._train

    def held_train(field, sides):
        hold.here()
        return train(field, sides)

    monkeypatch.setattr(runs, "_train", held_train)
    page = admin_page
    page.goto(live_server.url + reverse("review:dashboard") + "#field-genre")

    page.click("#train-genre")

    assert hold.reached.wait(timeout=60)
    row = page.locator("#field-genre .runs tbody tr").first
    row.locator("text=Training a candidate on").wait_for(timeout=WAIT_MS)
    assert "Running" in row.inner_text()
    assert row.locator("progress").get_attribute("value") == "20"
    assert page.locator("#train-genre").is_disabled()
    assert TrainingRun.objects.get().status == "running"

    hold.released.set()
    page.locator("#field-genre .runs .status-succeeded").wait_for(timeout=WAIT_MS)
    run = TrainingRun.objects.get()
    assert run.status == "succeeded", run.message
    versions = page.locator("#field-genre .versions").inner_text()
    assert f"v{run.model_version.version}" in versions
    assert page.locator("#train-genre").is_enabled()


def test_making_a_version_active_asks_first_then_shows_the_reprediction_until_done(
    live_server, admin_page, trained_genre, monkeypatch
):
    older = trained_genre.model_versions.exclude(status="active").order_by("version").first()
    hold = Hold()
    to_predict = predictions.records_to_predict

    def held(**kwargs):
        hold.here()
        return to_predict(**kwargs)

    monkeypatch.setattr(predictions, "records_to_predict", held)
    asked: list[str] = []
    page = admin_page
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.goto(live_server.url + reverse("review:dashboard") + "#field-genre")

    page.click(f"#promote-genre-v{older.version}")

    assert hold.reached.wait(timeout=60)
    assert asked and asked[0].startswith(f"Make v{older.version} the active genre model?")
    # (The fixture's own promotions left finished jobs on the panel: look for this one.)
    mine = FieldJob.objects.filter(field=trained_genre).latest("id")
    job = page.locator(f"#job-{mine.code}")
    job.wait_for(timeout=WAIT_MS)
    assert f"v{older.version} was made active" in job.inner_text()
    assert "Predicting again with the active model" in job.inner_text()
    assert "Done" not in job.inner_text()
    assert job.locator("progress").count() == 1

    hold.released.set()
    page.locator(f"#job-{mine.code}.job-succeeded").wait_for(timeout=WAIT_MS)
    older.refresh_from_db()
    assert older.status == "active"
    mine.refresh_from_db()
    assert mine.status == "succeeded"


def test_a_save_that_fails_on_the_server_or_cannot_reach_it_says_so(
    live_server, admin_page, field, monkeypatch
):
    """Issue 11: with DEBUG off htmx swapped nothing for a 500 and the admin saw nothing."""
    from catalogue.services import policy

    def broken(**_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(policy, "policy_update", broken)
    page = admin_page
    save_threshold(page, live_server, "0.7")

    alert = page.locator("#main > #htmx-error[role=alert]")
    alert.wait_for(timeout=WAIT_MS)
    assert "could not do that (error 500)" in alert.inner_text()
    assert "may not have been saved" in alert.inner_text()
    assert page.evaluate("document.activeElement.id") == "htmx-error"
    assert DecisionPolicy.objects.get(field=field).threshold != 0.7

    # The server out of reach: the request never arrives.
    page.route("**/policy/", lambda route: route.abort())
    page.click("#save-language")
    page.locator("#htmx-error", has_text="The server did not answer").wait_for(timeout=WAIT_MS)
    assert page.locator("#htmx-error").count() == 1  # one message, replaced
