from __future__ import annotations

import io

import pymarc
import pytest
from django.urls import reverse
from lxml import etree

from catalogue.models import FieldValue
from tests.factories import CollectionFactory, RecordFactory


@pytest.fixture
def books(field):
    collection = CollectionFactory(slug="books", name="Books")
    record = RecordFactory(collection=collection, identifier="b1", title="Histoire de France")
    FieldValue.objects.create(record=record, field=field, label="fra", source="import")
    return collection


@pytest.fixture
def hidden(field):
    collection = CollectionFactory(slug="hidden", name="Hidden", is_public=False)
    RecordFactory(collection=collection, identifier="h1", title="Private")
    return collection


@pytest.mark.django_db
def test_an_admin_downloads_a_collection_as_marcxml(client, admin_user, books):
    client.force_login(admin_user)
    response = client.get(reverse("catalogue:collection-export", args=["books", "marcxml"]))
    assert response.status_code == 200
    assert 'filename="books.marc.xml"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    (record,) = pymarc.parse_xml_to_array(io.BytesIO(body), strict=True)
    assert record["008"].data[35:38] == "fre"


@pytest.mark.django_db
def test_the_collection_page_offers_exports_to_admins_only(client, admin_user, cataloguer, books):
    url = reverse("catalogue:collection", args=["books"])
    export = reverse("catalogue:collection-export", args=["books", "csv"])
    assert export not in client.get(url).content.decode()
    client.force_login(cataloguer)
    assert export not in client.get(url).content.decode()
    client.force_login(admin_user)
    assert export in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_cataloguer_may_see_but_not_export_a_collection(client, cataloguer, books):
    client.force_login(cataloguer)
    response = client.get(reverse("catalogue:collection-export", args=["books", "csv"]))
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_private_collection_export_is_a_404_for_visitors(client, visitor, hidden):
    client.force_login(visitor)
    response = client.get(reverse("catalogue:collection-export", args=["hidden", "csv"]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_an_unknown_export_format_is_a_404(client, admin_user, books):
    client.force_login(admin_user)
    response = client.get(reverse("catalogue:collection-export", args=["books", "pdf"]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_public_record_offers_dublin_core_and_marcxml(client, books):
    record = books.records.get()
    page = client.get(reverse("catalogue:record", args=[record.code])).content.decode()
    assert reverse("catalogue:record-dc", args=[record.code]) in page
    response = client.get(reverse("catalogue:record-dc", args=[record.code]))
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert root.findtext(".//{http://purl.org/dc/elements/1.1/}language") == "fra"
    response = client.get(reverse("catalogue:record-marcxml", args=[record.code]))
    (parsed,) = pymarc.parse_xml_to_array(io.BytesIO(response.content), strict=True)
    assert parsed["245"]["a"] == "Histoire de France"


@pytest.mark.django_db
def test_a_private_record_has_no_dublin_core_for_visitors(client, hidden):
    record = hidden.records.get()
    assert client.get(reverse("catalogue:record-dc", args=[record.code])).status_code == 404
    assert client.get(reverse("catalogue:record-marcxml", args=[record.code])).status_code == 404
