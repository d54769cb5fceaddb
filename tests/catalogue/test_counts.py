"""Counts that cost the same at any size, and the search plans behind the public pages."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue import counts, selectors
from catalogue.models import Collection
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory

pytestmark = pytest.mark.django_db


def test_an_estimate_is_shown_rounded_as_about():
    assert counts.about(227_431) == "227,000"
    assert counts.about(1_234) == "1,230"
    assert counts.about(87) == "87"


@pytest.mark.postgres
def test_a_large_result_is_estimated_not_counted(client, monkeypatch):
    monkeypatch.setattr(counts, "EXACT_UP_TO", 5)
    collection = CollectionFactory(slug="books")
    RecordFactory.create_batch(12, collection=collection, title="A voyage")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("catalogue:home"), {"q": "voyage"})

    total = response.context["page"].paginator.total
    assert total.estimated and total.n >= 6
    assert f"about {counts.about(total.n)} records match" in response.text
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)
    # A capped count reads at most EXACT_UP_TO + 1 rows; no COUNT(*) over every match.
    assert all("LIMIT 6" in q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"])


def test_a_small_result_is_counted_exactly(client):
    collection = CollectionFactory(slug="books")
    RecordFactory.create_batch(3, collection=collection, title="A voyage")

    response = client.get(reverse("catalogue:home"), {"q": "voyage"})

    assert not response.context["page"].paginator.estimated
    assert "3 records match" in response.text


def test_the_collection_page_takes_its_count_from_the_cached_summaries(client):
    collection = CollectionFactory(slug="books")
    RecordFactory.create_batch(3, collection=collection)
    client.get(reverse("catalogue:home"))  # counts the summaries once
    RecordFactory(collection=collection)  # counted in the summaries next time

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("catalogue:collection", args=["books"]))

    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # A count behind the catalogue hides nothing: the page shows every record it holds.
    assert len(response.context["rows"]) == 4
    assert "Showing 1–4 of 4" in response.text


def test_a_search_never_counts_the_collection_summaries(client):
    CollectionFactory(slug="books", name="Early printed books")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("catalogue:home"), {"q": "voyage"})

    assert "Early printed books" in response.text  # the card, without counts
    assert not [q for q in queries.captured_queries if "catalogue_fieldvalue" in q["sql"]]
    assert "Applied by a model" not in response.text


# -- counted again after the response ------------------------------------------------------------

AFTER_RESPONSE = "glamml_counts_request_finished"


def get_split(client, url, params=None) -> tuple[object, list[str], list[str]]:
    """A GET, and its SQL split where the response was sent: before it, inside the request
    (what the client waits for), and after it (``request_finished``, as a WSGI server sends it
    once the response is written)."""
    sent: list[int] = []
    with CaptureQueriesContext(connection) as queries:
        # Marks the moment the response is sent, just before the counts' own receiver runs.
        request_finished.disconnect(dispatch_uid=AFTER_RESPONSE)
        request_finished.connect(
            lambda **kw: sent.append(len(queries)), weak=False, dispatch_uid="sent"
        )
        request_finished.connect(counts._on_request_finished, dispatch_uid=AFTER_RESPONSE)
        try:
            response = client.get(url, params or {})
        finally:
            request_finished.disconnect(dispatch_uid="sent")
    sql = [q["sql"] for q in queries.captured_queries]
    return response, sql[: sent[0]], sql[sent[0] :]


def counting(sql: list[str], table: str) -> list[str]:
    return [q for q in sql if "COUNT(" in q.upper() and table in q]


def make_stale(key: str) -> None:
    """As when ``GLAMML_COUNTS_SECONDS`` have passed since the count was made."""
    entry = cache.get(key)
    entry["at"] -= 3600
    cache.set(key, entry)


def test_a_stale_summary_is_served_and_counted_again_after_the_response(client):
    collection = CollectionFactory(slug="books")
    RecordFactory.create_batch(3, collection=collection)
    home = reverse("catalogue:home")

    cold, in_request, _ = get_split(client, home)  # no count yet: the request counts
    assert counting(in_request, "catalogue_record")
    assert "<strong>3</strong> records" in cold.text
    RecordFactory(collection=collection)
    make_stale(counts.SUMMARIES_KEY)

    stale, in_request, after = get_split(client, home)

    assert "<strong>3</strong> records" in stale.text  # the last count, served as it is
    assert not counting(in_request, "catalogue_record"), in_request
    assert counting(after, "catalogue_record")
    fresh, in_request, after = get_split(client, home)
    assert "<strong>4</strong> records" in fresh.text
    assert not counting(in_request + after, "catalogue_record")


def test_a_stale_waiting_count_is_served_and_counted_again_after_the_response(
    client, cataloguer, field
):
    client.force_login(cataloguer)
    PredictionFactory.create_batch(2)
    queue = reverse("review:queue")
    get_split(client, queue)
    PredictionFactory()  # bulk work: shows at the next count
    make_stale(counts.WAITING_KEY)

    stale, in_request, after = get_split(client, queue)

    assert "2 waiting" in stale.text
    assert not counting(in_request, "catalogue_prediction"), in_request
    assert len(counting(after, "catalogue_prediction")) == 1
    fresh, in_request, after = get_split(client, queue)
    assert "3 waiting" in fresh.text
    assert not counting(in_request + after, "catalogue_prediction")


def test_one_request_counts_again_the_others_serve_the_last_count(client, cataloguer, field):
    client.force_login(cataloguer)
    PredictionFactory.create_batch(2)
    queue = reverse("review:queue")
    get_split(client, queue)
    make_stale(counts.WAITING_KEY)
    cache.add(f"{counts.WAITING_KEY}:counting", 1)  # another request is counting

    _, in_request, after = get_split(client, queue)

    assert not counting(in_request + after, "catalogue_prediction")


# -- plans on PostgreSQL ------------------------------------------------------------------------


def plan_of(sql: str, *, bitmaps_only: bool = False) -> str:
    """The plan when no whole table may be read (a tiny test table favours that)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmaps_only:
            cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return " > ".join(_nodes(plan[0]["Plan"]))


def _nodes(node: dict) -> list[str]:
    here = node["Node Type"] + (f" on {node['Index Name']}" if "Index Name" in node else "")
    return [here] + [n for child in node.get("Plans", []) for n in _nodes(child)]


@pytest.fixture
def searchable():
    collection = CollectionFactory(slug="books")
    for i in range(200):
        RecordFactory(
            collection=collection, title=f"Record {i} about {'maps' if i % 50 else 'a voyage'}"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalogue_record")  # as after a bulk load


def search_sql(q: str) -> str:
    found, _ = selectors.records_counted(
        selectors.records_search(collections=Collection.objects.all(), q=q)
    )
    with CaptureQueriesContext(connection) as queries:
        list(found[:50])
    return queries.captured_queries[-1]["sql"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rare_word_is_found_through_the_trigram_indexes(searchable):
    plan = plan_of(search_sql("voyage"), bitmaps_only=True)

    assert "Bitmap Index Scan on record_title_trgm" in plan, plan
    assert "Bitmap Index Scan on record_identifier_trgm" in plan, plan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_common_word_is_read_in_index_order_without_sorting_every_match(searchable, monkeypatch):
    monkeypatch.setattr(selectors, "FEW_MATCHES", 10)

    plan = plan_of(search_sql("maps"))

    assert "Index Scan on record_identifier_unique_in_collection" in plan, plan
    assert "Sort" not in plan, plan


# -- deep collection pages ----------------------------------------------------------------------


@pytest.fixture
def shelf():
    collection = CollectionFactory(slug="shelf")
    for i in range(130):
        RecordFactory(collection=collection, identifier=f"r{i:04d}")
    return collection


def rows_of(response) -> list[str]:
    return [row.record.identifier for row in response.context["rows"]]


def test_the_next_link_and_the_page_number_show_the_same_records(client, shelf):
    url = reverse("catalogue:collection", args=["shelf"])

    first = client.get(url)
    by_link = client.get(url, {"page": 2, "after": "r0049"})
    by_number = client.get(url, {"page": 2})
    last = client.get(url, {"page": 3})

    assert "?page=2&amp;after=r0049" in first.text
    assert rows_of(by_link) == rows_of(by_number) == [f"r{i:04d}" for i in range(50, 100)]
    assert rows_of(last) == [f"r{i:04d}" for i in range(100, 130)]
    assert 'href="?page=2" rel="prev"' in last.text  # by number: no cursor going back


def test_the_next_page_starts_after_the_last_record_seen_when_records_are_added(client, shelf):
    url = reverse("catalogue:collection", args=["shelf"])
    RecordFactory(collection=shelf, identifier="r0000a")  # sorts among the first page's

    by_link = client.get(url, {"page": 2, "after": "r0049"})

    assert rows_of(by_link)[0] == "r0050"


def page_queries(client, params) -> list[str]:
    url = reverse("catalogue:collection", args=["shelf"])
    with CaptureQueriesContext(connection) as queries:
        client.get(url, params)
    return [q["sql"] for q in queries.captured_queries if "catalogue_record" in q["sql"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deep_collection_page_reads_no_row_before_it(client, shelf):
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalogue_record")  # as after a bulk load

    followed = page_queries(client, {"page": 3, "after": "r0099"})
    by_number = page_queries(client, {"page": 3})

    assert not any("OFFSET" in sql for sql in followed), followed
    offsets = [sql for sql in by_number if "OFFSET" in sql]
    assert len(offsets) == 1, by_number
    # The one OFFSET reads the (collection, identifier) index alone, never the records' rows.
    assert "Index Only Scan on record_identifier_unique_in_collection" in plan_of(offsets[0])
    rows = [sql for sql in by_number if '"catalogue_record"."title"' in sql]
    assert rows and all("OFFSET" not in sql for sql in rows), by_number
