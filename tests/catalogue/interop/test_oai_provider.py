from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from lxml import etree

from catalogue.models import DecisionPolicy, FieldValue, Record
from tests.factories import CollectionFactory, ModelVersionFactory, RecordFactory

NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "marc": "http://www.loc.gov/MARC21/slim",
}


def oai(client, **params):
    response = client.get("/oai", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return etree.fromstring(response.content)


def backdated(identifier: str, days: int = 30) -> Record:
    """A record whose last change (and its values') was ``days`` ago."""
    record = Record.objects.get(identifier=identifier)
    long_ago = timezone.now() - dt.timedelta(days=days)
    Record.objects.filter(pk=record.pk).update(updated_at=long_ago)
    FieldValue.objects.filter(record=record).update(created_at=long_ago)
    return record


def error_code(root) -> str:
    return root.find("o:error", NS).get("code")


@pytest.fixture
def repository(field, settings):
    settings.GLAMML_OAI_PAGE_SIZE = 2
    books = CollectionFactory(slug="books", name="Books")
    for i in range(5):
        record = RecordFactory(collection=books, identifier=f"b{i}", title=f"Livre numéro {i}")
        FieldValue.objects.create(record=record, field=field, label="fra", source="import")
    hidden = CollectionFactory(slug="hidden", name="Hidden", is_public=False)
    RecordFactory(collection=hidden, identifier="secret", title="Private record")
    return books


@pytest.mark.django_db
def test_identify_describes_the_repository(client, repository, settings):
    settings.GLAMML_INSTITUTION_NAME = "Example Library"
    root = oai(client, verb="Identify")
    assert root.findtext("o:Identify/o:repositoryName", namespaces=NS) == "Example Library"
    assert root.findtext("o:Identify/o:protocolVersion", namespaces=NS) == "2.0"
    assert root.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert root.findtext("o:Identify/o:baseURL", namespaces=NS).endswith("/oai")


@pytest.mark.django_db
def test_it_offers_dublin_core_and_marc21(client, repository):
    root = oai(client, verb="ListMetadataFormats")
    prefixes = root.xpath("//o:metadataPrefix/text()", namespaces=NS)
    assert prefixes == ["oai_dc", "marc21"]


@pytest.mark.django_db
def test_sets_are_the_public_collections_only(client, repository):
    root = oai(client, verb="ListSets")
    assert root.xpath("//o:setSpec/text()", namespaces=NS) == ["books"]


@pytest.mark.django_db
def test_list_records_pages_with_resumption_tokens_and_serves_public_records_only(
    client, repository
):
    seen, token, pages = [], None, 0
    while True:
        params = {"resumptionToken": token} if token else {"metadataPrefix": "oai_dc"}
        root = oai(client, verb="ListRecords", **params)
        pages += 1
        seen += root.xpath("//dc:identifier/text()", namespaces=NS)
        element = root.find("o:ListRecords/o:resumptionToken", NS)
        if element is None or not element.text:
            break
        assert element.get("completeListSize") == "5"
        token = element.text
    assert pages == 3
    assert sorted(seen) == ["b0", "b1", "b2", "b3", "b4"]


@pytest.mark.django_db
def test_list_identifiers_filters_by_set_and_date(client, repository):
    old = backdated("b0")
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%d")
    root = oai(
        client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="books", **{"from": since}
    )
    identifiers = root.xpath("//o:header/o:identifier/text()", namespaces=NS)
    assert str(old.code) not in " ".join(identifiers)
    assert root.find("o:ListIdentifiers/o:resumptionToken", NS).get("completeListSize") == "4"
    until = (timezone.now() - dt.timedelta(days=10)).strftime("%Y-%m-%d")
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until=until)
    (only,) = root.xpath("//o:header/o:identifier/text()", namespaces=NS)
    assert only.endswith(str(old.code))


@pytest.mark.django_db
def test_a_decision_moves_a_records_datestamp_forward(client, repository, field):
    record = backdated("b1")
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%d")
    before = oai(
        client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="books", **{"from": since}
    )
    assert str(record.code) not in etree.tostring(before).decode()
    FieldValue.objects.filter(record=record).update(is_current=False)
    FieldValue.objects.create(record=record, field=field, label="ita", source="human")
    after = oai(
        client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="books", **{"from": since}
    )
    assert after.find("o:ListIdentifiers/o:resumptionToken", NS).get("completeListSize") == "5"


@pytest.mark.django_db
def test_get_record_in_marc21_has_the_language_in_008(client, repository):
    record = Record.objects.get(identifier="b2")
    root = oai(
        client,
        verb="GetRecord",
        metadataPrefix="marc21",
        identifier=f"oai:testserver:{record.code}",
    )
    fixed = root.xpath("//marc:controlfield[@tag='008']/text()", namespaces=NS)[0]
    assert fixed[35:38] == "fre"
    assert root.findtext("o:GetRecord/o:record/o:header/o:setSpec", namespaces=NS) == "books"


@pytest.mark.django_db
def test_a_private_record_does_not_exist_for_a_harvester(client, repository, admin_user):
    client.force_login(admin_user)  # even a logged-in admin's browser gets public records only
    secret = Record.objects.get(identifier="secret")
    root = oai(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:x:{secret.code}")
    assert error_code(root) == "idDoesNotExist"
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="hidden")
    assert error_code(root) == "noRecordsMatch"


@pytest.mark.django_db
def test_model_values_are_hidden_when_the_policy_hides_them(client, repository, field):
    version = ModelVersionFactory(field=field)
    record = Record.objects.get(identifier="b3")
    FieldValue.objects.filter(record=record).update(is_current=False)
    FieldValue.objects.create(
        record=record,
        field=field,
        label="deu",
        source="model",
        model_version=version,
        confidence=0.99,
    )
    identifier = f"oai:x:{record.code}"
    shown = oai(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)
    assert shown.xpath("//dc:language/text()", namespaces=NS) == ["deu"]
    DecisionPolicy.objects.update(show_public=False)
    hidden = oai(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)
    assert hidden.xpath("//dc:language/text()", namespaces=NS) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "red"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "forged"}, "badResumptionToken"),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"},
            "noRecordsMatch",
        ),
        (
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:nope"},
            "idDoesNotExist",
        ),
    ],
)
def test_bad_requests_get_the_oai_error_that_names_them(client, repository, params, code):
    root = oai(client, **params)
    assert error_code(root) == code
    assert root.findtext("o:error", namespaces=NS)
    assert root.find("o:ListRecords", NS) is None
