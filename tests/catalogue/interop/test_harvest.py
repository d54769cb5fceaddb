"""Harvesting over real HTTP: sickle against glamml's own provider on a live server, and the
harvester against a small OAI-PMH server that fails part way."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from sickle import Sickle

from catalogue.interop.harvest import HarvestError, harvest_run
from catalogue.models import Collection, FieldValue, HarvestSource, Record
from tests.factories import CollectionFactory, RecordFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def published(field, settings):
    """Five public records (with an imported language) and one private, changed a day ago."""
    settings.GLAMML_OAI_PAGE_SIZE = 2
    books = CollectionFactory(slug="books", name="Books")
    titles = [
        "Histoire de France",
        "Geschichte Deutschlands",
        "Storia d'Italia",
        "A History",
        "Historia",
    ]
    for i, (title, language) in enumerate(
        zip(titles, ["fra", "deu", "ita", "eng", "spa"], strict=True)
    ):
        record = RecordFactory(collection=books, identifier=f"b{i}", title=title)
        FieldValue.objects.create(record=record, field=field, label=language, source="import")
    RecordFactory(collection=CollectionFactory(slug="hidden", is_public=False), identifier="secret")
    day_ago = timezone.now() - dt.timedelta(days=1)
    Record.objects.update(updated_at=day_ago)
    FieldValue.objects.update(created_at=day_ago)
    return books


def test_sickle_harvests_the_provider_across_resumption_tokens(live_server, published):
    sickle = Sickle(f"{live_server.url}/oai")
    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    assert sorted(r.metadata["identifier"][0] for r in records) == ["b0", "b1", "b2", "b3", "b4"]
    assert {r.header.setSpecs[0] for r in records} == {"books"}
    assert [s.setSpec for s in sickle.ListSets()] == ["books"]
    assert sickle.Identify().protocolVersion == "2.0"
    first = records[0]
    again = sickle.GetRecord(identifier=first.header.identifier, metadataPrefix="oai_dc")
    assert again.metadata["title"] == first.metadata["title"]


def test_harvesting_a_glamml_repository_copies_records_then_only_what_changed(
    live_server, published, field, cataloguer
):
    url = f"{live_server.url}/oai"
    call_command("harvest", url, "--collection", "copy", "--set", "books", "--prefix", "marc21")
    copies = Record.objects.filter(collection__slug="copy")
    assert sorted(copies.values_list("identifier", flat=True)) == ["b0", "b1", "b2", "b3", "b4"]
    copied = copies.get(identifier="b1")
    assert copied.title == "Geschichte Deutschlands"
    assert copied.values.get(is_current=True).label == "deu"
    source = HarvestSource.objects.get()
    assert (source.status, source.resumption_token) == ("done", "")
    assert source.harvested_until

    # A cataloguer corrects one record in the source; the next harvest asks only for changes.
    original = Record.objects.get(collection__slug="books", identifier="b3")
    FieldValue.objects.filter(record=original).update(is_current=False)
    FieldValue.objects.create(
        record=original, field=field, label="sco", source="human", user=cataloguer
    )
    result = harvest_run(
        url=url, collection=Collection.objects.get(slug="copy"), set_spec="books", prefix="marc21"
    )
    assert result.incremental_from == source.harvested_until
    assert result.records == 1
    assert copies.get(identifier="b3").values.get(is_current=True).label == "sco"


# -- a repository that fails part way ------------------------------------------------------------

PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2026-01-0{day}T10:00:00Z</responseDate><request verb="ListRecords">{base}</request>
<ListRecords>{records}{token}</ListRecords></OAI-PMH>"""
RECORD = """<record><header><identifier>oai:example:{id}</identifier>
<datestamp>2026-01-01</datestamp></header><metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title>
<dc:language>{language}</dc:language></oai_dc:dc></metadata></record>"""
ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01T10:00:00Z</responseDate>
<request>{base}</request><error code="badArgument">from is not a date</error></OAI-PMH>"""
MARC_RECORD = """<record><header><identifier>oai:example:{id}</identifier>
<datestamp>2026-01-01</datestamp></header><metadata><record xmlns="{ns}">
<leader>00000nam a2200000 a 4500</leader><controlfield tag="001">{id}</controlfield>
<controlfield tag="008">850101s1869    ru            000 1 rus d</controlfield>
<datafield tag="245" ind1="1" ind2="0"><subfield code="6">880-01</subfield>
<subfield code="a">Voĭna i mir /</subfield></datafield>
<datafield tag="880" ind1="1" ind2="0"><subfield code="6">245-01</subfield>
<subfield code="a">Война и мир /</subfield></datafield></record></metadata></record>"""
IDENTIFY = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01T10:00:00Z</responseDate>
<request verb="Identify">{base}</request><Identify><repositoryName>Example</repositoryName>
<baseURL>{base}</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>a@example.org</adminEmail>
<earliestDatestamp>2026-01-01</earliestDatestamp><deletedRecord>no</deletedRecord>
<granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>"""


class FlakyRepository:
    """Page 1 (two records), then page 2 fails with a server error until ``healed``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.healed = False
        self.answer_error = False
        self.forget_token_once = False
        self.marc_records = ""  # what a marcxml ListRecords answers
        self.cut_page_2 = False  # page 2 stops half way through its XML
        repository = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = {k: v[-1] for k, v in parse_qs(urlparse(self.path).query).items()}
                repository.requests.append(params)
                status, body = repository.answer(params, f"http://{self.headers['Host']}/oai")
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/oai"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, params: dict[str, str], base: str) -> tuple[int, str]:
        if params.get("verb") == "Identify":
            return 200, IDENTIFY.format(base=base)
        if self.answer_error:
            return 200, ERROR.format(base=base)
        if params.get("metadataPrefix") == "marcxml":
            return 200, PAGE.format(day=1, base=base, records=self.marc_records, token="")
        if params.get("resumptionToken") == "page-2":
            if self.forget_token_once:
                self.forget_token_once = False
                return 200, ERROR.replace("badArgument", "badResumptionToken").format(base=base)
            records = RECORD.format(id=3, title="Trzecia książka", language="pol")
            page = PAGE.format(day=2, base=base, records=records, token="<resumptionToken/>")
            if self.cut_page_2:
                return 200, page[: len(page) // 2]
            if not self.healed:
                return 500, "Internal Server Error"
            return 200, page
        records = RECORD.format(id=1, title="Erstes Buch", language="ger") + RECORD.format(
            id=2, title="Deuxième livre", language="fre"
        )
        token = '<resumptionToken completeListSize="3" cursor="0">page-2</resumptionToken>'
        return 200, PAGE.format(day=1, base=base, records=records, token=token)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky():
    repository = FlakyRepository()
    yield repository
    repository.close()


def test_a_harvest_that_stops_mid_way_keeps_whole_pages_and_resumes(flaky, field):
    collection = CollectionFactory(slug="harvested")
    with pytest.raises(HarvestError) as caught:
        harvest_run(url=flaky.url, collection=collection)
    message = str(caught.value)
    assert flaky.url in message and "after 1 page(s)" in message and "500" in message
    assert sorted(Record.objects.values_list("identifier", flat=True)) == [
        "oai:example:1",
        "oai:example:2",
    ]
    source = HarvestSource.objects.get()
    assert (source.status, source.resumption_token) == ("failed", "page-2")

    flaky.healed = True
    flaky.requests.clear()
    result = harvest_run(url=flaky.url, collection=collection)
    assert result.resumed and result.records == 1
    assert flaky.requests == [{"verb": "ListRecords", "resumptionToken": "page-2"}]
    assert Record.objects.count() == 3
    assert Record.objects.get(identifier="oai:example:3").values.get().label == "pol"
    source.refresh_from_db()
    # The harvest began when its first page was served (1 January), not when it resumed (2
    # January): a record changed in between, on the page already stored, must come next time.
    assert (source.status, source.harvested_until) == ("done", "2026-01-01T10:00:00Z")

    # The next harvest is incremental, in the day granularity the repository announces.
    flaky.requests.clear()
    harvest_run(url=flaky.url, collection=collection)
    assert {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "from": "2026-01-01",
    } in flaky.requests


def test_a_page_cut_off_half_way_is_named_and_the_harvest_resumes_there(flaky, field):
    collection = CollectionFactory(slug="harvested")
    flaky.cut_page_2 = True
    with pytest.raises(HarvestError) as caught:
        harvest_run(url=flaky.url, collection=collection)
    assert "after 1 page(s) (2 records stored)" in str(caught.value)
    assert "page 2 is not well-formed XML, perhaps cut off part way" in str(caught.value)
    assert HarvestSource.objects.get().resumption_token == "page-2"
    assert Record.objects.count() == 2
    flaky.cut_page_2, flaky.healed = False, True
    flaky.requests.clear()
    assert harvest_run(url=flaky.url, collection=collection).resumed
    assert flaky.requests == [{"verb": "ListRecords", "resumptionToken": "page-2"}]
    assert Record.objects.count() == 3


def test_an_oai_error_is_reported_by_its_code_and_stores_nothing(flaky, field):
    flaky.answer_error = True
    with pytest.raises(CommandError, match="BadArgument: from is not a date"):
        call_command("harvest", flaky.url, "--collection", "fresh")
    assert not Record.objects.exists()
    assert HarvestSource.objects.get().status == "failed"


def test_a_resumed_harvest_whose_token_expired_starts_that_harvest_again(flaky, field):
    collection = CollectionFactory(slug="harvested")
    with pytest.raises(HarvestError):
        harvest_run(url=flaky.url, collection=collection)
    flaky.healed, flaky.forget_token_once = True, True
    flaky.requests.clear()

    result = harvest_run(url=flaky.url, collection=collection)

    assert [r.get("resumptionToken") or r.get("metadataPrefix") for r in flaky.requests] == [
        "page-2",  # the stored token: the server has forgotten it
        "oai_dc",  # so the interrupted harvest starts again from its first page
        "page-2",
    ]
    assert result.resumed and result.pages == 2
    assert Record.objects.count() == 3
    assert HarvestSource.objects.get().status == "done"


def test_a_marcxml_harvest_reads_marc_and_refuses_metadata_in_another_namespace(flaky, field):
    flaky.marc_records = MARC_RECORD.format(id="m1", ns="http://www.loc.gov/MARC21/slim")
    harvest_run(url=flaky.url, collection=CollectionFactory(slug="marc"), prefix="marcxml")
    record = Record.objects.get(identifier="m1")
    assert (record.title, record.extra["title_original_script"]) == ("Voĭna i mir", "Война и мир")
    assert record.values.get(is_current=True).label == "rus"

    flaky.marc_records = MARC_RECORD.format(id="m2", ns="http://example.org/not-marc")
    with pytest.raises(HarvestError) as caught:
        harvest_run(url=flaky.url, collection=CollectionFactory(slug="other"), prefix="marcxml")
    assert "record 1 (oai:example:m2)" in str(caught.value)
    assert "'http://example.org/not-marc', not MARCXML's" in str(caught.value)
    assert not Record.objects.filter(collection__slug="other").exists()
