"""The only way views get collections, records and fields: 404 for what a visitor may not see.

Non-public collections (and every record in them) exist only for cataloguers and admins; for
everyone else, anonymous or logged in, they are indistinguishable from something that was
never there.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from catalogue.field_records import field_applies_to
from catalogue.models import Collection, Field, Prediction, Record
from catalogue.roles import is_cataloguer


def visible_collections(request: HttpRequest) -> QuerySet[Collection]:
    """The collections this visitor may see."""
    collections = Collection.objects.all()
    if not is_cataloguer(request.user):
        collections = collections.filter(is_public=True)
    return collections


def get_collection_for_visitor(request: HttpRequest, slug: str) -> Collection:
    try:
        return visible_collections(request).get(slug=slug)
    except Collection.DoesNotExist:
        raise Http404("No such collection.") from None


def get_record_for_visitor(request: HttpRequest, code: UUID | str) -> Record:
    records = Record.objects.select_related("collection")
    if not is_cataloguer(request.user):
        records = records.filter(collection__is_public=True)
    try:
        return records.get(code=code)
    except (Record.DoesNotExist, ValueError):
        raise Http404("No such record.") from None


def get_field(key: str) -> Field:
    """A predicted field by key; fields are not secret, but an unknown key is a 404."""
    try:
        return Field.objects.select_related("policy").get(key=key)
    except Field.DoesNotExist:
        raise Http404("No such field.") from None


def get_field_for_record(record: Record, key: str) -> Field:
    """A predicted field that applies to ``record``'s collection; any other key is a 404."""
    field = get_field(key)
    if not field_applies_to(field=field, collection_id=record.collection_id):
        raise Http404("This field does not apply to this record.")
    return field


def client_hash(request: HttpRequest) -> str:
    """A salted hash of the client address: enough to rate-limit flags, not to identify anyone."""
    return hashlib.sha256((settings.SECRET_KEY + client_address(request)).encode()).hexdigest()


def client_address(request: HttpRequest) -> str:
    """The client's address, for the flag rate limit and login throttling.

    A forwarded-for header is whatever the client says it is, so it is read only when
    ``GLAMML_TRUSTED_PROXIES`` says how many proxies of ours stand in front: the address the
    outermost of them saw is then the client's. Otherwise ``REMOTE_ADDR`` is used.
    """
    address = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.GLAMML_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    return address


def get_prediction_for_visitor(request: HttpRequest, code: UUID | str) -> Prediction:
    """A prediction on a record this visitor may see, of a field whose suggestions they may see."""
    predictions = Prediction.objects.select_related(
        "record__collection", "field__policy", "model_version"
    )
    if not is_cataloguer(request.user):
        predictions = predictions.filter(
            record__collection__is_public=True, field__policy__show_public=True
        )
    try:
        return predictions.get(code=code)
    except (Prediction.DoesNotExist, ValueError):
        raise Http404("No such prediction.") from None
