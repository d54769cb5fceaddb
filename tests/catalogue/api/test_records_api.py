from __future__ import annotations

import pytest
from django.test import Client

from catalogue.models import DecisionPolicy, FieldValue, Record
from tests.catalogue.api.conftest import bearer
from tests.factories import CollectionFactory, FieldValueFactory, LabelFactory, RecordFactory


@pytest.fixture
def books(field):
    books = CollectionFactory(slug="books", name="Books")
    record = RecordFactory(
        collection=books, identifier="b1", title="Geschichte", extra={"place": "Leipzig"}
    )
    LabelFactory(code="deu", name="German")
    FieldValueFactory(record=record, label="deu", source="import")
    return books


@pytest.fixture
def hidden(field):
    hidden = CollectionFactory(slug="hidden", name="Hidden", is_public=False)
    RecordFactory(collection=hidden, identifier="h1")
    return hidden


@pytest.mark.django_db
def test_it_lists_the_collections_a_user_may_see(
    client: Client, books, hidden, as_visitor, as_cataloguer
):
    slugs = [c["slug"] for c in client.get("/api/collections", **as_visitor).json()]
    assert slugs == ["books"]
    listed = client.get("/api/collections", **as_cataloguer).json()
    assert [(c["slug"], c["records"]) for c in listed] == [("books", 1), ("hidden", 1)]


@pytest.mark.django_db
def test_a_record_comes_with_each_values_provenance(client: Client, books, as_visitor):
    record = Record.objects.get(identifier="b1")
    body = client.get(f"/api/records/{record.code}", **as_visitor).json()
    assert body["identifier"] == "b1" and body["collection"] == "books"
    assert body["extra"] == {"place": "Leipzig"}
    value = body["values"]["language"]
    assert value["label"] == "deu" and value["name"] == "German"
    assert value["provenance"]["source"] == "import"


@pytest.mark.django_db
def test_records_page_by_collection_and_hide_private_ones(
    client: Client, books, hidden, as_visitor, as_cataloguer, django_assert_max_num_queries
):
    for i in range(2, 6):
        RecordFactory(collection=books, identifier=f"b{i}")
    page = client.get("/api/records?collection=books&limit=2&offset=1", **as_visitor).json()
    assert page["count"] == 5
    assert [r["identifier"] for r in page["items"]] == ["b2", "b3"]
    everything = client.get("/api/records", **as_visitor).json()
    assert "h1" not in {r["identifier"] for r in everything["items"]}
    assert client.get("/api/records?collection=hidden", **as_visitor).status_code == 404
    private = Record.objects.get(identifier="h1")
    assert client.get(f"/api/records/{private.code}", **as_visitor).status_code == 404
    assert client.get(f"/api/records/{private.code}", **as_cataloguer).status_code == 200
    # A fixed number of queries whatever the page size.
    with django_assert_max_num_queries(10):
        client.get("/api/records?limit=500", **as_cataloguer)


@pytest.mark.django_db
def test_model_values_are_hidden_from_the_public_when_the_policy_says_so(
    client: Client, books, as_visitor, as_cataloguer
):
    record = RecordFactory(collection=books, identifier="m1")
    FieldValueFactory(record=record, label="fra", source="model", confidence=0.93)
    DecisionPolicy.objects.update(show_public=False)
    assert client.get(f"/api/records/{record.code}", **as_visitor).json()["values"] == {}
    value = client.get(f"/api/records/{record.code}", **as_cataloguer).json()["values"]["language"]
    assert value["provenance"]["source"] == "model"
    assert value["provenance"]["confidence"] == 0.93


@pytest.mark.django_db
def test_a_cataloguer_submits_records_that_import_like_a_file(client: Client, books, as_cataloguer):
    response = client.post(
        "/api/collections/books/records",
        {
            "records": [
                {
                    "identifier": "b1",
                    "title": "Geschichte der Literatur",
                    "values": {"language": "ger"},
                },
                {"identifier": "n1", "title": "Nouveau", "extra": {"shelfmark": "X 1"}},
            ]
        },
        content_type="application/json",
        **as_cataloguer,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"]) == (1, 1)
    new = Record.objects.get(identifier="n1")
    assert body["records"][1] == str(new.code)
    assert new.extra == {"shelfmark": "X 1"} and new.collection == books
    value = FieldValue.objects.get(record__identifier="b1", is_current=True)
    assert (value.label, value.source) == ("deu", "import")  # MARC 'ger' stored as ISO 639-3


@pytest.mark.django_db
def test_a_value_a_cataloguer_decided_is_kept_on_resubmission(
    client: Client, books, cataloguer, as_cataloguer
):
    record = Record.objects.get(identifier="b1")
    FieldValue.objects.filter(record=record).update(is_current=False)
    FieldValueFactory(record=record, label="nld", source="human", user=cataloguer)
    body = client.post(
        "/api/collections/books/records",
        {"records": [{"identifier": "b1", "values": {"language": "deu"}}]},
        content_type="application/json",
        **as_cataloguer,
    ).json()
    assert body["values_kept_human"] == 1
    assert FieldValue.objects.get(record=record, is_current=True).label == "nld"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("records", "field", "message"),
    [
        (
            [{"identifier": "x", "titel": "typo"}],
            "body.records.0.titel",
            "Extra inputs are not permitted",
        ),
        ([{"identifier": 7}], "body.records.0.identifier", "Input should be a valid string"),
        ([{"title": "no identifier"}], "body.records.0.identifier", "Field required"),
        (
            [{"identifier": "x", "values": {"colour": "red"}}],
            "body.records.0.values.colour",
            "no field 'colour'",
        ),
        (
            [{"identifier": "x", "extra": {"title": "t"}}],
            "body.records.0.extra.title",
            "not an extra column",
        ),
        ([], "body.records", "at least 1 item"),
        (
            [{"identifier": "x", "title": "a\x00b"}],
            "body.records.0.title",
            "String should match pattern",
        ),
    ],
)
def test_a_wrong_or_unknown_field_is_named_and_nothing_is_stored(
    client: Client, books, as_cataloguer, records, field, message
):
    before = Record.objects.count()
    response = client.post(
        "/api/collections/books/records",
        {"records": records},
        content_type="application/json",
        **as_cataloguer,
    )
    assert response.status_code == 422
    body = response.json()
    assert field in [e["field"] for e in body["errors"]]
    assert message in body["detail"]
    assert Record.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/records?colection=hidden", "query.colection"),
        ("/api/predictions?stauts=applied", "query.stauts"),
    ],
)
def test_a_misspelt_query_parameter_is_named_not_ignored(
    client: Client, books, as_cataloguer, url, field
):
    # Ignored, the typo would answer with every record, or with the queue instead of the
    # applied predictions, and look like a right answer.
    response = client.get(url, **as_cataloguer)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": field, "message": "Extra inputs are not permitted"}
    ]
    assert response.json()["detail"] == f"{field}: Extra inputs are not permitted"
    assert client.get("/api/records?limit=x", **as_cataloguer).json()["errors"][0]["field"] == (
        "query.limit"
    )


@pytest.mark.django_db
def test_an_unknown_label_or_a_repeated_identifier_names_the_record(
    client: Client, books, as_cataloguer
):
    response = client.post(
        "/api/collections/books/records",
        {
            "records": [
                {"identifier": "a"},
                {"identifier": "b", "values": {"language": "klingonish"}},
            ]
        },
        content_type="application/json",
        **as_cataloguer,
    )
    assert response.status_code == 400
    assert "records.1" in response.json()["detail"] and "language" in response.json()["detail"]
    response = client.post(
        "/api/collections/books/records",
        {"records": [{"identifier": "a"}, {"identifier": "a"}]},
        content_type="application/json",
        **as_cataloguer,
    )
    assert response.status_code == 400
    assert "'a' already appears on records.0" in response.json()["detail"]
    assert not Record.objects.filter(identifier="a").exists()


@pytest.mark.django_db
def test_only_cataloguers_submit_records(client: Client, books, hidden, as_visitor):
    payload = {"records": [{"identifier": "z"}]}
    response = client.post(
        "/api/collections/books/records", payload, content_type="application/json", **as_visitor
    )
    assert response.status_code == 403
    response = client.post(
        "/api/collections/hidden/records", payload, content_type="application/json", **as_visitor
    )
    assert response.status_code == 404
    assert not Record.objects.filter(identifier="z").exists()


@pytest.mark.django_db
def test_the_browser_session_must_send_its_csrf_token(books, cataloguer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cataloguer)
    payload = {"records": [{"identifier": "s1"}]}
    assert browser.get("/api/collections").status_code == 200
    refused = browser.post(
        "/api/collections/books/records", payload, content_type="application/json"
    )
    assert refused.status_code == 403
    assert not Record.objects.filter(identifier="s1").exists()

    browser.get("/")  # any page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/collections/books/records",
        payload,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200
    # A token needs no CSRF token: it is not a cookie a browser sends by itself.
    other = Client(enforce_csrf_checks=True)
    assert (
        other.post(
            "/api/collections/books/records",
            payload,
            content_type="application/json",
            **bearer(cataloguer),
        ).status_code
        == 200
    )
