"""The review queue: waiting suggestions, and a cataloguer's accept / correct / reject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import Decision, Prediction, label_title
from catalogue.services.bulk import BULK_LIMIT
from catalogue.services.decisions import (
    AlreadyDecided,
    DecisionError,
    decision_make,
    decision_standing,
)
from review.access import get_prediction_for_reviewer, require_cataloguer
from review.forms import DecisionForm, QueueFilterForm
from review.selectors import (
    QueueItem,
    QueueSearch,
    Tally,
    label_name,
    queue_counts_by_field,
    queue_item_get,
    queue_page,
    record_current_value,
    record_field_history,
    reviewer_tally,
)
from review.selectors.focus import queue_items_with_details
from review.views.bulk import queue_filter_params
from review.views.common import safe_next_url, sitting_since, sitting_start, wants_partial

ITEM_PARTIAL = "review/queue.html#queue-item"
DECIDED_PARTIAL = "review/queue.html#decided"
INVALID_DECISION = "That decision could not be read: {errors}"

_VERBS: dict[str, str] = {
    Decision.Action.ACCEPT: "Accepted",
    Decision.Action.CORRECT: "Corrected",
    Decision.Action.REJECT: "Rejected",
}


@dataclass(frozen=True)
class Outcome:
    """What a decision did, in words, with the record's value afterwards."""

    decision: Decision
    message: str


def _outcome(*, prediction: Prediction, decision: Decision) -> Outcome:
    value = record_current_value(prediction=prediction)
    now = value.label if value is not None else ""
    now_name = label_name(field=prediction.field, code=now)
    record = prediction.record
    what = label_title(prediction.label, label_name(field=prediction.field, code=prediction.label))
    if decision.action == Decision.Action.CORRECT:
        corrected = label_name(field=prediction.field, code=decision.label)
        what = f"{what} → {label_title(decision.label, corrected)}"
    title = Truncator(record.title).chars(60)
    message = (
        f"{_VERBS[decision.action]} {what} for {record.identifier}"
        + (f" “{title}”" if title else "")
        + f": the record's {prediction.field.name.lower()} is now "
        + (label_title(now, now_name) if now else "empty")
        + "."
    )
    return Outcome(decision=decision, message=message)


def _with_focus(items: list[QueueItem], *, focus: bool) -> list[QueueItem]:
    """Focus mode shows one item at a time with the rest of its record."""
    return queue_items_with_details(items) if focus else items


def queue_status(request: AuthenticatedHttpRequest) -> dict[str, object]:
    """The waiting counts and the sitting's tally, shown beside the queue after each decision."""
    since = sitting_since(request)
    return {
        "counts": queue_counts_by_field(),
        "tally": reviewer_tally(reviewer=request.user, since=since) if since else Tally(),
    }


@login_required
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_cataloguer(request)
    filters = QueueFilterForm(request.GET)
    focus = request.GET.get("view") == "focus"
    field = collection = None
    order = "uncertainty"
    search = QueueSearch()
    if filters.is_valid():
        field = filters.cleaned_data["field"]
        collection = filters.cleaned_data["collection"]
        order = filters.cleaned_data["order"] or order
        search = filters.search()
    page = queue_page(
        field=field,
        collection=collection,
        order=order,
        number=request.GET.get("page"),
        after=request.GET.get("after", ""),
        search=search,
    )
    context = {
        "filters": filters,
        "order": order,
        "page": page,
        "items": _with_focus(page.items, focus=focus),
        "next_url": request.get_full_path(),
        "focus": focus,
        "search": search,
        "bulk_filters": sorted(queue_filter_params(request).items()),
        "bulk_limit": BULK_LIMIT,
        **queue_status(request),
    }
    if wants_partial(request):
        return render(request, "review/queue.html#queue-list", context)
    return render(request, "review/queue.html", context)


@login_required
def item(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    prediction = get_prediction_for_reviewer(request, code)
    context = {
        "item": queue_items_with_details([queue_item_get(prediction=prediction)])[0],
        "standing": decision_standing(prediction=prediction),
        "history": record_field_history(prediction=prediction),
        "next_url": request.get_full_path(),
        **queue_status(request),
    }
    if wants_partial(request):
        return render(request, ITEM_PARTIAL, context)
    return render(request, "review/item.html", context)


@login_required
@require_POST
def decide(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    prediction = get_prediction_for_reviewer(request, code)
    return decide_with(request, prediction, decision_make)


class DecisionService(Protocol):
    def __call__(
        self, *, prediction: Prediction, reviewer: User, action: str, label: str, review_round: int
    ) -> Decision: ...


def decide_with(
    request: AuthenticatedHttpRequest, prediction: Prediction, service: DecisionService
) -> HttpResponse:
    """Read the decision form, call the service, and answer with the item (htmx) or redirect."""
    sitting_start(request)  # before the decision, so the tally counts it
    form = DecisionForm(request.POST)
    next_url = safe_next_url(request, request.POST.get("next"), default=reverse("review:queue"))
    if not form.is_valid():
        errors = "; ".join(
            f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items()
        )
        message = INVALID_DECISION.format(errors=errors)
        return refused(request, prediction, form, next_url, message=message, status=400)
    try:
        decision = service(
            prediction=prediction,
            reviewer=request.user,
            action=form.cleaned_data["action"],
            label=form.cleaned_data["label"],
            review_round=form.cleaned_data["review_round"],
        )
    except AlreadyDecided as exc:
        return refused(request, prediction, form, next_url, message=str(exc), status=409)
    except DecisionError as exc:
        return refused(request, prediction, form, next_url, message=str(exc), status=422)
    outcome = _outcome(prediction=prediction, decision=decision)
    if request.htmx:
        context = {
            "item": queue_item_get(prediction=prediction),
            "outcome": outcome,
            "next_url": next_url,
            **queue_status(request),
        }
        return render(request, DECIDED_PARTIAL, context)
    messages.success(request, outcome.message)
    return redirect(next_url)


def refused(
    request: AuthenticatedHttpRequest,
    prediction: Prediction,
    form: forms.Form,
    next_url: str,
    *,
    message: str,
    status: int,
) -> HttpResponse:
    """Nothing was stored: say why, and show the item as it is now."""
    if request.htmx:
        context = {
            "item": queue_item_get(prediction=prediction),
            "error": message,
            "typed": form.data.get("label_text", ""),
            "next_url": next_url,
        }
        return render(request, ITEM_PARTIAL, context, status=status)
    messages.error(request, message)
    return redirect(next_url)
