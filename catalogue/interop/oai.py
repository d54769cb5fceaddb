"""An OAI-PMH 2.0 data provider at ``/oai``: the public collections as sets, their records in
``oai_dc`` and ``marc21``, with resumption tokens and date ranges.

Only records of public collections are served, whoever asks (a harvester has no session), and
a model's value only where the field's policy shows predictions to the public. A record's
datestamp is the later of its own last change and its newest value, so an incremental harvest
picks up a cataloguer's decision. Resumption tokens are signed and carry the whole request
(with ``until`` fixed at the first page), so the list does not shift under a harvester and a
token cannot be forged to reach anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.db.models import DateTimeField, Max, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lxml import etree

from catalogue.interop.dc import OAI_DC_NS, OAI_DC_SCHEMA, record_to_dc
from catalogue.interop.export import record_marcxml
from catalogue.interop.marc import MARCXML_NS
from catalogue.interop.records import ExportRecord, export_records
from catalogue.models import Collection, Record

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MARC21_SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
FORMATS = {
    "oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS),
    "marc21": (MARC21_SCHEMA, MARCXML_NS),
}
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
TOKEN_SALT = "glamml.oai.resumption"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Which arguments each verb takes: required, optional, exclusive.
VERBS: dict[str, tuple[set[str], set[str], str | None]] = {
    "Identify": (set(), set(), None),
    "ListMetadataFormats": (set(), {"identifier"}, None),
    "ListSets": (set(), set(), "resumptionToken"),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "GetRecord": ({"identifier", "metadataPrefix"}, set(), None),
}


class OAIError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def page_size() -> int:
    return int(settings.GLAMML_OAI_PAGE_SIZE)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(value: str, *, end: bool) -> dt.datetime:
    """An OAI-PMH date (day or second granularity) as an aware datetime."""
    try:
        if len(value) == 10:
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return day + dt.timedelta(days=1, microseconds=-1) if end else day
        moment = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        return moment + dt.timedelta(microseconds=999_999) if end else moment
    except ValueError:
        raise OAIError(
            "badArgument", f"{value!r} is not a date of the form YYYY-MM-DD or {GRANULARITY}."
        ) from None


class _Datestamp(TypedDict):
    datestamp: dt.datetime


def public_records() -> QuerySet[WithAnnotations[Record, _Datestamp]]:
    """Records of public collections, with their datestamp (own change or newest value)."""
    return Record.objects.filter(collection__is_public=True).annotate(
        datestamp=Greatest(
            "updated_at",
            Coalesce(Max("values__created_at"), "updated_at"),
            output_field=DateTimeField(),
        )
    )


def identifier_for(request: HttpRequest, record: Record) -> str:
    return f"oai:{request.get_host().split(':')[0]}:{record.code}"


def _record_for(identifier: str) -> Record:
    try:
        code = UUID(identifier.rsplit(":", 1)[-1])
        return public_records().select_related("collection").get(code=code)
    except (ValueError, Record.DoesNotExist):
        raise OAIError(
            "idDoesNotExist", f"{identifier!r} is not an identifier in this repository."
        ) from None


# -- responses ----------------------------------------------------------------------------------


def _envelope(request: HttpRequest, args: dict[str, str]) -> tuple[Any, Any]:
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    etree.SubElement(root, f"{{{OAI_NS}}}responseDate").text = _stamp(timezone.now())
    base = etree.SubElement(root, f"{{{OAI_NS}}}request")
    base.text = request.build_absolute_uri(request.path)
    return root, base


def _sub(parent: Any, name: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, f"{{{OAI_NS}}}{name}", **attrs)
    if text is not None:
        element.text = text
    return element


def _response(root: Any) -> HttpResponse:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _check_arguments(verb: str, args: dict[str, str]) -> None:
    required, optional, exclusive = VERBS[verb]
    given = set(args) - {"verb"}
    if exclusive and exclusive in given:
        if given != {exclusive}:
            raise OAIError("badArgument", f"{exclusive} must be the only argument with {verb}.")
        return
    unknown = given - required - optional
    if unknown:
        raise OAIError("badArgument", f"{verb} does not take {', '.join(sorted(unknown))}.")
    missing = required - given
    if missing:
        raise OAIError("badArgument", f"{verb} needs {', '.join(sorted(missing))}.")


def _header(parent: Any, request: HttpRequest, record: Record) -> None:
    header = _sub(parent, "header")
    _sub(header, "identifier", identifier_for(request, record))
    _sub(header, "datestamp", _stamp(record.datestamp))  # type: ignore[attr-defined]
    _sub(header, "setSpec", record.collection.slug)


def _metadata(parent: Any, prefix: str, item: ExportRecord) -> None:
    metadata = _sub(parent, "metadata")
    if prefix == "oai_dc":
        metadata.append(record_to_dc(item))
    else:
        metadata.append(etree.fromstring(record_marcxml(item)))


# -- verbs --------------------------------------------------------------------------------------


def identify(request: HttpRequest, root: Any, args: dict[str, str]) -> None:
    # No datestamp is earlier than the first creation time: a datestamp is a later change.
    first = Record.objects.filter(collection__is_public=True).order_by("created_at").first()
    node = _sub(root, "Identify")
    _sub(node, "repositoryName", settings.GLAMML_INSTITUTION_NAME or "glamml")
    _sub(node, "baseURL", request.build_absolute_uri(request.path))
    _sub(node, "protocolVersion", "2.0")
    _sub(node, "adminEmail", settings.GLAMML_OAI_ADMIN_EMAIL)
    _sub(node, "earliestDatestamp", _stamp(first.created_at if first else EPOCH))
    _sub(node, "deletedRecord", "no")
    _sub(node, "granularity", GRANULARITY)


def list_metadata_formats(request: HttpRequest, root: Any, args: dict[str, str]) -> None:
    if "identifier" in args:
        _record_for(args["identifier"])
    node = _sub(root, "ListMetadataFormats")
    for prefix, (schema, namespace) in FORMATS.items():
        fmt = _sub(node, "metadataFormat")
        _sub(fmt, "metadataPrefix", prefix)
        _sub(fmt, "schema", schema)
        _sub(fmt, "metadataNamespace", namespace)


def list_sets(request: HttpRequest, root: Any, args: dict[str, str]) -> None:
    if "resumptionToken" in args:
        raise OAIError("badResumptionToken", "ListSets is never split: there is no token.")
    collections = Collection.objects.filter(is_public=True).order_by("slug")
    if not collections:
        raise OAIError("noSetHierarchy", "This repository has no public collections.")
    node = _sub(root, "ListSets")
    for collection in collections:
        entry = _sub(node, "set")
        _sub(entry, "setSpec", collection.slug)
        _sub(entry, "setName", collection.name)


def _list_state(args: dict[str, str]) -> dict[str, Any]:
    if "resumptionToken" in args:
        try:
            state: dict[str, Any] = signing.loads(args["resumptionToken"], salt=TOKEN_SALT)
        except signing.BadSignature:
            raise OAIError(
                "badResumptionToken", "The resumption token is not one this repository gave."
            ) from None
        return state
    prefix = args["metadataPrefix"]
    if prefix not in FORMATS:
        raise OAIError(
            "cannotDisseminateFormat", f"{prefix!r} is not offered: use oai_dc or marc21."
        )
    start = _parse_date(args["from"], end=False) if "from" in args else None
    end = _parse_date(args["until"], end=True) if "until" in args else timezone.now()
    if "from" in args and "until" in args and len(args["from"]) != len(args["until"]):
        raise OAIError("badArgument", "from and until must have the same granularity.")
    if start and "until" in args and start > end:
        raise OAIError("badArgument", "from is later than until.")
    if "set" in args and not Collection.objects.filter(slug=args["set"], is_public=True).exists():
        raise OAIError("noRecordsMatch", f"There is no public set {args['set']!r}.")
    return {
        "prefix": prefix,
        "set": args.get("set", ""),
        "from": start.isoformat() if start else "",
        "until": end.isoformat(),
        "after": 0,
        "cursor": 0,
    }


def _list(request: HttpRequest, root: Any, args: dict[str, str], *, with_metadata: bool) -> None:
    state = _list_state(args)
    records = public_records().filter(datestamp__lte=dt.datetime.fromisoformat(state["until"]))
    if state["from"]:
        records = records.filter(datestamp__gte=dt.datetime.fromisoformat(state["from"]))
    if state["set"]:
        records = records.filter(collection__slug=state["set"])
    total = records.count() if not state["cursor"] else state.get("total", 0)
    page = list(
        records.filter(id__gt=state["after"])
        .select_related("collection")
        .order_by("id")[: page_size() + 1]
    )
    if not page:
        if state["cursor"]:
            raise OAIError("badResumptionToken", "The list this token continues has ended.")
        raise OAIError("noRecordsMatch", "No public records match these arguments.")
    more = len(page) > page_size()
    page = page[: page_size()]
    verb = "ListRecords" if with_metadata else "ListIdentifiers"
    node = _sub(root, verb)
    if with_metadata:
        stamps = {r.id: r.datestamp for r in page}
        items = export_records(
            records=Record.objects.filter(id__in=[r.id for r in page]), public=True
        )
        for item in items:
            item.record.datestamp = stamps[item.record.id]  # type: ignore[attr-defined]
            entry = _sub(node, "record")
            _header(entry, request, item.record)
            _metadata(entry, state["prefix"], item)
    else:
        for record in page:
            _header(node, request, record)
    token_attrs = {"completeListSize": str(total), "cursor": str(state["cursor"])}
    if more:
        following = state | {
            "after": page[-1].id,
            "cursor": state["cursor"] + len(page),
            "total": total,
        }
        _sub(node, "resumptionToken", signing.dumps(following, salt=TOKEN_SALT), **token_attrs)
    elif state["cursor"]:
        _sub(node, "resumptionToken", "", **token_attrs)


def list_identifiers(request: HttpRequest, root: Any, args: dict[str, str]) -> None:
    _list(request, root, args, with_metadata=False)


def list_records(request: HttpRequest, root: Any, args: dict[str, str]) -> None:
    _list(request, root, args, with_metadata=True)


def get_record(request: HttpRequest, root: Any, args: dict[str, str]) -> None:
    prefix = args["metadataPrefix"]
    record = _record_for(args["identifier"])
    if prefix not in FORMATS:
        raise OAIError(
            "cannotDisseminateFormat", f"{prefix!r} is not offered: use oai_dc or marc21."
        )
    (item,) = export_records(records=Record.objects.filter(pk=record.pk), public=True)
    item.record.datestamp = record.datestamp  # type: ignore[attr-defined]
    entry = _sub(_sub(root, "GetRecord"), "record")
    _header(entry, request, item.record)
    _metadata(entry, prefix, item)


HANDLERS: dict[str, Callable[[HttpRequest, Any, dict[str, str]], None]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
    "GetRecord": get_record,
}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def endpoint(request: HttpRequest) -> HttpResponse:
    """The OAI-PMH endpoint. Errors are OAI-PMH ``<error>`` elements in a 200 response."""
    query = request.GET if request.method == "GET" else request.POST
    args = {key: query.getlist(key)[-1] for key in query}
    root, request_node = _envelope(request, args)
    try:
        repeated = [key for key in query if len(query.getlist(key)) > 1]
        if repeated:
            raise OAIError("badArgument", f"{repeated[0]} is given more than once.")
        verb = args.get("verb", "")
        if verb not in HANDLERS:
            raise OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb." if verb else "No verb.")
        _check_arguments(verb, args)
        for key, value in args.items():
            request_node.set(key, value)
        HANDLERS[verb](request, root, args)
    except OAIError as error:
        _sub(root, "error", error.message, code=error.code)
        # Keep only the envelope and the error: a half-built answer is no answer.
        for child in list(root):
            if etree.QName(child).localname not in {"responseDate", "request", "error"}:
                root.remove(child)
    return _response(root)
