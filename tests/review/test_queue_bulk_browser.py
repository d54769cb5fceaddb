"""Filters and bulk decisions in a real browser, and cards compact enough to review at speed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.models import Decision, Prediction
from tests.factories import PredictionFactory
from tests.review.browser import logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, chromium, client, cataloguer):
    with logged_in_page(chromium, live_server, client, cataloguer) as page:
        yield page


def test_a_cataloguer_filters_the_queue_then_accepts_what_is_left_after_confirming(
    live_server, browser_page, labels
):
    page = browser_page
    sure = [
        PredictionFactory(label="fra", confidence=c, record__identifier=f"sure-{i}")
        for i, c in enumerate((0.8, 0.85))
    ]
    PredictionFactory(label="fra", confidence=0.3, record__identifier="unsure")
    PredictionFactory(label="ita", confidence=0.9, record__identifier="italian")
    page.goto(live_server.url + reverse("review:queue"))

    page.click("#id_label")
    page.keyboard.type("French")  # real key presses: r, c and n decide nothing from a filter
    page.fill("#id_confidence_min", "70")
    page.click(".filters button[type=submit]")
    page.wait_for_function("document.querySelectorAll('.queue-item').length === 2")
    # No filter request still on its way: its answer would replace the list and close the bulk
    # panel opened below.
    page.wait_for_load_state("networkidle")
    assert "Showing 1–2 of 2 waiting that match" in page.text_content(".queue-summary")

    page.click(".bulk-start summary")
    page.click("#bulk-review")
    page.wait_for_selector("#bulk-confirm")
    assert "Accept the model's suggestion for 2 items?" in page.text_content("h1")
    assert not Decision.objects.exists()  # nothing until confirmed
    page.click("#bulk-confirm")

    page.wait_for_selector(".message.success")
    assert "Accepted 2 suggestions." in page.text_content(".message.success")
    assert "This sitting: 2 decided" in " ".join(page.text_content(".tally").split())
    assert page.locator(".queue-item").count() == 0  # the filters were kept: none left
    assert sorted(Decision.objects.values_list("prediction__record__identifier", flat=True)) == [
        p.record.identifier for p in sure
    ]
    assert Prediction.objects.filter(status="queued").count() == 2


def test_cancelling_a_bulk_decision_decides_nothing(live_server, browser_page, labels):
    page = browser_page
    PredictionFactory.create_batch(3, label="fra")
    page.goto(live_server.url + reverse("review:bulk") + "?label=fra&action=accept")

    page.click(".bulk-cancel")

    page.wait_for_selector(".queue-list")
    assert page.url.endswith(reverse("review:queue") + "?label=fra")
    assert page.locator(".queue-item").count() == 3
    assert not Decision.objects.exists()


@pytest.mark.parametrize("focus", [False, True])
def test_five_cards_fit_a_900_px_high_screen(live_server, browser_page, labels, focus):
    page = browser_page
    for i in range(8):
        PredictionFactory(
            label="fra",
            confidence=0.3 + i / 100,
            record__title="A fairly long title of a record, as catalogues have them " * 2,
        )
    url = reverse("review:queue") + ("?view=focus" if focus else "")
    page.goto(live_server.url + url)

    tops = page.evaluate(
        "[...document.querySelectorAll('.queue-item')].map(e => e.getBoundingClientRect().top)"
    )
    bottoms = page.evaluate(
        "[...document.querySelectorAll('.queue-item')].map(e => e.getBoundingClientRect().bottom)"
    )
    if focus:  # one item at a time, with its record's other fields: it fits the screen whole
        assert bottoms[0] - tops[0] <= 900
    else:
        assert bottoms[4] - tops[0] <= 900, [
            round(b - t) for t, b in zip(tops, bottoms, strict=True)
        ]
