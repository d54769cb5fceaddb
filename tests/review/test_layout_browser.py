"""Every screen fits a phone (390 px) and a desktop (1280 px): wide tables scroll inside
their own box, long identifiers, hashes and URLs wrap, and the page never scrolls sideways."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.models import ModelVersion
from catalogue.services.values import value_set
from tests.factories import CollectionFactory, FlagFactory, PredictionFactory, RecordFactory
from tests.review.browser import logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_IDENTIFIER = (
    "http://info.smedu.fi/kirjasto/Sarja_D/D2_2018_raportti_liitteineen_ja_tiivistelma.pdf"
)


@pytest.fixture
def screens(trained_genre, labels):
    """The pages an admin and a cataloguer use, with a record whose identifier is a long URL."""
    record = RecordFactory(identifier=LONG_IDENTIFIER, extra={"url": LONG_IDENTIFIER * 2})
    prediction = PredictionFactory(record=record, label="fra", flagged=True, routed_by="flag")
    FlagFactory(record=record, prediction=prediction, proposed_label="ita", comment="x" * 300)
    version = ModelVersion.objects.filter(field=trained_genre).first()
    run = trained_genre.training_runs.first()
    return [
        reverse("review:queue"),
        reverse("review:queue") + "?view=focus",
        reverse("review:item", args=[prediction.code]),
        reverse("review:flags"),
        reverse("review:dashboard"),
        reverse("review:model_version", args=[version.code]),
        reverse("review:training_run", args=[run.code]),
        reverse("review:experiments"),
        reverse("review:field_rules", args=[trained_genre.key]),
        reverse("review:bulk") + "?action=accept&label=fra",
        reverse("catalogue:home"),
        reverse("catalogue:collection", args=[record.collection.slug]),
        reverse("catalogue:record", args=[record.code]),
        "/no/such/page/",
    ]


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_is_wider_than_the_window(
    live_server, chromium, client, admin_user, screens, width
):
    too_wide = {}
    with logged_in_page(chromium, live_server, client, admin_user, width=width) as page:
        for path in screens:
            page.goto(live_server.url + path)
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                too_wide[path] = scroll_width
        # The flags table shows every column, without a sideways scroll inside its box: on a
        # phone each flag becomes a small block, each value labelled by its column.
        page.goto(live_server.url + reverse("review:flags"))
        box = page.locator(".flags-table").locator("xpath=..")
        hidden = box.evaluate("el => el.scrollWidth - el.clientWidth")
    assert too_wide == {}
    assert hidden <= 0


@pytest.mark.parametrize("width", [390, 1280])
def test_a_long_identifier_leaves_the_items_title_in_view(
    live_server, chromium, client, cataloguer, labels, width
):
    PredictionFactory(
        label="fra", record__identifier=LONG_IDENTIFIER, record__title="Tuntematon turbiini"
    )
    with logged_in_page(chromium, live_server, client, cataloguer, width=width) as page:
        page.goto(live_server.url + reverse("review:queue"))
        # How far the title runs past its heading's edge, and how many of its lines are cut.
        cut = page.evaluate(
            """() => {
                const title = document.querySelector('.queue-item .item-head .title');
                const heading = title.closest('h2').getBoundingClientRect();
                const box = title.getBoundingClientRect();
                return [box.right - heading.right, title.scrollHeight - title.clientHeight];
            }"""
        )
        identifier = page.locator(".queue-item .item-head .identifier").first
        assert identifier.get_attribute("title") == LONG_IDENTIFIER
    assert cut[0] <= 0.5
    assert cut[1] <= 1


@pytest.mark.parametrize("width", [390, 1280])
def test_a_collection_list_with_long_identifiers_shows_every_column(
    live_server, chromium, client, admin_user, field, width
):
    """FinGreyLit's handle URLs once pushed Title and the value off a 1280 px screen."""
    collection = CollectionFactory()
    for n in range(3):
        record = RecordFactory(collection=collection, identifier=f"{LONG_IDENTIFIER}?page={n}")
        value_set(record=record, field=field, label="fin", source="import")
    with logged_in_page(chromium, live_server, client, admin_user, width=width) as page:
        page.goto(live_server.url + reverse("catalogue:collection", args=[collection.slug]))
        box = page.locator(".table-wrap").first
        hidden = box.evaluate("el => el.scrollWidth - el.clientWidth")
        page_width = page.evaluate("document.documentElement.scrollWidth")
        # The title and the language of the first record are on the screen.
        cells = [
            page.locator(f"td[data-label='{column}']").first.bounding_box()
            for column in ("Title", field.name)
        ]
    assert hidden <= 0
    assert page_width <= width
    assert all(c is not None and c["width"] > 0 and c["x"] + c["width"] <= width for c in cells)
