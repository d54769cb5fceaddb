from __future__ import annotations

import csv
import io
import json

import pymarc
import pytest
from django.core.management import call_command
from lxml import etree

from catalogue.interop.export import collection_export
from catalogue.models import Collection, DecisionPolicy, Prediction, Record
from catalogue.services.decisions import decision_make
from catalogue.services.imports import records_import
from catalogue.services.predictions import predictions_create
from tests.catalogue.interop.marc_files import book, write_marcxml
from tests.factories import (
    FieldValueFactory,
    ModelVersionFactory,
    RecordFactory,
    spot_checks_off,
)


def exported(collection, fmt, **kwargs) -> bytes:
    return b"".join(collection_export(collection=collection, fmt=fmt, **kwargs))


@pytest.fixture
def reviewed_collection(tmp_path, active_model, cataloguer, settings):
    """A MARCXML file imported, predicted (one value applied by the model) and reviewed."""
    settings.GLAMML_INSTITUTION = "XX-GlaML"
    path = write_marcxml(
        tmp_path / "in.xml",
        [
            book("k1", "Geschichte der deutschen Literatur", language="ger"),
            book("k2", "Histoire de la littérature française depuis les origines", language="   "),
            book("k3", "Storia della letteratura italiana dalle origini", language="   "),
        ],
    )
    collection = Collection.objects.create(slug="kat", name="Katalog")
    records_import(path=path, collection=collection, fmt="marcxml")
    field = active_model.field
    DecisionPolicy.objects.filter(field=field).update(mode=DecisionPolicy.Mode.AUTO)
    spot_checks_off(field)
    ids = dict(Record.objects.values_list("identifier", "id"))
    predictions_create(field=field, record_ids=[ids["k2"]])
    predictions_create(field=field, record_ids=[ids["k3"]], force_review=True)
    queued = Prediction.objects.get(record_id=ids["k3"], status="queued")
    decision_make(prediction=queued, reviewer=cataloguer, action="correct", label="ita")
    return collection


@pytest.mark.django_db
def test_a_reviewed_marcxml_file_round_trips_with_008_041_and_883(reviewed_collection, tmp_path):
    out = tmp_path / "out.xml"
    call_command("export_records", "--collection", "kat", "--format", "marcxml", "--out", str(out))
    records = {r["001"].data: r for r in pymarc.parse_xml_to_array(str(out), strict=True)}
    assert set(records) == {"k1", "k2", "k3"}

    imported, applied, corrected = records["k1"], records["k2"], records["k3"]
    assert imported["008"].data[35:38] == "ger"
    assert imported["041"].get_subfields("a") == ["ger"]
    assert not imported.get_fields("883")

    prediction = Prediction.objects.get(record__identifier="k2")
    assert prediction.status == "applied"
    assert applied["008"].data[35:38] == applied["041"]["a"] != "   "
    assert applied["041"]["8"] == "1\\p"
    (provenance,) = applied.get_fields("883")
    assert provenance.indicator1 == "0"
    assert provenance["8"] == "1\\p"
    assert provenance["a"] == "glamml language v1"
    assert float(provenance["c"]) == pytest.approx(prediction.confidence, abs=1e-4)
    assert len(provenance["d"]) == 8 and provenance["d"].isdigit()
    assert provenance["q"] == "XX-GlaML"

    assert corrected["008"].data[35:38] == "ita"
    assert not corrected.get_fields("883")
    assert corrected["245"]["a"] == "Storia della letteratura italiana dalle origini"
    assert corrected["260"]["a"] == "Leipzig"


@pytest.mark.django_db
def test_csv_and_jsonl_carry_each_values_provenance(reviewed_collection, cataloguer):
    rows = {
        r["identifier"]: r
        for r in csv.DictReader(io.StringIO(exported(reviewed_collection, "csv").decode()))
    }
    assert (rows["k1"]["language"], rows["k1"]["language_source"]) == ("deu", "import")
    assert rows["k2"]["language_source"] == "model"
    assert rows["k2"]["language_model_version"] == "1"
    assert float(rows["k2"]["language_confidence"]) > 0
    assert (rows["k3"]["language"], rows["k3"]["language_source"]) == ("ita", "human")
    assert (rows["k3"]["language_action"], rows["k3"]["language_user"]) == (
        "corrected",
        cataloguer.username,
    )
    assert rows["k1"]["place"] == "Leipzig"

    lines = [json.loads(line) for line in exported(reviewed_collection, "jsonl").splitlines()]
    by_id = {line["identifier"]: line for line in lines}
    assert by_id["k3"]["language"] == "ita"
    assert by_id["k3"]["provenance"]["language"]["source"] == "human"
    assert by_id["k2"]["provenance"]["language"]["model_version"] == 1


@pytest.mark.django_db
def test_a_csv_export_imports_again_with_the_same_records_and_values(reviewed_collection, tmp_path):
    path = tmp_path / "again.csv"
    path.write_bytes(exported(reviewed_collection, "csv"))
    other = Collection.objects.create(slug="copy", name="Copy")
    records_import(path=path, collection=other, mapping={"language": "language"})
    copied = Record.objects.get(collection=other, identifier="k3")
    assert copied.title == "Storia della letteratura italiana dalle origini"
    assert copied.values.get(is_current=True).label == "ita"


@pytest.mark.django_db
def test_dublin_core_names_title_language_and_publisher(reviewed_collection):
    root = etree.fromstring(exported(reviewed_collection, "dc"))
    ns = {
        "dc": "http://purl.org/dc/elements/1.1/",
        "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    }
    records = root.findall("oai_dc:dc", ns)
    assert len(records) == 3
    first = next(r for r in records if r.findtext("dc:identifier", namespaces=ns) == "k1")
    assert first.findtext("dc:title", namespaces=ns) == "Geschichte der deutschen Literatur"
    assert first.findtext("dc:language", namespaces=ns) == "deu"
    assert first.findtext("dc:publisher", namespaces=ns) == "Leipzig : Teubner"


@pytest.mark.django_db
def test_a_public_export_hides_model_values_when_the_policy_does(reviewed_collection):
    DecisionPolicy.objects.update(show_public=False)
    rows = {
        r["identifier"]: r
        for r in csv.DictReader(
            io.StringIO(exported(reviewed_collection, "csv", public=True).decode())
        )
    }
    assert rows["k2"]["language"] == ""
    assert rows["k3"]["language_user"] == ""  # no cataloguer names in a public export
    assert rows["k3"]["language"] == "ita"


@pytest.mark.django_db
def test_a_label_a_model_applied_is_a_655_with_its_own_883(genre, field, settings):
    settings.GLAMML_INSTITUTION = "XX-GlaML"
    collection = Collection.objects.create(slug="art", name="Art")
    record = RecordFactory(collection=collection, identifier="a1", title="A novel")
    FieldValueFactory(record=record, field=field, label="eng", source="import")
    FieldValueFactory(
        record=record,
        field=genre,
        label="Fiction",
        source="model",
        model_version=ModelVersionFactory(field=genre, version=4),
        confidence=0.8125,
    )
    (out,) = pymarc.parse_xml_to_array(io.BytesIO(exported(collection, "marcxml")), strict=True)
    assert out["041"].get_subfields("8") == []  # the catalogue's language: no 883
    (form,) = out.get_fields("655")
    assert (form["a"], form["8"]) == ("Fiction", "1\\p")
    (provenance,) = out.get_fields("883")
    assert provenance.get_subfields("8", "a", "c", "q") == [
        "1\\p",
        "glamml genre v4",
        "0.8125",
        "XX-GlaML",
    ]
