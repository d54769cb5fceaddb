"""Downloads in library formats: a collection's export (admins) and one record's Dublin Core and
MARCXML (anyone who may see the record)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from catalogue.access import get_collection_for_visitor, get_record_for_visitor
from catalogue.interop.export import EXPORT_FORMATS, collection_export, export_stream
from catalogue.models import Record
from catalogue.roles import is_admin, is_cataloguer


def _download(chunks: Iterator[bytes], fmt: str, name: str, *, stream: bool) -> HttpResponseBase:
    content_type, suffix = EXPORT_FORMATS[fmt]
    response: HttpResponseBase
    if stream:
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}.{suffix}"'
    else:
        response = HttpResponse(b"".join(chunks), content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{name}.{suffix}"'
    return response


@require_safe
def collection_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponseBase:
    """A whole collection with every value's provenance: admins only (403 for others who see it)."""
    collection = get_collection_for_visitor(request, slug)
    if not is_admin(request.user):
        raise PermissionDenied("Only an admin may export a collection.")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse(f"Unknown format {fmt!r}.", status=404, content_type="text/plain")
    return _download(
        collection_export(collection=collection, fmt=fmt), fmt, collection.slug, stream=True
    )


@require_safe
def record_download(request: HttpRequest, code: UUID, fmt: str) -> HttpResponseBase:
    """One record as Dublin Core or MARCXML, with what this visitor may see of its values."""
    record = get_record_for_visitor(request, code)
    chunks = export_stream(
        records=Record.objects.filter(pk=record.pk), fmt=fmt, public=not is_cataloguer(request.user)
    )
    return _download(
        chunks, fmt, record.identifier.replace('"', "") or str(record.code), stream=False
    )
