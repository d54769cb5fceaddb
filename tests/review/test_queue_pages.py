"""Keyset pages of the review queue, the cached waiting counts, and the query plans behind them."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue.counts import WAITING_KEY, waiting_count, waiting_forget
from catalogue.models import Prediction, Record
from catalogue.services.decisions import decision_make, decision_undo
from review.selectors import queue_page
from review.selectors import queue_pages as pages
from tests.factories import (
    CollectionFactory,
    ModelVersionFactory,
    PredictionFactory,
    RecordFactory,
)

QUEUE = reverse("review:queue")
ORDERS = {
    "uncertainty": lambda p: (not p.flagged, p.confidence, p.id),
    "margin": lambda p: (not p.flagged, p.margin, p.confidence, p.id),
    "random": lambda p: (not p.flagged, p.audit_rank, p.id),
}


def waiting_in_order(order: str) -> list[int]:
    waiting = Prediction.objects.filter(status=Prediction.Status.QUEUED)
    return [p.id for p in sorted(waiting, key=ORDERS[order])]


def page_ids(page) -> list[int]:
    return [item.prediction.id for item in page.items]


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 3, so a handful of items spans several pages and the flagged/unflagged edge."""
    monkeypatch.setattr(pages, "QUEUE_PAGE_SIZE", 3)
    return 3


@pytest.fixture
def mixed_queue(field):
    """Eight waiting items (four flagged, ties in confidence), and one already applied."""
    for i in range(8):
        PredictionFactory(
            confidence=[0.5, 0.5, 0.2, 0.9][i % 4],
            margin=(i * 0.37) % 1,
            audit_rank=(i * 0.61) % 1,
            flagged=i % 2 == 0,
        )
    PredictionFactory(status=Prediction.Status.APPLIED, confidence=0.01)


@pytest.mark.django_db
@pytest.mark.parametrize("order", ORDERS)
def test_following_next_walks_the_whole_queue_in_order_once(small_pages, mixed_queue, order):
    seen, page = [], queue_page(order=order)
    numbers = [page.number]
    while True:
        seen += page_ids(page)
        if not page.has_next:
            break
        page = queue_page(order=order, number=page.next_page_number, after=page.next_cursor)
        numbers.append(page.number)

    assert seen == waiting_in_order(order)
    assert numbers == [1, 2, 3]
    assert page.num_pages == 3 and page.count == 8


@pytest.mark.django_db
@pytest.mark.parametrize("order", ORDERS)
def test_any_page_can_be_asked_for_by_number(small_pages, mixed_queue, order):
    expected = waiting_in_order(order)

    for number in (1, 2, 3):
        page = queue_page(order=order, number=number)
        assert page_ids(page) == expected[(number - 1) * 3 : number * 3]
        assert page.start_index == (number - 1) * 3 + 1


@pytest.mark.django_db
def test_a_decision_on_one_page_does_not_make_the_next_skip_an_item(
    small_pages, mixed_queue, cataloguer
):
    expected = waiting_in_order("uncertainty")
    first = queue_page()

    decision_make(prediction=first.items[0].prediction, reviewer=cataloguer, action="accept")
    second = queue_page(number=2, after=first.next_cursor)

    assert page_ids(second) == expected[3:6]


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["nonsense", "n_0.5", "x_0.5_3", "n_nan_3", "n_0.5_abc"])
def test_a_cursor_that_is_not_one_shows_the_first_page(small_pages, mixed_queue, after):
    page = queue_page(after=after)

    assert page.number == 1
    assert page_ids(page) == waiting_in_order("uncertainty")[:3]


@pytest.mark.django_db
def test_a_page_past_the_end_shows_the_last_one(small_pages, mixed_queue):
    page = queue_page(number=99)

    assert page.number == 3
    assert page_ids(page) == waiting_in_order("uncertainty")[6:]


@pytest.mark.django_db
def test_the_next_link_carries_the_cursor_and_the_filters(cataloguer_client, field):
    collection = CollectionFactory(slug="maps")
    for _ in range(27):
        PredictionFactory(record=RecordFactory(collection=collection))

    first = cataloguer_client.get(QUEUE, {"collection": "maps", "order": "margin"})
    link = first.context["page"].next_cursor
    second = cataloguer_client.get(
        QUEUE, {"collection": "maps", "order": "margin", "page": 2, "after": link}
    )

    assert f"after={link}" in first.text
    assert "collection=maps" in first.text.split('rel="next"')[0].rsplit("href=", 1)[1]
    assert len(second.context["items"]) == 2
    assert "Showing 26–27 of 27 waiting" in second.text
    assert "Page 2 of 2" in second.text


@pytest.mark.django_db
def test_waiting_counts_are_cached_and_a_decision_moves_them_at_once(
    field, cataloguer, django_assert_num_queries
):
    predictions = PredictionFactory.create_batch(3)
    assert waiting_count() == 3

    PredictionFactory.create_batch(2)  # bulk work shows when the count is next made...
    decision_make(prediction=predictions[0], reviewer=cataloguer, action="accept")

    with django_assert_num_queries(0):  # ...a person's decision moves the cached one
        assert waiting_count() == 2
        assert waiting_count(field_id=field.id) == 2
    decision_undo(prediction=predictions[0], reviewer=cataloguer, review_round=0)
    with django_assert_num_queries(0):
        assert waiting_count() == 3


@pytest.mark.django_db
def test_an_expired_count_is_made_again_by_one_request_the_others_get_the_last(
    field, settings, django_assert_num_queries
):
    PredictionFactory.create_batch(2)
    assert waiting_count() == 2
    PredictionFactory()
    waiting_forget()  # as when GLAMML_COUNTS_SECONDS have passed

    cache.add(f"{WAITING_KEY}:counting", 1)  # another request is counting
    with django_assert_num_queries(0):
        assert waiting_count() == 2
    cache.delete(f"{WAITING_KEY}:counting")
    with django_assert_num_queries(1):
        assert waiting_count() == 3


# -- the plans behind the pages, on PostgreSQL --------------------------------------------------


def plan_of(sql: str) -> str:
    """The plan PostgreSQL picks when it may not read a whole table or bitmap (a tiny test
    table favours those; at a million rows the ordered index range is what a page costs least
    with). A sort left in the plan means no index serves the order."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return " > ".join(_nodes(plan[0]["Plan"]))


def _nodes(node: dict) -> list[str]:
    """``["Limit", "Index Scan on prediction_waiting_conf"]``: each node and its index."""
    here = node["Node Type"] + (f" on {node['Index Name']}" if "Index Name" in node else "")
    return [here] + [n for child in node.get("Plans", []) for n in _nodes(child)]


def page_queries(**kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        queue_page(**kwargs)
    # The page's own reads of the predictions (not the cached counts).
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "catalogue_prediction"') and "COUNT(" not in q["sql"]
    ]


@pytest.fixture
def analysed_queue(field):
    """120 waiting items, a tenth of them in a small collection (returned), and 20 applied."""
    large, small = CollectionFactory(), CollectionFactory()
    version = ModelVersionFactory(field=field)
    # Written in two statements, as the prediction batches write them (one object at a time
    # through the factories was most of these eleven tests' CPU).
    records = Record.objects.bulk_create(
        RecordFactory.build(collection=small if i % 10 == 0 else large) for i in range(120)
    )
    Prediction.objects.bulk_create(
        PredictionFactory.build(
            record=record,
            field=field,
            model_version=version,
            confidence=(i * 0.13) % 1,
            flagged=i % 20 == 0,
        )
        for i, record in enumerate(records)
    )
    PredictionFactory.create_batch(
        20, status=Prediction.Status.APPLIED, field=field, model_version=version
    )
    # As after a bulk load: statistics, and a visibility map that lets an index answer alone
    # (VACUUM runs outside a transaction, hence the transactional tests below).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalogue_prediction")
    return small


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("order", "index"),
    [("uncertainty", "conf"), ("margin", "margin"), ("random", "audit")],
)
@pytest.mark.parametrize("narrowed", ["all", "field", "collection"])
def test_each_queue_order_reads_its_partial_index_without_sorting(
    small_pages, analysed_queue, field, order, index, narrowed
):
    kwargs = {
        "order": order,
        "field": field if narrowed == "field" else None,
        "collection": analysed_queue if narrowed == "collection" else None,
    }
    first = queue_page(**kwargs)
    deep = queue_page(**kwargs, number=2, after=first.next_cursor)
    assert deep.items

    # Every prediction here belongs to one field, so for a one-field page the all-fields index of
    # the order serves as well as the field's own, and the planner picks either by statistics.
    # A collection's page reads the collection's range only: not the whole queue, filtered.
    names = {
        "all": [f"prediction_waiting_{index}"],
        "field": [f"prediction_waiting_{index}", f"prediction_waiting_f_{index}"],
        "collection": [f"prediction_waiting_c_{index}"],
    }[narrowed]
    for sql in (
        page_queries(**kwargs, number=2, after=first.next_cursor)[:1]
        + page_queries(**kwargs, number=3)[:2]
    ):
        plan = plan_of(sql)
        scans = [node.split(" on ")[-1] for node in plan.split(" > ") if " Scan on " in node]
        assert set(scans) & set(names), (plan, sql)
        assert "Sort" not in plan, (plan, sql)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_collection", [False, True])
def test_a_page_by_number_finds_its_start_in_the_index_alone(
    small_pages, analysed_queue, in_collection
):
    collection = analysed_queue if in_collection else None
    start, _ = page_queries(number=2, collection=collection)

    plan = plan_of(start)

    index = "prediction_waiting_c_conf" if in_collection else "prediction_waiting_conf"
    assert f"Index Only Scan on {index}" in plan, plan


@pytest.mark.django_db
def test_counting_the_queue_never_reads_the_whole_table_per_request(cataloguer_client, field):
    PredictionFactory.create_batch(2)
    cataloguer_client.get(QUEUE)

    with CaptureQueriesContext(connection) as queries:
        cataloguer_client.get(QUEUE)

    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
