from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.counts import counts_forget
from catalogue.models import Confirmation, Prediction
from tests.factories import (
    CollectionFactory,
    FieldValueFactory,
    FlagFactory,
    LabelFactory,
    PredictionFactory,
    RecordFactory,
)
from tests.review.conftest import HTMX

QUEUE = reverse("review:queue")
# Session, user, role (twice: the view and the navigation), the waiting counts (when not
# cached), page, current values, flags, label names, visitors' confirmations, the fields, and
# the two filter menus.
QUEUE_QUERIES = 12


def item_codes(response) -> list[str]:
    return [str(item.prediction.code) for item in response.context["items"]]


@pytest.mark.django_db
def test_it_shows_a_waiting_suggestion_with_everything_needed_to_decide(cataloguer_client, labels):
    record = RecordFactory(
        identifier="bl-000123",
        title="Storia della letteratura italiana",
        description="Dalle origini al Cinquecento.",
    )
    FieldValueFactory(record=record, label="spa", source="import")
    FieldValueFactory(label="deu", source="human")  # used elsewhere in the catalogue
    LabelFactory(field=labels["fra"].field, code="lat", name="Latin")  # in the vocabulary
    prediction = PredictionFactory(
        record=record,
        label="ita",
        confidence=0.62,
        alternatives=[["ita", 0.62], ["fra", 0.2], ["spa", 0.1]],
        routed_by="threshold",
    )

    response = cataloguer_client.get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "bl-000123",
        "Storia della letteratura italiana",
        "Dalle origini al Cinquecento.",
        record.collection.name,
        "Italian",
        "62%",
        "20%",
        "10%",
        "Confidence below the language threshold (90%)",
        "from the source catalogue",
        reverse("review:decide", args=[prediction.code]),
        'name="review_round" value="0"',
        "js/review-keys.js",
        "css/review.css",
    ):
        assert text in html, text
    # Alternatives are offered first when correcting, then the field's vocabulary (read from
    # the labels table, never from the values); the suggestion itself is not.
    correct = html.split(f'id="label-{prediction.code}"')[1].split("</select>")[0]
    assert (
        correct.index('value="fra"') < correct.index('value="deu"') < correct.index('value="lat"')
    )
    assert 'value="ita"' not in correct


@pytest.mark.django_db
def test_it_lists_flagged_items_first_then_the_least_confident(cataloguer_client, field):
    sure = PredictionFactory(confidence=0.8)
    unsure = PredictionFactory(confidence=0.3)
    flagged = PredictionFactory(confidence=0.95, flagged=True, routed_by="flag")
    PredictionFactory(confidence=0.1, status=Prediction.Status.APPLIED)

    response = cataloguer_client.get(QUEUE)

    assert item_codes(response) == [str(flagged.code), str(unsure.code), str(sure.code)]


@pytest.mark.django_db
def test_it_shows_why_an_item_is_waiting_and_the_open_flags(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra", flagged=True, routed_by="flag")
    FlagFactory(
        record=prediction.record,
        prediction=prediction,
        flagged_label="fra",
        proposed_label="ita",
        comment="The title is plainly Italian.",
    )
    sensitive = PredictionFactory(
        record=RecordFactory(collection=CollectionFactory(is_sensitive=True, name="Closed")),
        routed_by="sensitive-collection",
    )

    html = cataloguer_client.get(QUEUE).content.decode()

    assert "A visitor flagged the value as wrong." in html
    assert "“French (fra)” is wrong, proposes Italian (ita)" in html
    assert "The title is plainly Italian." in html
    assert "Closed is a sensitive collection" in html
    assert str(sensitive.code) in html


@pytest.mark.django_db
def test_it_filters_by_field_and_collection(cataloguer_client, field):
    wanted = PredictionFactory(record=RecordFactory(collection=CollectionFactory(slug="maps")))
    PredictionFactory(record=RecordFactory(collection=CollectionFactory(slug="books")))

    response = cataloguer_client.get(QUEUE, {"field": "language", "collection": "maps"})

    assert item_codes(response) == [str(wanted.code)]


@pytest.mark.django_db
def test_it_counts_waiting_items_per_field(cataloguer_client, field):
    PredictionFactory.create_batch(3)
    PredictionFactory(status=Prediction.Status.ACCEPTED)

    response = cataloguer_client.get(QUEUE)

    counts = {c.field.key: c.waiting for c in response.context["counts"]}
    assert counts == {"language": 3}
    assert "3 waiting" in response.content.decode()


@pytest.mark.django_db
def test_it_pages_the_queue_by_25(cataloguer_client, field):
    PredictionFactory.create_batch(27)

    first = cataloguer_client.get(QUEUE)
    second = cataloguer_client.get(QUEUE, {"page": 2})

    assert len(first.context["items"]) == 25
    assert len(second.context["items"]) == 2
    assert "?page=2" in first.content.decode()


@pytest.mark.django_db
def test_it_renders_only_the_list_for_htmx(cataloguer_client, field):
    PredictionFactory()

    response = cataloguer_client.get(QUEUE, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="queue-list"')
    assert "<html" not in html


@pytest.mark.django_db
# Focus mode: two more, the record's other fields and their label names.
@pytest.mark.parametrize(("params", "queries"), [({}, QUEUE_QUERIES), ({"view": "focus"}, 14)])
def test_its_query_count_does_not_grow_with_the_number_of_items(
    cataloguer_client, cataloguer, field, django_assert_num_queries, params, queries
):
    def load() -> None:
        counts_forget()
        response = cataloguer_client.get(QUEUE, params)
        assert response.status_code == 200

    def waiting(n: int) -> None:
        # Each item's value names who set it: the catalogue, a person or a model's version.
        for i in range(n):
            # A record with all a focus mode shows: its description and extra fields.
            record = RecordFactory(description="About it", extra={"publisher": "A press"})
            prediction = PredictionFactory(record=record)
            FlagFactory(record=prediction.record, prediction=prediction)
            FieldValueFactory(
                record=prediction.record,
                **[
                    {"source": "import"},
                    {"source": "human", "action": "accepted", "user": cataloguer},
                    {"source": "model", "model_version": prediction.model_version},
                ][i % 3],
            )

    waiting(3)
    with django_assert_num_queries(queries):
        load()

    waiting(10)
    with django_assert_num_queries(queries):
        load()


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_it_refuses_a_logged_in_user_who_is_not_a_cataloguer(visitor_client):
    assert visitor_client.get(QUEUE).status_code == 403


@pytest.mark.django_db
def test_admins_may_work_the_queue_too(staff_client, field):
    PredictionFactory()

    assert len(staff_client.get(QUEUE).context["items"]) == 1


# --- one item ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_item_page_shows_the_item_and_the_history_of_its_value(cataloguer_client, labels):
    prediction = PredictionFactory(label="fra")
    FieldValueFactory(record=prediction.record, label="ita", source="import", is_current=False)
    FieldValueFactory(record=prediction.record, label="fra", source="model")

    response = cataloguer_client.get(reverse("review:item", args=[prediction.code]))

    assert response.status_code == 200
    assert [v.label for v in response.context["history"]] == ["fra", "ita"]
    assert reverse("review:decide", args=[prediction.code]) in response.content.decode()


@pytest.mark.django_db
def test_an_item_renders_as_a_partial_for_htmx(cataloguer_client, field):
    prediction = PredictionFactory()

    response = cataloguer_client.get(reverse("review:item", args=[prediction.code]), **HTMX)

    assert response.content.decode().lstrip().startswith("<article")


@pytest.mark.django_db
def test_an_unknown_item_is_not_found(cataloguer_client, field):
    url = reverse("review:item", args=["00000000-0000-0000-0000-000000000000"])

    assert cataloguer_client.get(url).status_code == 404


@pytest.mark.django_db
def test_an_item_is_forbidden_to_a_non_cataloguer_and_anonymous_must_log_in(client, visitor, field):
    url = reverse("review:item", args=[PredictionFactory().code])

    assert client.get(url).status_code == 302
    client.force_login(visitor)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_it_orders_by_margin_or_a_stable_random_audit_sample(cataloguer_client, field):
    close_call = PredictionFactory(confidence=0.5, margin=0.01)
    clear = PredictionFactory(confidence=0.3, margin=0.25)
    flagged = PredictionFactory(confidence=0.9, margin=0.8, flagged=True, routed_by="flag")

    def order(name: str) -> list[str]:
        response = cataloguer_client.get(QUEUE, {"order": name})
        return [str(item.prediction.code) for item in response.context["items"]]

    assert order("uncertainty") == [str(p.code) for p in (flagged, clear, close_call)]
    assert order("margin") == [str(p.code) for p in (flagged, close_call, clear)]
    audit = order("random")
    assert audit[0] == str(flagged.code) and sorted(audit) == sorted(order("margin"))
    assert audit == order("random")  # the same sample on every visit


@pytest.mark.django_db
def test_queue_cards_show_how_many_visitors_said_which_label_is_right(
    field, labels, cataloguer_client
):
    confirmed = PredictionFactory(field=field, label="spa", record__identifier="bl-000101")
    quiet = PredictionFactory(field=field, label="fra", record__identifier="bl-000102")
    for address, label in (("10.0.0.1", "spa"), ("10.0.0.2", "spa"), ("10.0.0.3", "ita")):
        # The visitor saw the waiting suggestion; one thought the catalogue's Italian was right.
        Confirmation.objects.create(
            record=confirmed.record, field=field, label=label, source="model", client_hash=address
        )
    for url in (QUEUE, QUEUE + "?view=focus"):
        html = cataloguer_client.get(url).text
        card = html.split(f'id="item-{confirmed.code}"', 1)[1].split("</article>", 1)[0]
        assert (
            "2 visitors said “Spanish (spa)” is right; 1 visitor said “Italian (ita)” is right"
            in card
        ), url
        other = html.split(f'id="item-{quiet.code}"', 1)
        if len(other) > 1:  # focus mode shows one item
            assert "is right" not in other[1].split("</article>", 1)[0]
