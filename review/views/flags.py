"""Flag triage: what visitors said was wrong, each linked to its queue item."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from catalogue.http import AuthenticatedHttpRequest
from review.access import require_cataloguer
from review.forms import QueueFilterForm
from review.selectors import FLAGS_PAGE_SIZE, flag_rows, open_flags
from review.views.common import wants_partial


@login_required
def flags(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_cataloguer(request)
    filters = QueueFilterForm(request.GET)
    field = collection = None
    if filters.is_valid():
        field = filters.cleaned_data["field"]
        collection = filters.cleaned_data["collection"]
    flagged = open_flags(field=field, collection=collection)
    page = Paginator(flagged, FLAGS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "rows": flag_rows(page.object_list)}
    if wants_partial(request):
        return render(request, "review/flags.html#flag-list", context)
    return render(request, "review/flags.html", context)
