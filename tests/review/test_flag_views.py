from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.models import Decision, Flag
from tests.factories import FlagFactory, PredictionFactory, RecordFactory
from tests.review.conftest import HTMX

FLAGS = reverse("review:flags")


@pytest.mark.django_db
def test_it_lists_open_flags_with_a_link_to_each_queue_item(cataloguer_client, labels):
    prediction = PredictionFactory(
        label="fra", flagged=True, routed_by="flag", record__identifier="bl-000777"
    )
    FlagFactory(
        record=prediction.record,
        prediction=prediction,
        flagged_label="fra",
        proposed_label="ita",
        comment="Surely Italian",
    )
    FlagFactory(status=Flag.Status.RESOLVED, comment="Already dealt with")

    response = cataloguer_client.get(FLAGS)

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("bl-000777", "Surely Italian", "just now"):
        assert text in html, text
    # Names a person reads, each with its code once, as everywhere else in the app.
    row = html.split("bl-000777", 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Flagged value">French (fra)</td>' in row
    assert '<td data-label="Proposed">Italian (ita)</td>' in row
    assert "<code>" not in row and "label-code" not in row
    assert reverse("review:item", args=[prediction.code]) in html
    assert "Already dealt with" not in html
    assert len(response.context["rows"]) == 1


@pytest.mark.django_db
def test_it_filters_flags_by_field_and_collection(cataloguer_client, field):
    wanted = FlagFactory(record=RecordFactory(collection__slug="maps"))
    FlagFactory(record=RecordFactory(collection__slug="books"))

    response = cataloguer_client.get(FLAGS, {"collection": "maps", "field": "language"})

    assert [row.flag for row in response.context["rows"]] == [wanted]


@pytest.mark.django_db
def test_it_renders_only_the_list_for_htmx(cataloguer_client, field):
    FlagFactory()

    response = cataloguer_client.get(FLAGS, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="flag-list"')
    assert "<html" not in html


@pytest.mark.django_db
def test_flags_are_for_cataloguers_only(client, visitor, field):
    FlagFactory()

    assert client.get(FLAGS).status_code == 302
    client.force_login(visitor)
    assert client.get(FLAGS).status_code == 403


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_the_number_of_flags(
    cataloguer_client, field, django_assert_num_queries
):
    FlagFactory.create_batch(2)
    with django_assert_num_queries(8):
        cataloguer_client.get(FLAGS)
    FlagFactory.create_batch(10)
    with django_assert_num_queries(8):
        cataloguer_client.get(FLAGS)


@pytest.mark.django_db
def test_a_visitors_proposal_is_applied_as_the_cataloguers_decision(
    cataloguer_client, cataloguer, labels
):
    prediction = PredictionFactory(label="fra", flagged=True, routed_by="flag")
    flag = FlagFactory(
        record=prediction.record, prediction=prediction, flagged_label="fra", proposed_label="ita"
    )
    html = cataloguer_client.get(FLAGS).content.decode()
    form = html.split('class="apply-proposal"')[0].rsplit("<form", 1)[1]
    assert f'action="{reverse("review:decide", args=[prediction.code])}"' in form
    assert "Apply Italian" in html.split('class="apply-proposal"')[1]

    response = cataloguer_client.post(
        reverse("review:decide", args=[prediction.code]),
        {"action": "correct", "label": "ita", "review_round": 0, "next": FLAGS},
    )

    assert response.status_code == 302
    assert response.url == FLAGS
    decision = Decision.objects.get()
    assert (decision.action, decision.label, decision.reviewer) == ("correct", "ita", cataloguer)
    flag.refresh_from_db()
    assert flag.status == Flag.Status.RESOLVED
    assert "apply-proposal" not in cataloguer_client.get(FLAGS).content.decode()
