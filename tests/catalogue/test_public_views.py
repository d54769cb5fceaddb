"""The public catalogue: who sees what, where values came from, and the "this is wrong" form."""

from __future__ import annotations

import hashlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalogue.counts import waiting_count
from catalogue.models import DecisionPolicy, FieldValue, Flag, Prediction
from catalogue.services.flags import RATE_LIMITED
from catalogue.services.values import value_set
from catalogue.views import FLAG_THANKS
from tests.factories import (
    CollectionFactory,
    FieldValueFactory,
    ModelVersionFactory,
    PredictionFactory,
    RecordFactory,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def collection(db):
    return CollectionFactory(slug="books", name="Early printed books", licence="CC0 1.0")


@pytest.fixture
def hidden(db):
    return CollectionFactory(slug="hidden", name="Unpublished papers", is_public=False)


@pytest.fixture
def version(field):
    return ModelVersionFactory(field=field, version=3)


def model_value(record, field, version, *, label="fra", confidence=0.87):
    """A prediction the policy applied, and the value it wrote."""
    prediction = PredictionFactory(
        record=record,
        field=field,
        model_version=version,
        label=label,
        confidence=confidence,
        status=Prediction.Status.APPLIED,
    )
    FieldValueFactory(
        record=record,
        field=field,
        label=label,
        source=FieldValue.Source.MODEL,
        prediction=prediction,
        model_version=version,
        confidence=confidence,
        policy="threshold",
    )
    return prediction


def human_value(record, field, user, *, label="deu", on=datetime(2026, 11, 28, 10, 0)):
    value = FieldValueFactory(
        record=record,
        field=field,
        label=label,
        source=FieldValue.Source.HUMAN,
        action=FieldValue.Action.ACCEPTED,
        user=user,
    )
    FieldValue.objects.filter(pk=value.pk).update(created_at=timezone.make_aware(on))
    return value


def hide_predictions(field):
    DecisionPolicy.objects.filter(field=field).update(show_public=False)
    field.refresh_from_db()


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# -- home -----------------------------------------------------------------------------------------


def test_it_lists_collections_with_where_their_values_came_from(
    client, collection, field, version, cataloguer
):
    model_value(RecordFactory(collection=collection), field, version)
    FieldValueFactory(record=RecordFactory(collection=collection), label="eng")
    human_value(RecordFactory(collection=collection), field, cataloguer)
    PredictionFactory(record=RecordFactory(collection=collection), model_version=version)

    response = client.get(reverse("catalogue:home"))

    assert response.status_code == 200
    (summary,) = response.context["summaries"]
    assert summary.collection == collection
    counts = summary.counts
    assert (counts.records, counts.model, counts.imported, counts.human, counts.queued) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert "Early printed books" in response.text
    assert "CC0 1.0" in response.text


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_it_hides_non_public_collections_on_the_home_page(request, who, collection, hidden):
    user = None if who == "anonymous" else request.getfixturevalue("visitor")

    response = client_for(user).get(reverse("catalogue:home"))

    assert [s.collection for s in response.context["summaries"]] == [collection]
    assert "Unpublished papers" not in response.text


def test_it_shows_non_public_collections_to_cataloguers(cataloguer, collection, hidden):
    response = client_for(cataloguer).get(reverse("catalogue:home"))

    assert {s.collection for s in response.context["summaries"]} == {collection, hidden}
    assert "Not public" in response.text


def test_it_searches_titles_and_identifiers_in_visible_collections_only(client, collection, hidden):
    by_title = RecordFactory(collection=collection, title="Voyage au centre de la Terre")
    by_identifier = RecordFactory(collection=collection, identifier="voyage-42", title="Other")
    RecordFactory(collection=collection, title="Something else")
    RecordFactory(collection=hidden, title="Voyage secret")

    response = client.get(reverse("catalogue:home"), {"q": "voyage"})

    assert response.status_code == 200
    assert [row.record for row in response.context["rows"]] == [by_title, by_identifier]
    assert "Voyage secret" not in response.text
    assert reverse("catalogue:record", args=[by_title.code]) in response.text


def test_the_search_results_run_a_fixed_number_of_queries(
    client, collection, field, version, django_assert_num_queries
):
    for _ in range(3):
        model_value(RecordFactory(collection=collection, title="Voyage"), field, version)
    # Session-free visitor: visible collections, capped count, page, fields, policy, values,
    # waiting, label names; no summary is counted for a search.
    with django_assert_num_queries(7):
        client.get(reverse("catalogue:home"), {"q": "voyage"})
    for _ in range(20):
        model_value(RecordFactory(collection=collection, title="Voyage"), field, version)
    with django_assert_num_queries(7):
        client.get(reverse("catalogue:home"), {"q": "voyage"})


# -- collection page ----------------------------------------------------------------------------


def test_it_lists_records_with_their_value_and_its_provenance(
    client, collection, field, version, cataloguer
):
    model_value(RecordFactory(collection=collection, identifier="a"), field, version)
    FieldValueFactory(record=RecordFactory(collection=collection, identifier="b"), label="eng")
    human_value(RecordFactory(collection=collection, identifier="c"), field, cataloguer)
    PredictionFactory(
        record=RecordFactory(collection=collection, identifier="d"), model_version=version
    )

    response = client.get(reverse("catalogue:collection", args=["books"]))

    assert response.status_code == 200
    badges = [row.value.text for row in response.context["rows"]]
    assert badges == ["model, 87%", "from the source catalogue", "checked by a cataloguer", ""]
    assert [row.value.waiting for row in response.context["rows"]] == [False, False, False, True]
    for words in ("model, 87%", "from the source catalogue", "checked by a cataloguer"):
        assert words in response.text
    assert "waiting for review" in response.text


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_it_hides_non_public_collections(request, who, hidden):
    user = None if who == "anonymous" else request.getfixturevalue("visitor")

    response = client_for(user).get(reverse("catalogue:collection", args=["hidden"]))

    assert response.status_code == 404


def test_cataloguers_see_non_public_collections(cataloguer, hidden):
    RecordFactory(collection=hidden, title="A private letter")

    response = client_for(cataloguer).get(reverse("catalogue:collection", args=["hidden"]))

    assert response.status_code == 200
    assert "A private letter" in response.text


def test_an_unknown_collection_is_not_found(client, db):
    assert client.get(reverse("catalogue:collection", args=["nope"])).status_code == 404


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("model", ["a"]),
        ("import", ["b"]),
        ("human", ["c"]),
        ("queued", ["a", "d"]),
        ("none", ["d"]),
    ],
)
def test_it_filters_records_by_provenance(
    client, collection, field, version, cataloguer, source, expected
):
    applied = model_value(RecordFactory(collection=collection, identifier="a"), field, version)
    FieldValueFactory(record=RecordFactory(collection=collection, identifier="b"), label="eng")
    human_value(RecordFactory(collection=collection, identifier="c"), field, cataloguer)
    PredictionFactory(
        record=RecordFactory(collection=collection, identifier="d"), model_version=version
    )
    # A flagged model value: still the value, and back in the queue.
    Prediction.objects.filter(pk=applied.pk).update(status=Prediction.Status.QUEUED, flagged=True)

    response = client.get(reverse("catalogue:collection", args=["books"]), {"source": source})

    assert [row.record.identifier for row in response.context["rows"]] == expected


def test_it_searches_within_the_collection(client, collection):
    RecordFactory(collection=collection, identifier="x1", title="Les Misérables")
    RecordFactory(collection=collection, identifier="x2", title="Der Zauberberg")

    response = client.get(reverse("catalogue:collection", args=["books"]), {"q": "misér"})

    assert [row.record.identifier for row in response.context["rows"]] == ["x1"]
    assert "1 record matches" in response.text


def test_it_shows_fifty_records_a_page(client, collection):
    RecordFactory.create_batch(51, collection=collection)
    url = reverse("catalogue:collection", args=["books"])

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 1
    assert "?page=2" in first.text


def test_the_collection_page_runs_a_fixed_number_of_queries(
    client, collection, field, version, cataloguer, django_assert_num_queries
):
    def add_records(n):
        for _ in range(n):
            model_value(RecordFactory(collection=collection), field, version)
            FieldValueFactory(record=RecordFactory(collection=collection))
            human_value(RecordFactory(collection=collection), field, cataloguer)
            PredictionFactory(record=RecordFactory(collection=collection), model_version=version)

    url = reverse("catalogue:collection", args=["books"])
    add_records(1)
    with django_assert_num_queries(7):
        client.get(url)
    add_records(15)
    with django_assert_num_queries(7):
        client.get(url, {"source": "model"})


def test_it_hides_model_values_from_the_public_when_the_policy_says_so(
    client, collection, field, version, cataloguer
):
    model_value(RecordFactory(collection=collection, identifier="a"), field, version)
    FieldValueFactory(record=RecordFactory(collection=collection, identifier="b"), label="eng")
    hide_predictions(field)
    url = reverse("catalogue:collection", args=["books"])

    public = client.get(url)
    staff = client_for(cataloguer).get(url)

    assert [row.value.label for row in public.context["rows"]] == ["", "eng"]
    assert "87%" not in public.text
    assert 'value="model"' not in public.text
    assert [
        row.record.identifier for row in client.get(url, {"source": "none"}).context["rows"]
    ] == ["a"]
    assert "model, 87%" in staff.text


# -- record page --------------------------------------------------------------------------------


def test_it_shows_a_record(client, collection):
    record = RecordFactory(
        collection=collection,
        identifier="bl-000123",
        title="Voyage au centre de la Terre",
        description="Roman d'aventures.",
        extra={"publisher": "Hetzel", "date": 1864, "subjects": ["Voyages", "Géologie"]},
    )

    response = client.get(reverse("catalogue:record", args=[record.code]))

    assert response.status_code == 200
    for text in (
        "Voyage au centre de la Terre",
        "Roman d&#x27;aventures.",
        "bl-000123",
        "Early printed books",
        "<dt>Publisher</dt><dd>Hetzel</dd>",
        "<dt>Subjects</dt><dd>Voyages; Géologie</dd>",
    ):
        assert text in response.text


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_it_hides_records_of_non_public_collections(request, who, hidden):
    record = RecordFactory(collection=hidden)
    user = None if who == "anonymous" else request.getfixturevalue("visitor")

    response = client_for(user).get(reverse("catalogue:record", args=[record.code]))

    assert response.status_code == 404


def test_cataloguers_see_records_of_non_public_collections(cataloguer, hidden):
    record = RecordFactory(collection=hidden, title="A private letter")

    response = client_for(cataloguer).get(reverse("catalogue:record", args=[record.code]))

    assert response.status_code == 200
    assert "A private letter" in response.text


def test_an_unknown_record_is_not_found(client, db):
    assert client.get(reverse("catalogue:record", args=[uuid.uuid4()])).status_code == 404


def test_it_says_a_value_came_from_a_model_and_how_sure_it_was(client, collection, field, version):
    record = RecordFactory(collection=collection)
    model_value(record, field, version)

    response = client.get(reverse("catalogue:record", args=[record.code]))

    assert "Suggested by a model (language v3), 87% confident." in response.text
    assert '<span class="value">French</span> <code class="code">fra</code>' in response.text


def test_it_says_a_value_came_from_the_source_catalogue(client, collection, field):
    record = RecordFactory(collection=collection)
    FieldValueFactory(record=record, label="eng")

    response = client.get(reverse("catalogue:record", args=[record.code]))

    assert "From the source catalogue." in response.text


def test_it_says_a_cataloguer_checked_a_value_without_naming_them_to_the_public(
    client, collection, field, cataloguer
):
    record = RecordFactory(collection=collection)
    human_value(record, field, cataloguer)

    response = client.get(reverse("catalogue:record", args=[record.code]))

    assert "Checked by a cataloguer on 2026-11-28." in response.text
    assert cataloguer.username not in response.text


def test_it_names_the_cataloguer_to_other_cataloguers(collection, field, cataloguer):
    record = RecordFactory(collection=collection)
    human_value(record, field, cataloguer)

    response = client_for(cataloguer).get(reverse("catalogue:record", args=[record.code]))

    assert f"Checked by a cataloguer ({cataloguer.username}) on 2026-11-28." in response.text


def test_it_says_when_a_suggestion_waits_for_a_cataloguer(client, collection, field, version):
    record = RecordFactory(collection=collection)
    PredictionFactory(record=record, model_version=version, label="fra", confidence=0.62)

    response = client.get(reverse("catalogue:record", args=[record.code]))

    assert "No value yet." in response.text
    assert "Waiting for a cataloguer (model suggests French, 62%)" in response.text


def test_it_shows_the_history_of_a_field_newest_first(client, collection, field, version):
    record = RecordFactory(collection=collection)
    FieldValueFactory(record=record, label="eng")
    FieldValue.objects.update(is_current=False)
    model_value(record, field, version, label="fra", confidence=0.91)

    response = client.get(reverse("catalogue:record", args=[record.code]))

    (item,) = [item for item, _ in response.context["items"]]
    assert [(row.value.source, row.value.label, row.confidence) for row in item.history] == [
        ("model", "fra", "91%"),
        ("import", "eng", ""),
    ]
    assert '<details class="history">' in response.text
    assert "History of this value (2 changes)" in response.text


def test_the_record_page_runs_a_fixed_number_of_queries(
    client, collection, field, version, cataloguer, django_assert_num_queries
):
    record = RecordFactory(collection=collection)
    FieldValueFactory(record=record, label="eng")
    url = reverse("catalogue:record", args=[record.code])
    with django_assert_num_queries(5):
        client.get(url)
    for label in ("fra", "ita", "deu"):
        FieldValue.objects.filter(record=record).update(is_current=False)
        human_value(record, field, cataloguer, label=label)
    PredictionFactory(record=record, model_version=version)
    with django_assert_num_queries(5):
        client.get(url)


def test_it_hides_model_suggestions_and_confidence_when_the_policy_says_so(
    client, collection, field, version, cataloguer
):
    record = RecordFactory(collection=collection)
    FieldValueFactory(record=record, label="eng")
    FieldValue.objects.update(is_current=False)
    model_value(record, field, version, confidence=0.87)
    Prediction.objects.update(status=Prediction.Status.QUEUED, flagged=True)
    hide_predictions(field)
    url = reverse("catalogue:record", args=[record.code])

    public = client.get(url)
    staff = client_for(cataloguer).get(url)

    assert "87%" not in public.text
    assert "Suggested by a model" not in public.text
    assert '<span class="value">French</span>' not in public.text
    assert "Waiting for a cataloguer" in public.text
    assert "model suggests" not in public.text
    assert "From the source catalogue" in public.text  # the history keeps the imported value
    assert "Suggested by a model (language v3), 87% confident." in staff.text
    assert "model suggests French, 87%" in staff.text


# -- flags --------------------------------------------------------------------------------------


def flag_url(record, key="language"):
    return reverse("catalogue:flag", args=[record.code, key])


@pytest.fixture
def flagged_record(collection, field, version):
    """A record with a model value that a visitor thinks is wrong."""
    record = RecordFactory(collection=collection)
    prediction = model_value(record, field, version, label="fra", confidence=0.93)
    return record, prediction


def test_a_flag_sends_the_value_back_to_a_cataloguer(client, flagged_record):
    record, prediction = flagged_record

    response = client.post(
        flag_url(record), {"proposed_label": "Italian", "comment": "It is in Italian."}
    )

    assert response.status_code == 302
    assert (
        response["Location"] == reverse("catalogue:record", args=[record.code]) + "#field-language"
    )
    flag = Flag.objects.get()
    assert (flag.record, flag.prediction, flag.flagged_label) == (record, prediction, "fra")
    assert (flag.proposed_label, flag.comment) == ("ita", "It is in Italian.")
    assert flag.client_hash == hashlib.sha256(b"%s127.0.0.1" % _secret()).hexdigest()
    prediction.refresh_from_db()
    assert (prediction.status, prediction.flagged, prediction.review_round) == (
        Prediction.Status.QUEUED,
        True,
        1,
    )
    current = FieldValue.objects.get(record=record, is_current=True)
    assert (current.label, current.source) == ("fra", FieldValue.Source.MODEL)

    page = client.get(response["Location"])
    assert FLAG_THANKS in page.text
    assert "Waiting for a cataloguer (model suggests French, 93%)" in page.text


def test_a_flag_is_counted_waiting_after_its_response_for_the_next_page(
    client, flagged_record, cataloguer, django_assert_num_queries
):
    record, _ = flagged_record
    client_for(cataloguer).get(reverse("review:queue"))  # the waiting counts, cached: none
    assert waiting_count() == 0

    client.post(flag_url(record), {"comment": "Not French."})

    with django_assert_num_queries(0):  # counted again once the flag's response was sent
        assert waiting_count() == 1


def _secret() -> bytes:
    from django.conf import settings

    return settings.SECRET_KEY.encode()


def test_a_flag_with_htmx_swaps_the_field_in_place(client, flagged_record):
    record, prediction = flagged_record

    response = client.post(flag_url(record), {"proposed_label": "", "comment": ""}, **HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.strip().startswith('<section class="card field-value" id="field-language"')
    assert FLAG_THANKS in response.text
    assert "Waiting for a cataloguer (model suggests French, 93%)" in response.text
    assert Flag.objects.filter(record=record, prediction=prediction).count() == 1


def test_a_flag_with_an_unknown_language_is_refused(client, flagged_record):
    record, prediction = flagged_record

    response = client.post(flag_url(record), {"proposed_label": "Klingonese"}, **HTMX)

    assert response.status_code == 422
    assert "Unknown language: &#x27;Klingonese&#x27;" in response.text
    assert '<details class="flag" open>' in response.text
    assert not Flag.objects.exists()
    prediction.refresh_from_db()
    assert (prediction.status, prediction.review_round) == (Prediction.Status.APPLIED, 0)


def test_a_refused_flag_without_htmx_says_why_after_the_redirect(client, flagged_record):
    record, _ = flagged_record

    response = client.post(flag_url(record), {"proposed_label": "Klingonese"}, follow=True)

    assert response.redirect_chain[-1][1] == 302
    assert "Unknown language: &#x27;Klingonese&#x27;" in response.text
    assert not Flag.objects.exists()


def test_a_flag_comment_may_not_be_longer_than_2000_characters(client, flagged_record):
    record, _ = flagged_record

    response = client.post(flag_url(record), {"comment": "x" * 2001}, **HTMX)

    assert response.status_code == 422
    assert "at most 2000 characters" in response.text
    assert not Flag.objects.exists()


def test_flags_from_one_address_are_rate_limited(client, flagged_record, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 2
    record, _ = flagged_record

    for _ in range(2):
        assert client.post(flag_url(record), {}, **HTMX).status_code == 200
    refused = client.post(flag_url(record), {}, **HTMX)
    elsewhere = client.post(flag_url(record), {}, REMOTE_ADDR="192.0.2.7", **HTMX)

    assert refused.status_code == 429
    assert "Too many reports from your address in the last hour" in refused.text
    assert elsewhere.status_code == 200
    assert Flag.objects.count() == 3

    plain = client.post(flag_url(record), {}, follow=True)
    assert RATE_LIMITED in plain.text.replace("&#x27;", "'")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forty_flags_at_once_from_one_address_give_exactly_the_limit(flagged_record, settings):
    settings.GLAMML_FLAG_RATE_LIMIT = 10
    record, _ = flagged_record
    start = threading.Barrier(40)

    def post_flag(_: int) -> int:
        try:
            start.wait(timeout=30)
            return Client().post(flag_url(record), {}, **HTMX).status_code
        finally:
            connection.close()  # each thread has its own connection; give it back

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(post_flag, range(40)))

    assert sorted(statuses) == [200] * 10 + [429] * 30
    assert Flag.objects.filter(record=record).count() == 10


@pytest.mark.parametrize("who", ["anonymous", "visitor"])
def test_flags_on_non_public_records_are_not_found(request, who, hidden, field, version):
    record = RecordFactory(collection=hidden)
    model_value(record, field, version)
    user = None if who == "anonymous" else request.getfixturevalue("visitor")

    response = client_for(user).post(flag_url(record), {})

    assert response.status_code == 404
    assert not Flag.objects.exists()


def test_cataloguers_may_flag_records_of_non_public_collections(cataloguer, hidden, field, version):
    record = RecordFactory(collection=hidden)
    model_value(record, field, version)

    response = client_for(cataloguer).post(flag_url(record), {})

    assert response.status_code == 302
    assert Flag.objects.filter(record=record).exists()


def test_a_flag_on_an_unknown_record_or_field_is_not_found(client, flagged_record):
    record, _ = flagged_record

    assert (
        client.post(reverse("catalogue:flag", args=[uuid.uuid4(), "language"])).status_code == 404
    )
    assert client.post(flag_url(record, key="colour")).status_code == 404
    assert not Flag.objects.exists()


def test_flagging_needs_a_post(client, flagged_record):
    record, _ = flagged_record

    assert client.get(flag_url(record)).status_code == 405


def test_the_record_page_offers_the_flag_form_to_everyone(client, flagged_record):
    record, _ = flagged_record

    response = client.get(reverse("catalogue:record", args=[record.code]))

    assert "<summary>This is wrong</summary>" in response.text
    assert f'hx-post="{flag_url(record)}"' in response.text
    assert f'action="{flag_url(record)}"' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text


def test_the_flag_rate_limit_reads_the_forwarded_address_only_behind_trusted_proxies(rf, settings):
    from catalogue.access import client_hash

    def request(forwarded: str):
        return rf.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    settings.GLAMML_TRUSTED_PROXIES = 0
    # Without trusted proxies a forged header changes nothing.
    assert client_hash(request("1.1.1.1")) == client_hash(request("2.2.2.2"))
    settings.GLAMML_TRUSTED_PROXIES = 1
    assert client_hash(request("1.1.1.1")) != client_hash(request("2.2.2.2"))
    # A client prepending its own entries cannot choose the address our proxy saw.
    assert client_hash(request("9.9.9.9, 1.1.1.1")) == client_hash(request("1.1.1.1"))


@pytest.mark.django_db
def test_a_field_scoped_to_other_collections_is_not_shown_on_a_record(client, field):
    from catalogue.services.fields import field_create
    from tests.factories import CollectionFactory, RecordFactory

    tate = CollectionFactory(slug="tate")
    books = CollectionFactory(slug="books")
    field_create(
        key="object_type",
        name="Object type",
        labels=[("painting", "Painting"), ("sculpture", "Sculpture")],
        text_source=["title"],
        collections=[tate],
    )
    book = RecordFactory(collection=books)
    artwork = RecordFactory(collection=tate)
    book_page = client.get(f"/records/{book.code}/").content.decode()
    artwork_page = client.get(f"/records/{artwork.code}/").content.decode()
    assert "Object type" not in book_page and "Language" in book_page
    assert "Object type" in artwork_page and "Language" in artwork_page


def test_a_correction_row_does_not_show_the_models_confidence_in_what_it_replaced(
    client, collection, field, version, cataloguer
):
    record = RecordFactory(collection=collection)
    model_value(record, field, version, label="fra", confidence=0.91)
    value_set(
        record=record,
        field=field,
        label="ita",
        source="human",
        action="corrected",
        confidence=0.91,
        user=cataloguer,
    )

    response = client.get(reverse("catalogue:record", args=[record.code]))

    (item,) = [item for item, _ in response.context["items"]]
    assert [(row.value.label, row.confidence) for row in item.history] == [
        ("ita", ""),
        ("fra", "91%"),
    ]


def test_a_label_whose_name_is_its_code_is_not_said_twice(client, collection, genre):
    record = RecordFactory(collection=collection)
    genre.collections.add(collection)
    value_set(record=record, field=genre, label="Fiction", source="import")

    html = client.get(reverse("catalogue:record", args=[record.code])).content.decode()

    assert '<span class="value">Fiction</span>' in html
    assert '<code class="code">Fiction</code>' not in html
