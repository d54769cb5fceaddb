"""The round trip a library makes: MARCXML in, predicted, reviewed over the API, MARCXML out."""

from __future__ import annotations

import pymarc
import pytest
from django.core.management import call_command
from django.test import Client

from catalogue.models import DecisionPolicy, Prediction, Record
from catalogue.services.predictions import predictions_create
from tests.catalogue.api.conftest import bearer
from tests.catalogue.interop.marc_files import book, write_marcxml
from tests.factories import spot_checks_off


@pytest.mark.django_db
def test_marcxml_in_reviewed_over_the_api_and_out_with_008_041_and_883(
    tmp_path, active_model, cataloguer, settings
):
    settings.GLAMML_INSTITUTION = "XX-GlaML"
    source = write_marcxml(
        tmp_path / "in.xml",
        [
            book("k1", "Geschichte der deutschen Literatur", language="   "),
            book("k2", "Storia della letteratura italiana dalle origini", language="   "),
        ],
    )
    DecisionPolicy.objects.filter(field=active_model.field).update(
        mode=DecisionPolicy.Mode.THRESHOLD, threshold=0.0
    )
    spot_checks_off(active_model.field)
    call_command("import_records", str(source), "--collection", "kat", "--format", "marcxml")
    # What the task enqueued after the import's commit does (a test's transaction never commits).
    predictions_create(
        field=active_model.field, record_ids=Record.objects.values_list("id", flat=True)
    )
    applied = {p.record.identifier: p for p in Prediction.objects.select_related("record")}
    assert {p.status for p in applied.values()} == {"applied"}

    # k2 goes back to the queue (as a public flag sends it), and a cataloguer corrects it over
    # the API.
    client = Client()
    headers = bearer(cataloguer)
    Prediction.objects.filter(pk=applied["k2"].pk).update(status="queued", review_round=1)
    response = client.post(
        f"/api/predictions/{applied['k2'].code}/decision",
        {"action": "correct", "label": "ita", "review_round": 1},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200, response.content

    out = tmp_path / "out.xml"
    call_command("export_records", "--collection", "kat", "--format", "marcxml", "--out", str(out))
    records = {r["001"].data: r for r in pymarc.parse_xml_to_array(str(out), strict=True)}
    machine, person = records["k1"], records["k2"]
    assert machine["008"].data[35:38] == machine["041"]["a"] == "ger"
    (provenance,) = machine.get_fields("883")
    assert provenance["a"] == "glamml language v1" and provenance["q"] == "XX-GlaML"
    assert float(provenance["c"]) == pytest.approx(applied["k1"].confidence, abs=1e-4)
    assert person["008"].data[35:38] == person["041"]["a"] == "ita"
    assert not person.get_fields("883")
