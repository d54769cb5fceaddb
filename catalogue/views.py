"""The public catalogue: collections, records, and the "this is wrong" / "this is right" buttons."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from catalogue import selectors
from catalogue.access import (
    client_hash,
    get_collection_for_visitor,
    get_field_for_record,
    get_record_for_visitor,
    visible_collections,
)
from catalogue.counts import (
    CountedPaginator,
    KeysetPaginator,
    collection_records_count,
)
from catalogue.forms import ConfirmForm, FlagForm, RecordFilterForm, SearchForm
from catalogue.http import HtmxHttpRequest
from catalogue.models import Field, Record
from catalogue.services.confirmations import (
    NOTHING_TO_CONFIRM,
    ConfirmationError,
    confirmation_create,
)
from catalogue.services.flags import FlagError, FlagRateLimited, flag_create

PER_PAGE = 50
FLAG_THANKS = "Thank you: a cataloguer will check this value."
CONFIRM_THANKS = "Thank you: cataloguers will see that you found this value right."


@require_safe
def home(request: HtmxHttpRequest) -> HttpResponse:
    collections = visible_collections(request)
    form = SearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context = {
        "form": form,
        "q": q,
        # A search shows the summaries only if they are cached: it never counts the catalogue.
        "summaries": selectors.collection_summaries(collections=collections, compute=not q),
    }
    if q:
        field = selectors.display_field(fields=selectors.fields_for_display())
        found, total = selectors.records_counted(
            selectors.records_search(collections=collections, q=q)
        )
        page = CountedPaginator(found, PER_PAGE, total=total).get_page(request.GET.get("page"))
        show_model = field is not None and selectors.model_visible(field=field, user=request.user)
        context |= {
            "field": field,
            "page": page,
            "rows": selectors.record_rows(
                records=page.object_list, field=field, show_model=show_model
            ),
        }
    return render(request, "catalogue/home.html", context)


@require_safe
def collection(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    collection = get_collection_for_visitor(request, slug)
    fields = selectors.fields_for_display(collection=collection)
    field = selectors.display_field(fields=fields, key=request.GET.get("field"))
    show_model = field is not None and selectors.model_visible(field=field, user=request.user)
    form = RecordFilterForm(request.GET, show_model=show_model)
    form.is_valid()  # An unknown filter is dropped; the rest of the query still applies.
    q = form.cleaned_data.get("q", "").strip()
    source = form.cleaned_data.get("source", "")
    records = selectors.collection_records(
        collection=collection, field=field, q=q, source=source, show_model=show_model
    )
    # Unfiltered, the count is the collection's (cached); filtered, capped or estimated.
    if q or source:
        records, total = selectors.records_counted(records)
    else:
        total = collection_records_count(collection)
    page = KeysetPaginator(
        records, PER_PAGE, total=total, key="identifier", after=request.GET.get("after", "")
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/collection.html",
        {
            "collection": collection,
            "fields": fields,
            "field": field,
            "form": form,
            "filtered": bool(q or source),
            "page": page,
            "rows": selectors.record_rows(
                records=page.object_list, field=field, show_model=show_model
            ),
        },
    )


@require_safe
def record(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    record = get_record_for_visitor(request, code)
    displays = selectors.record_values_for_display(record=record, user=request.user)
    return render(
        request,
        "catalogue/record.html",
        {
            "record": record,
            "extra": selectors.extra_items(record),
            "items": [(item, FlagForm(field=item.field)) for item in displays],
        },
    )


@require_POST
def flag(request: HtmxHttpRequest, code: UUID, key: str) -> HttpResponse:
    """Anyone may say a value is wrong; the value goes back to a cataloguer with priority.

    With htmx the field's section is swapped in place, also when the flag is refused: 422 for
    a value that is not acceptable, 429 for too many flags. (Not 400: in DEBUG, django-htmx's
    helper script replaces the whole page with any 400 response, as if it were an error page.)
    """
    record = get_record_for_visitor(request, code)
    field = get_field_for_record(record, key)
    form = FlagForm(request.POST, field=field)
    error, status = "", 200
    if form.is_valid():
        try:
            flag_create(
                record=record,
                field=field,
                client_hash=client_hash(request),
                proposed_label=form.cleaned_data["proposed_label"],
                comment=form.cleaned_data["comment"],
            )
        except FlagRateLimited as exc:
            error, status = str(exc), 429
        except FlagError as exc:
            error, status = str(exc), 422
    else:
        error, status = " ".join(str(e) for errors in form.errors.values() for e in errors), 422
    return _field_answer(
        request,
        record=record,
        field=field,
        form=form,
        error=error,
        thanks=FLAG_THANKS,
        status=status,
    )


@require_POST
def confirm(request: HtmxHttpRequest, code: UUID, key: str) -> HttpResponse:
    """Anyone may say the value shown is right: weak evidence a cataloguer sees, nothing more.

    Answered like a flag (the field's section swapped in place with htmx; 422 when there is
    nothing to confirm or the value changed, 429 past the address's hourly limit).
    """
    record = get_record_for_visitor(request, code)
    field = get_field_for_record(record, key)
    form = ConfirmForm(request.POST)
    error, status = "", 200
    if form.is_valid():
        try:
            confirmation_create(
                record=record,
                field=field,
                label=form.cleaned_data["label"],
                client_hash=client_hash(request),
                show_model=selectors.model_visible(field=field, user=request.user),
            )
        except FlagRateLimited as exc:
            error, status = str(exc), 429
        except ConfirmationError as exc:
            error, status = str(exc), 422
    else:
        error, status = NOTHING_TO_CONFIRM, 422
    return _field_answer(
        request,
        record=record,
        field=field,
        form=FlagForm(field=field),
        error=error,
        thanks=CONFIRM_THANKS,
        status=status,
    )


def _field_answer(
    request: HtmxHttpRequest,
    *,
    record: Record,
    field: Field,
    form: FlagForm,
    error: str,
    thanks: str,
    status: int,
) -> HttpResponse:
    """The field's section again (htmx), or the record page with the answer as a message."""
    if request.htmx:
        (item,) = selectors.record_values_for_display(
            record=record, user=request.user, fields=[field]
        )
        return render(
            request,
            "catalogue/record.html#field",
            {
                "record": record,
                "item": item,
                "form": form if error else FlagForm(field=field),
                "flag_error": error,
                "flag_thanks": "" if error else thanks,
            },
            status=status,
        )
    tag = f"flag-{field.key}"
    if error:
        messages.error(request, error, extra_tags=tag)
    else:
        messages.success(request, thanks, extra_tags=tag)
    return redirect(reverse("catalogue:record", args=[record.code]) + f"#field-{field.key}")
