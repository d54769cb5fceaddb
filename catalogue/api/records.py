"""Collections and records: read them with their values and provenance, submit new ones."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field as PydanticField

from catalogue.access import (
    get_collection_for_visitor,
    get_record_for_visitor,
    visible_collections,
)
from catalogue.api.schemas import (
    MAX_OFFSET,
    CollectionOut,
    Error,
    RecordOut,
    RecordPage,
    RecordsIn,
    Slug,
    SubmitOut,
    refuse_unknown_query,
)
from catalogue.interop.records import ExportRecord, export_records
from catalogue.models import Record
from catalogue.roles import is_cataloguer
from catalogue.services.imports import ImportFileError
from catalogue.services.submissions import SubmissionError, SubmittedRecord, records_submit

router = Router(tags=["records"])
NOT_A_CATALOGUER = "Only cataloguers may submit records."


class PageQuery(Schema):
    collection: Slug | None = PydanticField(default=None, description="A collection's slug.")
    limit: int = PydanticField(default=100, ge=1, le=500)
    offset: int = PydanticField(default=0, ge=0, le=MAX_OFFSET)


def record_out(item: ExportRecord) -> dict[str, object]:
    r = item.record
    return {
        "code": r.code,
        "identifier": r.identifier,
        "collection": r.collection.slug,
        "title": r.title,
        "description": r.description,
        "extra": r.extra if isinstance(r.extra, dict) else {},
        "values": {
            key: {"label": v.label, "name": v.name, "provenance": v.provenance()}
            for key, v in item.values.items()
        },
    }


def _records_out(request: HttpRequest, ids: list[int]) -> list[dict[str, object]]:
    items = export_records(
        records=Record.objects.filter(id__in=ids), public=not is_cataloguer(request.user)
    )
    return [record_out(item) for item in items]


@router.get(
    "/collections",
    summary="List the collections you may see",
    response={200: list[CollectionOut], 401: Error},
)
def collections_list(request: HttpRequest) -> list[dict[str, object]]:
    """The collections you may see, with their record counts."""
    collections = visible_collections(request).annotate(n=Count("records")).order_by("slug")
    return [
        {
            "slug": c.slug,
            "name": c.name,
            "description": c.description,
            "is_public": c.is_public,
            "licence": c.licence,
            "records": c.n,
        }
        for c in collections
    ]


@router.get(
    "/records",
    summary="List records with their values",
    response={200: RecordPage, 401: Error, 404: Error, 422: Error},
)
def records_list(request: HttpRequest, query: Query[PageQuery]) -> dict[str, object]:
    """Records you may see (of one collection, or all), oldest first, with current values."""
    refuse_unknown_query(request, PageQuery)
    records = Record.objects.filter(collection__in=visible_collections(request))
    if query.collection is not None:
        records = records.filter(collection=get_collection_for_visitor(request, query.collection))
    ids = list(
        records.order_by("id").values_list("id", flat=True)[
            query.offset : query.offset + query.limit
        ]
    )
    return {"count": records.count(), "items": _records_out(request, ids)}


@router.get(
    "/records/{code}",
    summary="Read one record",
    response={200: RecordOut, 401: Error, 404: Error, 422: Error},
)
def record_detail(request: HttpRequest, code: UUID) -> dict[str, object]:
    """One record with each current value and where it came from."""
    record = get_record_for_visitor(request, code)
    (item,) = _records_out(request, [record.id])
    return item


@router.post(
    "/collections/{slug}/records",
    summary="Submit records to a collection",
    response={200: SubmitOut, 400: Error, 401: Error, 403: Error, 404: Error, 422: Error},
)
def records_submit_view(
    request: HttpRequest, slug: Slug, payload: RecordsIn
) -> Status[dict[str, object]] | dict[str, object]:
    """Create or update records (cataloguers): all of them or, on any error, none.

    Values are stored as from the source catalogue; a value a person decided is kept. The
    records are then predicted in the background, as after a file import.
    """
    collection = get_collection_for_visitor(request, slug)
    if not is_cataloguer(request.user):
        return Status(403, {"detail": NOT_A_CATALOGUER})
    submitted = [SubmittedRecord(**r.model_dump()) for r in payload.records]
    try:
        done = records_submit(collection=collection, records=submitted)
    except SubmissionError as exc:
        field = f"body.{exc.where}"
        return Status(422, {"detail": str(exc), "errors": [{"field": field, "message": str(exc)}]})
    except ImportFileError as exc:
        return Status(400, {"detail": str(exc)})
    r = done.result
    return {
        "created": r.created,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "values_set": r.values_set,
        "values_kept_human": r.values_kept_human,
        "records": done.codes,
    }
