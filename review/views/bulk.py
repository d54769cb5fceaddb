"""Bulk decisions: accept or correct the filtered queue's items at once, after a confirmation.

The confirmation page lists every item it will decide (at most ``BULK_LIMIT``) and sends them
back, each with the round of review the person saw, so what is decided is what was shown.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from catalogue.http import AuthenticatedHttpRequest
from catalogue.services.bulk import BULK_LIMIT, decisions_bulk
from catalogue.services.decisions import DecisionError
from review.access import require_cataloguer
from review.forms import BulkDecisionForm, BulkForm
from review.selectors import label_name, queue_label_codes
from review.selectors.bulk import bulk_items_get, bulk_selection
from review.views.common import safe_next_url, sitting_start

BULK_DONE = "{verb} {n} suggestion{s}{to}."
BULK_SKIPPED = " {n} had been decided by someone else meanwhile and were left as they were."
BULK_INVALID = "That bulk decision could not be read: {errors}. Nothing was decided."
BULK_GONE = "{n} of the items are no longer in the catalogue; nothing was decided."


@login_required
@require_http_methods(["GET", "POST"])
def bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_cataloguer(request)
    if request.method == "POST":
        return _bulk_decide(request)
    form = BulkForm(request.GET)
    queue_url = reverse("review:queue") + "?" + urlencode(queue_filter_params(request))
    if not form.is_valid():
        return render(
            request, "review/bulk.html", {"form": form, "queue_url": queue_url}, status=400
        )
    data = form.cleaned_data
    field = data["field"]
    label = ""
    if data["action"] == "correct":
        codes = queue_label_codes(field=field, text=data["to"].strip())
        if len(codes) != 1:
            form.add_error("to", f"{field.name} has no label “{data['to'].strip()}”.")
            context = {"form": form, "queue_url": queue_url}
            return render(request, "review/bulk.html", context, status=400)
        label = codes[0]
    selection = bulk_selection(
        field=field,
        collection=data["collection"],
        search=form.search(),
        order=data["order"] or "uncertainty",
    )
    context = {
        "form": form,
        "selection": selection,
        "action": data["action"],
        "label": label,
        "label_name": label_name(field=field, code=label) if label else "",
        "limit": BULK_LIMIT,
        "queue_url": queue_url,
    }
    return render(request, "review/bulk.html", context)


FILTER_KEYS = ("field", "collection", "order", "label", "confidence_min", "confidence_max", "q")


def queue_filter_params(request: AuthenticatedHttpRequest) -> dict[str, str]:
    """The queue's filters from the request, to go back to the same list."""
    return {k: request.GET[k] for k in FILTER_KEYS if request.GET.get(k)}


def _bulk_decide(request: AuthenticatedHttpRequest) -> HttpResponse:
    sitting_start(request)
    form = BulkDecisionForm(request.POST)
    next_url = safe_next_url(request, request.POST.get("next"), default=reverse("review:queue"))
    if not form.is_valid():
        errors = "; ".join(" ".join(str(e) for e in errs) for errs in form.errors.values())
        messages.error(request, BULK_INVALID.format(errors=errors))
        return redirect(next_url)
    pairs = form.cleaned_data["item"]
    found = bulk_items_get(codes=[code for code, _ in pairs])
    missing = [code for code, _ in pairs if not any(str(c) == code for c in found)]
    if missing:
        messages.error(request, BULK_GONE.format(n=len(missing)))
        return redirect(next_url)
    by_code = {str(code): p for code, p in found.items()}
    action, label = form.cleaned_data["action"], form.cleaned_data["label"]
    try:
        result = decisions_bulk(
            items=[(by_code[code], round_) for code, round_ in pairs],
            reviewer=request.user,
            action=action,
            label=label,
        )
    except DecisionError as exc:
        messages.error(request, f"{exc} Nothing was decided.")
        return redirect(next_url)
    n, to = len(result.decisions), ""
    if action == "correct" and result.decisions:
        decided = result.decisions[0]
        name = label_name(field=decided.prediction.field, code=decided.label)
        to = f" to {name} ({decided.label})" if name and name != decided.label else f" to {label}"
    verb = "Accepted" if action == "accept" else "Corrected"
    message = BULK_DONE.format(verb=verb, n=n, s="" if n == 1 else "s", to=to)
    if result.skipped:
        message += BULK_SKIPPED.format(n=result.skipped)
    messages.success(request, message)
    return redirect(next_url)
