"""The queue from the keyboard, in a real browser: htmx swaps and the vendored shortcuts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.models import Decision, FieldValue
from tests.factories import PredictionFactory
from tests.review.browser import logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, chromium, client, cataloguer):
    """A Chromium page logged in as the cataloguer."""
    with logged_in_page(chromium, live_server, client, cataloguer) as page:
        yield page


def test_a_cataloguer_works_the_queue_from_the_keyboard(live_server, browser_page, labels):
    page = browser_page
    first = PredictionFactory(label="fra", confidence=0.3, record__identifier="rec-first")
    second = PredictionFactory(label="fra", confidence=0.4, record__identifier="rec-second")
    page.goto(live_server.url + reverse("review:queue"))

    page.keyboard.press("a")

    page.wait_for_selector(f"#item-{first.code}.is-decided")
    assert "Accepted French (fra) for rec-first" in page.text_content(f"#item-{first.code}")
    page.wait_for_function(f"document.activeElement.id === 'item-{second.code}'")
    assert "Accepted French (fra) for rec-first" in page.text_content("#review-live")

    page.keyboard.press("c")
    assert page.evaluate("document.activeElement.name") == "label"
    page.keyboard.press("Tab")
    page.keyboard.type("Italian")
    page.keyboard.press("Enter")

    page.wait_for_selector(f"#item-{second.code}.is-decided")
    assert "Corrected French (fra) → Italian (ita)" in page.text_content(f"#item-{second.code}")
    assert sorted(Decision.objects.values_list("action", "label")) == [
        ("accept", "fra"),
        ("correct", "ita"),
    ]
    assert FieldValue.objects.get(record=second.record, is_current=True).label == "ita"


def test_the_last_decision_is_undone_with_u_while_its_toast_shows(
    live_server, browser_page, labels
):
    page = browser_page
    first = PredictionFactory(label="fra", confidence=0.3, record__identifier="rec-first")
    PredictionFactory(label="fra", confidence=0.4, record__identifier="rec-second")
    page.goto(live_server.url + reverse("review:queue"))

    page.keyboard.press("a")
    page.wait_for_selector("#toast.is-visible")
    assert "Accepted French (fra) for rec-first" in page.text_content("#toast")
    assert "Press u to undo." in page.text_content("#review-live")

    page.keyboard.press("u")

    page.wait_for_selector(f"#item-{first.code}:not(.is-decided)")
    assert "Undone: rec-first waits for a decision again." in page.text_content("#toast")
    page.wait_for_function(f"document.activeElement.id === 'item-{first.code}'")
    decision = Decision.objects.get()
    assert decision.withdrawn_at is not None
    first.refresh_from_db()
    assert (first.status, first.review_round) == ("queued", 1)
    assert not FieldValue.objects.filter(record=first.record, is_current=True).exclude(label="")

    # Decided again in its new round: the keys work on the item brought back.
    page.keyboard.press("r")
    page.wait_for_selector(f"#item-{first.code}.is-decided")
    assert list(
        Decision.objects.filter(withdrawn_at=None).values_list("action", "review_round")
    ) == [("reject", 1)]


def test_number_keys_pick_a_guess_and_s_skips(live_server, browser_page, labels):
    page = browser_page
    first = PredictionFactory(
        label="fra", confidence=0.3, alternatives=[["fra", 0.3], ["ita", 0.25], ["spa", 0.2]]
    )
    second = PredictionFactory(label="fra", confidence=0.4)
    third = PredictionFactory(label="fra", confidence=0.5)
    page.goto(live_server.url + reverse("review:queue"))

    page.keyboard.press("2")
    page.wait_for_selector(f"#item-{first.code}.is-decided")
    assert "Corrected French (fra) → Italian (ita)" in page.text_content(f"#item-{first.code}")
    page.wait_for_function(f"document.activeElement.id === 'item-{second.code}'")
    page.wait_for_function(
        "document.querySelector('#queue-status .tally').textContent.includes('1 decided')"
    )

    page.keyboard.press("s")
    page.wait_for_function(f"document.activeElement.id === 'item-{third.code}'")
    page.keyboard.press("1")
    page.wait_for_selector(f"#item-{third.code}.is-decided")

    assert sorted(Decision.objects.values_list("prediction_id", "action", "label")) == sorted(
        [(first.id, "correct", "ita"), (third.id, "accept", "fra")]
    )
    second.refresh_from_db()
    assert second.status == "queued"


def test_focus_mode_shows_one_item_at_a_time(live_server, browser_page, labels):
    page = browser_page
    first = PredictionFactory(label="fra", confidence=0.3)
    second = PredictionFactory(label="fra", confidence=0.4)
    page.goto(live_server.url + reverse("review:queue") + "?view=focus")

    page.wait_for_selector(f"#item-{first.code}.is-current")
    assert page.is_visible(f"#item-{first.code}")
    assert not page.is_visible(f"#item-{second.code}")

    page.keyboard.press("a")

    page.wait_for_selector(f"#item-{second.code}.is-current")
    assert page.is_visible(f"#item-{second.code}")
    assert not page.is_visible(f"#item-{first.code}")
    assert "Accepted French (fra)" in page.text_content("#toast")


def test_on_a_phone_the_filters_fold_away_unless_one_is_set(
    live_server, chromium, client, cataloguer, labels
):
    PredictionFactory(label="fra", confidence=0.3, record__identifier="rec-first")
    queue = live_server.url + reverse("review:queue")

    with logged_in_page(chromium, live_server, client, cataloguer, width=390, height=844) as page:
        page.goto(queue)
        # The first item is on the first screen, not below eight filter boxes.
        assert not page.is_visible("#id_field")
        assert page.locator(".queue-item").first.bounding_box()["y"] < 844
        page.click(".filter-panel > summary")
        assert page.is_visible("#id_field")

        # A list narrowed or reordered keeps saying so.
        page.goto(queue + "?order=margin")
        assert page.is_visible("#id_order")
        page.goto(queue + "?q=rec")
        assert page.is_visible("#id_q")

    with logged_in_page(chromium, live_server, client, cataloguer, width=1280) as page:
        page.goto(queue)
        assert page.is_visible("#id_field")
        assert not page.is_visible(".filter-panel > summary")
