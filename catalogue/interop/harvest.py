"""Harvesting an OAI-PMH repository into a collection with sickle, resumable and incremental.

Each page of ``ListRecords`` becomes the same row stream a file import gives and goes through
the same validator and writer (``records_import``), in one transaction with the resumption
token that follows it. So a harvest that stops part way (a server error, a network failure, a
worker killed) has stored whole pages only, and the next run goes on after the last of them. A
finished harvest keeps the server's time when it began, and the next harvest asks only for
records changed since (``from``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.db import transaction
from django.db.models import F
from lxml import etree
from sickle import Sickle, oaiexceptions
from sickle.iterator import OAIResponseIterator
from sickle.oaiexceptions import BadResumptionToken, NoRecordsMatch

from catalogue.interop.marc import MARCXML_NS, MarcError, record_row, xml_record
from catalogue.models import Collection, HarvestSource
from catalogue.services.imports import ImportFileError, records_import
from glamml.ml.languages import UnknownLanguageError, normalise_catalogue_language

# Every error an OAI-PMH server can answer with (sickle raises one class per code).
OAI_ERRORS = (
    oaiexceptions.BadArgument,
    oaiexceptions.BadVerb,
    oaiexceptions.BadResumptionToken,
    oaiexceptions.CannotDisseminateFormat,
    oaiexceptions.IdDoesNotExist,
    oaiexceptions.NoSetHierarchy,
    oaiexceptions.NoMetadataFormat,
    oaiexceptions.OAIError,
)
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
PREFIXES = {"oai_dc": "oai_dc", "marc21": "marc21", "marcxml": "marcxml"}
JOIN = " | "
TIMEOUT_SECONDS = 60
_STRICT_XML = etree.XMLParser(resolve_entities=False, huge_tree=True)

HARVEST_FAILED = (
    "Harvest of {url} stopped after {pages} page(s) ({records} records stored): {reason}. "
    "Run it again to resume after the last stored page."
)


class HarvestError(Exception):
    """The harvest stopped; what was stored stays, and the next run resumes."""


@dataclass
class HarvestResult:
    pages: int = 0
    records: int = 0
    resumed: bool = False
    incremental_from: str = ""
    nothing_new: bool = False


def _texts(element: Any, name: str) -> list[str]:
    return [
        " ".join(e.text.split())
        for e in element.iterfind(f".//{{{DC_NS}}}{name}")
        if e.text and e.text.strip()
    ]


def _dc_row(header_id: str, dc: Any) -> dict[str, str]:
    titles = _texts(dc, "title")
    languages = _texts(dc, "language")
    row = {
        "identifier": header_id,
        "title": titles[0] if titles else "",
        "description": JOIN.join(_texts(dc, "description")),
        "language": "",
        "other_titles": JOIN.join(titles[1:]),
        "publisher": JOIN.join(_texts(dc, "publisher")),
        "date": next(iter(_texts(dc, "date")), ""),
        "subjects": JOIN.join(dict.fromkeys(_texts(dc, "subject"))),
    }
    for value in languages:
        # A harvested language is read leniently, as in a MARC record: one the code lists do
        # not know is kept as text and never stops the harvest.
        try:
            row["language"] = normalise_catalogue_language(value)
            break
        except UnknownLanguageError:
            row.setdefault("language_as_catalogued", value)
    return {k: v for k, v in row.items() if v or k in ("identifier", "title", "language")}


def page_rows(xml: Any, *, prefix: str, where: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The row stream of one ``ListRecords`` page (deleted records are skipped)."""
    columns = ["identifier", "title", "description", "language"]
    rows = []
    for n, record in enumerate(xml.iterfind(f".//{{{OAI_NS}}}record"), start=1):
        header = record.find(f"{{{OAI_NS}}}header")
        if header is None or header.get("status") == "deleted":
            continue
        header_id = (header.findtext(f"{{{OAI_NS}}}identifier") or "").strip()
        place = f"{where}, record {n} ({header_id})"
        metadata = record.find(f"{{{OAI_NS}}}metadata")
        if metadata is None or len(metadata) == 0:
            raise ImportFileError(f"{place}: the record has no metadata.")
        payload = metadata[0]
        if prefix == "oai_dc":
            row = _dc_row(header_id, payload)
        else:
            if etree.QName(payload).namespace != MARCXML_NS:
                raise ImportFileError(
                    f"{place}: the metadata is in namespace "
                    f"{etree.QName(payload).namespace!r}, not MARCXML's {MARCXML_NS!r}."
                )
            try:
                row = record_row(xml_record(payload, where=place))
            except MarcError as exc:
                raise ImportFileError(str(exc)) from None
            row["identifier"] = row["identifier"] or header_id
        rows.append((place, row))
        columns += [k for k in row if k not in columns]
    yield "", {c: c for c in columns}
    for place, row in rows:
        yield place, {c: row.get(c, "") for c in columns}


def _from_date(sickle: Sickle, stamp: str) -> str:
    """``stamp`` in the granularity the repository supports (many support days only)."""
    granularity = getattr(sickle.Identify(), "granularity", "YYYY-MM-DD")
    return stamp if "hh" in granularity else stamp[:10]


def _source(*, url: str, collection: Collection, set_spec: str, prefix: str) -> HarvestSource:
    source, _ = HarvestSource.objects.get_or_create(
        collection=collection, url=url, set_spec=set_spec, metadata_prefix=prefix
    )
    return source


def harvest_run(
    *,
    url: str,
    collection: Collection,
    set_spec: str = "",
    prefix: str = "oai_dc",
    full: bool = False,
    progress: Callable[[int], None] | None = None,
    client: Sickle | None = None,
) -> HarvestResult:
    """Harvest ``url`` into ``collection``: resume a stopped harvest, else ask for what changed.

    ``full`` harvests everything again (a stopped harvest's token is dropped). Raises
    :class:`HarvestError` naming the page and the reason; the pages stored before stay stored.
    """
    if prefix not in PREFIXES:
        raise HarvestError(f"Unknown metadata prefix {prefix!r}: use oai_dc, marc21 or marcxml.")
    source = _source(url=url, collection=collection, set_spec=set_spec, prefix=prefix)
    sickle = client or Sickle(url, iterator=OAIResponseIterator, timeout=TIMEOUT_SECONDS)
    result = HarvestResult()
    if full:
        source.resumption_token, source.harvest_from = "", ""
    result.resumed = bool(source.resumption_token)
    if not result.resumed:
        source.harvest_from = "" if full else source.harvested_until
    result.incremental_from = source.harvest_from
    source.status, source.message = HarvestSource.Status.RUNNING, ""
    source.save()
    started = ""
    try:
        started = _harvest_pages(sickle, source=source, result=result, progress=progress)
    except NoRecordsMatch:
        result.nothing_new = True
    except (*OAI_ERRORS, ImportFileError, requests.RequestException, etree.XMLSyntaxError) as exc:
        reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, OAI_ERRORS) else str(exc)
        reason = reason.rstrip(".")  # the message below ends the sentence
        message = HARVEST_FAILED.format(
            url=url, pages=result.pages, records=result.records, reason=reason or "no reason given"
        )
        HarvestSource.objects.filter(pk=source.pk).update(
            status=HarvestSource.Status.FAILED, message=message
        )
        raise HarvestError(message) from exc
    HarvestSource.objects.filter(pk=source.pk).update(
        status=HarvestSource.Status.DONE,
        resumption_token="",
        harvest_started="",
        harvested_until=started or source.harvested_until,
        message="",
    )
    return result


def _harvest_pages(
    sickle: Sickle,
    *,
    source: HarvestSource,
    result: HarvestResult,
    progress: Callable[[int], None] | None,
) -> str:
    """Store each page in turn; the server's responseDate at the harvest's first page."""
    pages, restarted = _list_records(sickle, source=source, resumed=result.resumed)
    # A resumed harvest began when its first page was served, not when it resumed: a record
    # changed in between, on a page already stored, must come with the next incremental harvest.
    started = source.harvest_started if result.resumed and not restarted else ""
    for response in pages:
        number = result.pages + 1
        _well_formed(response, where=f"{source.url} page {number}")
        started = started or (response.xml.findtext(f".//{{{OAI_NS}}}responseDate") or "")
        token = (pages.resumption_token.token or "") if pages.resumption_token else ""
        stored = _store_page(response, source=source, token=token, number=number, started=started)
        result.pages, result.records = number, result.records + stored
        if progress:
            progress(stored)
    return started


def _well_formed(response: Any, *, where: str) -> None:
    """Refuse a page that is not well-formed XML. sickle parses leniently (lxml's recover), so
    a page cut off part way would read as a shorter page, perhaps without its resumption token:
    records lost and the harvest taken for finished."""
    try:
        etree.fromstring(response.http_response.content, parser=_STRICT_XML)
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(
            f"{where} is not well-formed XML, perhaps cut off part way ({exc.msg})"
        ) from None


def _list_records(sickle: Sickle, *, source: HarvestSource, resumed: bool) -> tuple[Any, bool]:
    """The ListRecords pages: after the stored token, else from the source's from-date; and
    whether a resumed harvest had to start again from its first page."""
    if resumed:
        try:
            return sickle.ListRecords(resumptionToken=source.resumption_token), False
        except BadResumptionToken:
            # The server forgot the token (they expire): start the interrupted harvest again.
            # Pages stored before are imported again, which changes nothing.
            pass
    params = {"metadataPrefix": source.metadata_prefix}
    if source.set_spec:
        params["set"] = source.set_spec
    if source.harvest_from:
        params["from"] = _from_date(sickle, source.harvest_from)
    return sickle.ListRecords(**params), resumed


def _store_page(
    response: Any, *, source: HarvestSource, token: str, number: int, started: str
) -> int:
    """Import one page with the token that follows it, in one transaction; records stored."""
    where = f"{source.url} page {number}"
    prefix = source.metadata_prefix
    with transaction.atomic():
        imported = records_import(
            path=where,
            collection=source.collection,
            fmt="csv" if prefix == "oai_dc" else "marcxml",
            mapping={"language": "language"},
            stream=page_rows(response.xml, prefix=prefix, where=where),
        )
        HarvestSource.objects.filter(pk=source.pk).update(
            resumption_token=token,
            harvest_started=started,
            records_harvested=F("records_harvested") + imported.rows,
        )
    return imported.rows
