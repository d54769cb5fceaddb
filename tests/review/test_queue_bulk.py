"""Narrowing the queue (label, confidence range, words) and deciding its items in bulk."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue.models import Decision, FieldValue, Prediction
from catalogue.services.bulk import (
    BULK_ONE_FIELD,
    BULK_TOO_MANY,
    decisions_bulk,
)
from catalogue.services.decisions import DecisionError, decision_make
from review.selectors import QueueSearch, queue_page
from tests.factories import (
    CollectionFactory,
    PredictionFactory,
    RecordFactory,
)
from tests.review.conftest import HTMX

QUEUE = reverse("review:queue")
BULK = reverse("review:bulk")


def shown(response) -> list[str]:
    """The identifiers of the items the page shows, in order (read from the HTML: an htmx
    answer renders a partial, which gives the test client no template context)."""
    return re.findall(r'<span class="identifier" title="[^"]*">([^<]*)</span>', response.text)


@pytest.fixture
def mixed(labels):
    """Five waiting items: two Italian, three French, confidences 10–90%."""
    rows = [
        ("it-1", "ita", 0.15, "Storia di Firenze"),
        ("it-2", "ita", 0.85, "Poesie scelte"),
        ("fr-1", "fra", 0.40, "Histoire de Paris"),
        ("fr-2", "fra", 0.55, "Poèmes choisis"),
        ("fr-3", "fra", 0.90, "Contes de Paris"),
    ]
    return {
        ident: PredictionFactory(
            record=RecordFactory(identifier=ident, title=title), label=label, confidence=conf
        )
        for ident, label, conf, title in rows
    }


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_narrows_to_a_predicted_label_by_code_or_name(cataloguer_client, mixed):
    by_code = cataloguer_client.get(QUEUE, {"field": "language", "label": "ita"})
    by_name = cataloguer_client.get(QUEUE, {"label": "italian"})

    assert shown(by_code) == ["it-1", "it-2"]
    assert shown(by_name) == ["it-1", "it-2"]
    assert "Showing 1–2 of 2 waiting that match in language" in by_code.text


@pytest.mark.django_db
def test_an_unknown_label_says_so_beside_the_filter(cataloguer_client, mixed):
    response = cataloguer_client.get(QUEUE, {"field": "language", "label": "Klingon"})

    assert response.status_code == 200
    assert "No label “Klingon” in Language: type a code or a name from its list." in response.text


@pytest.mark.django_db
def test_the_queue_narrows_to_a_confidence_range_inclusive(cataloguer_client, mixed):
    response = cataloguer_client.get(QUEUE, {"confidence_min": "40", "confidence_max": "85"})

    assert shown(response) == ["fr-1", "fr-2", "it-2"]


@pytest.mark.django_db
def test_a_backwards_range_is_explained(cataloguer_client, mixed):
    response = cataloguer_client.get(QUEUE, {"confidence_min": "80", "confidence_max": "20"})

    assert "The range runs from 80% up: make “to” 80 or more (it says 20)." in response.text


@pytest.mark.django_db
def test_the_queue_narrows_to_words_in_the_title_or_identifier(cataloguer_client, mixed):
    assert shown(cataloguer_client.get(QUEUE, {"q": "paris"})) == ["fr-1", "fr-3"]
    assert shown(cataloguer_client.get(QUEUE, {"q": "IT-"})) == ["it-1", "it-2"]


@pytest.mark.django_db
def test_filters_combine_and_the_htmx_answer_is_the_list(cataloguer_client, mixed):
    response = cataloguer_client.get(
        QUEUE, {"label": "fra", "confidence_min": "50", "q": "paris"}, **HTMX
    )

    assert response.text.lstrip().startswith('<div id="queue-list"')
    assert shown(response) == ["fr-3"]


@pytest.mark.django_db
def test_a_ranged_page_keeps_flagged_items_first_and_walks_the_rest_in_order(field, monkeypatch):
    from review.selectors import queue_pages

    monkeypatch.setattr(queue_pages, "QUEUE_PAGE_SIZE", 2)
    confidences = [0.35, 0.5, 0.45, 0.9, 0.4, 0.6, 0.05]
    for i, conf in enumerate(confidences):
        PredictionFactory(confidence=conf, flagged=i in (1, 5))
    search = QueueSearch(confidence_min=0.3, confidence_max=0.6)

    seen, page = [], queue_page(search=search)
    while True:
        seen += [(i.prediction.flagged, i.prediction.confidence) for i in page.items]
        if not page.has_next:
            break
        page = queue_page(search=search, number=page.next_page_number, after=page.next_cursor)

    assert seen == [(True, 0.5), (True, 0.6), (False, 0.35), (False, 0.4), (False, 0.45)]


# --- the bulk service ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bulk_accept_makes_one_durable_decision_per_item_in_each_history(cataloguer, mixed):
    items = [(mixed["it-1"], 0), (mixed["it-2"], 0)]

    result = decisions_bulk(items=items, reviewer=cataloguer, action="accept")

    assert (len(result.decisions), result.skipped) == (2, 0)
    for ident in ("it-1", "it-2"):
        prediction = Prediction.objects.get(pk=mixed[ident].pk)
        assert prediction.status == Prediction.Status.ACCEPTED
        decision = Decision.objects.get(prediction=prediction)
        assert (decision.action, decision.label, decision.reviewer) == ("accept", "ita", cataloguer)
        value = FieldValue.objects.get(record=prediction.record, is_current=True)
        assert (value.label, value.source, value.user) == ("ita", "human", cataloguer)
    assert Prediction.objects.filter(status="queued").count() == 3


@pytest.mark.django_db
def test_a_bulk_correction_sets_every_item_to_the_label(cataloguer, mixed):
    items = [(mixed[i], 0) for i in ("fr-1", "fr-2")]

    decisions_bulk(items=items, reviewer=cataloguer, action="correct", label="Spanish")

    assert set(
        FieldValue.objects.filter(is_current=True).values_list("record__identifier", "label")
    ) == {("fr-1", "spa"), ("fr-2", "spa")}
    assert set(Decision.objects.values_list("action", flat=True)) == {"correct"}


@pytest.mark.django_db
def test_an_item_decided_meanwhile_is_left_alone_and_counted(cataloguer, admin_user, mixed):
    decision_make(prediction=mixed["it-1"], reviewer=admin_user, action="correct", label="lat")

    result = decisions_bulk(
        items=[(mixed["it-1"], 0), (mixed["it-2"], 0)], reviewer=cataloguer, action="accept"
    )

    assert (len(result.decisions), result.skipped) == (1, 1)
    assert Decision.objects.get(prediction=mixed["it-1"]).reviewer == admin_user


@pytest.mark.django_db
def test_run_twice_the_second_bulk_decides_nothing(cataloguer, mixed):
    items = [(mixed["it-1"], 0), (mixed["it-2"], 0)]
    decisions_bulk(items=items, reviewer=cataloguer, action="accept")

    again = decisions_bulk(items=items, reviewer=cataloguer, action="accept")

    assert (len(again.decisions), again.skipped) == (0, 2)
    assert Decision.objects.count() == 2


@pytest.mark.django_db
def test_a_bad_bulk_is_refused_before_anything_is_decided(cataloguer, mixed, genre, monkeypatch):
    items = [(p, 0) for p in mixed.values()]
    with pytest.raises(DecisionError, match="not-a-language"):
        decisions_bulk(items=items, reviewer=cataloguer, action="correct", label="not-a-language")
    with pytest.raises(DecisionError, match="neither"):
        decisions_bulk(items=items, reviewer=cataloguer, action="reject")
    other = PredictionFactory(field=genre, label="Fiction")
    with pytest.raises(DecisionError) as one_field:
        decisions_bulk(items=[*items, (other, 0)], reviewer=cataloguer, action="correct", label="x")
    assert str(one_field.value) == BULK_ONE_FIELD
    monkeypatch.setattr("catalogue.services.bulk.BULK_LIMIT", 2)
    with pytest.raises(DecisionError) as too_many:
        decisions_bulk(items=items, reviewer=cataloguer, action="accept")
    assert str(too_many.value) == BULK_TOO_MANY.format(limit=2, n=5)
    assert not Decision.objects.exists()


# --- the bulk views -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_lists_the_filtered_items_with_a_count_and_asks_to_confirm(cataloguer_client, mixed):
    PredictionFactory(record=RecordFactory(identifier="fr-flag"), flagged=True)
    sensitive = CollectionFactory(is_sensitive=True)
    PredictionFactory(record=RecordFactory(collection=sensitive), routed_by="sensitive-collection")

    response = cataloguer_client.get(BULK, {"label": "fra", "action": "accept"})

    assert response.status_code == 200
    assert "Accept the model's suggestion for 3 items?" in response.text
    assert 'id="bulk-confirm">Accept 3 suggestions</button>' in response.text
    sent = response.text.split('name="item" value="')[1:]
    assert [v.split('"')[0] for v in sent] == [
        f"{mixed[i].code}:0" for i in ("fr-1", "fr-2", "fr-3")
    ]
    assert not Decision.objects.exists()  # nothing until confirmed


@pytest.mark.django_db
def test_confirming_a_bulk_decides_each_item_and_returns_to_the_filtered_queue(
    cataloguer_client, cataloguer, mixed
):
    confirm = cataloguer_client.get(
        BULK, {"field": "language", "q": "paris", "action": "correct", "to": "Spanish"}
    )
    assert "Correct 2 items to Spanish (spa)?" in confirm.text
    items = [v.split('"')[0] for v in confirm.text.split('name="item" value="')[1:]]

    response = cataloguer_client.post(
        BULK,
        {"action": "correct", "label": "spa", "item": items, "next": f"{QUEUE}?q=paris"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{QUEUE}?q=paris"
    assert "Corrected 2 suggestions to Spanish (spa)." in response.text
    assert set(Decision.objects.values_list("prediction__record__identifier", "reviewer")) == {
        ("fr-1", cataloguer.pk),
        ("fr-3", cataloguer.pk),
    }
    assert "This sitting: <strong>2 decided</strong> (0 accepted, 2 corrected" in response.text


@pytest.mark.django_db
def test_a_correction_in_bulk_needs_a_field_and_a_label_it_has(cataloguer_client, mixed):
    no_field = cataloguer_client.get(BULK, {"action": "correct", "to": "spa"})
    unknown = cataloguer_client.get(
        BULK, {"field": "language", "action": "correct", "to": "Klingon"}
    )

    assert no_field.status_code == 400
    assert "Choose a field: a correction is to one of its labels." in no_field.text
    assert unknown.status_code == 400
    assert "Language has no label “Klingon”." in unknown.text


@pytest.mark.django_db
def test_a_confirmed_item_that_no_longer_exists_decides_nothing(cataloguer_client, mixed):
    code = mixed["it-1"].code
    mixed["it-1"].delete()

    response = cataloguer_client.post(
        BULK, {"action": "accept", "item": [f"{code}:0", f"{mixed['it-2'].code}:0"]}, follow=True
    )

    assert "1 of the items are no longer in the catalogue; nothing was decided." in response.text
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_bulk_is_for_cataloguers(client, visitor, mixed):
    item = f"{mixed['it-1'].code}:0"
    assert client.get(BULK, {"action": "accept"}).status_code == 302  # to log in
    assert client.post(BULK, {"action": "accept", "item": [item]}).status_code == 302
    client.force_login(visitor)
    assert client.get(BULK, {"action": "accept"}).status_code == 403
    assert client.post(BULK, {"action": "accept", "item": [item]}).status_code == 403
    assert not Decision.objects.exists()


# --- the plans behind narrowed pages, on PostgreSQL ---------------------------------------------


def plan_nodes(sql: str, *, bitmaps: bool = False) -> list[dict]:
    """Every node of the plan PostgreSQL picks when it may not read a whole table (nor use a
    bitmap; with ``bitmaps``, only bitmaps: the trigram indexes are read only through one, and
    a tiny test table would otherwise be walked whole through any index)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"SET LOCAL enable_{'index' if bitmaps else 'bitmap'}scan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node: dict) -> list[dict]:
        return [node] + [n for child in node.get("Plans", []) for n in walk(child)]

    return walk(plan[0]["Plan"])


def page_sql(**kwargs) -> str:
    """The SQL of the page's read of the predictions (not its count, not the prefetches)."""
    with CaptureQueriesContext(connection) as queries:
        queue_page(**kwargs)
    (sql,) = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "catalogue_prediction"') and "COUNT(" not in q["sql"]
    ]
    return sql


@pytest.fixture
def analysed(field, labels):
    collection = CollectionFactory()
    for i in range(60):
        PredictionFactory(
            record=RecordFactory(collection=collection, title=f"Title {i} Paris" * (i % 7 == 0)),
            label=["fra", "ita", "spa"][i % 3],
            confidence=(i * 0.13) % 1,
            flagged=i % 20 == 0,
        )
    PredictionFactory.create_batch(20, status=Prediction.Status.APPLIED)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalogue_prediction")
        cursor.execute("VACUUM ANALYZE catalogue_record")


def prediction_scans(nodes: list[dict]) -> list[dict]:
    return [n for n in nodes if n.get("Relation Name") == "catalogue_prediction"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_field", [False, True])
def test_a_confidence_range_is_read_as_index_ranges_flagged_and_not(analysed, field, one_field):
    search = QueueSearch(confidence_min=0.3, confidence_max=0.6)

    nodes = plan_nodes(page_sql(search=search, field=field if one_field else None))

    # The page's ids come from two index ranges, flagged and not, each bounded by the range
    # (the few ids found are then read and put in order).
    ranges = [n for n in prediction_scans(nodes) if "flagged" in n.get("Index Cond", "")]
    assert len(ranges) == 2, nodes
    for scan in ranges:
        assert scan["Index Name"].startswith("prediction_waiting_"), scan
        assert "confidence >=" in scan["Index Cond"] and "confidence <=" in scan["Index Cond"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_predicted_label_of_a_field_reads_its_index_in_order(analysed, field):
    nodes = plan_nodes(page_sql(field=field, search=QueueSearch(labels=("ita",))))

    # Only the label's waiting rows are read (on a table this small the planner then sorts
    # them; at scale it reads the index in order and stops at the page's end).
    (scan,) = prediction_scans(nodes)
    assert scan["Index Name"] == "prediction_waiting_fl_conf", nodes
    assert "label" in scan["Index Cond"] and "field_id" in scan["Index Cond"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_words_are_found_through_the_records_trigram_index(analysed):
    nodes = plan_nodes(page_sql(search=QueueSearch(text="paris")), bitmaps=True)

    indexes = {n.get("Index Name") for n in nodes}
    assert {"record_title_trgm", "record_identifier_trgm"} & indexes, nodes
    assert "Seq Scan" not in {n["Node Type"] for n in nodes}
