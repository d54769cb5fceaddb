"""The rules baseline editor: the labels that have rules, one more added by search."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import Field, label_title
from catalogue.services import policy as policy_service
from review.access import get_field_for_admin
from review.forms import RulesForm
from review.selectors import RulesPage, rules_page
from review.selectors.rules import (
    rule_changes,
    rules_label_find,
    rules_labels_shown,
)
from review.views.common import wants_partial

RULES_FORM = "review/field_rules.html#rules-form"
RULES_SAVED = "Saved the rules for {labels}. Their scores change with the next training run."
RULES_UNCHANGED = "Nothing changed: the rules already said that."
RULES_ADDED = "Added {label}: write its patterns, one a line, and save."
RULES_NO_LABEL = "{field} has no label “{text}”: pick one from the list (code or name)."
RULES_ALREADY_SHOWN = "{label} is already in the list."


@login_required
def field_rules(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Edit the regular expressions of the rules baseline every model must beat."""
    field = get_field_for_admin(request, key)
    page = rules_page(field=field)
    sent = RulesForm.sent_codes(request.POST, page.labels) if request.method == "POST" else set()
    message = error = ""
    if "add" in request.POST:
        sent, message, error = _add_row(field, page, sent, request.POST.get("label_search", ""))
    shown = rules_labels_shown(labels=page.labels, also=sent)
    form = RulesForm(request.POST or None, labels=shown)
    if request.method == "POST" and "add" not in request.POST and form.is_valid():
        try:
            changes = policy_service.label_rules_update(
                field=field, rules=form.rules(), changed_by=request.user
            )
        except policy_service.PolicyError as exc:
            form.add_error(None, str(exc))
        else:
            titles = {
                f"rules:{label.code}": label_title(label.code, label.name) for label in page.labels
            }
            saved = ", ".join(titles.get(c.attribute, c.attribute) for c in changes)
            message = RULES_SAVED.format(labels=saved) if changes else RULES_UNCHANGED
            if not wants_partial(request):
                messages.success(request, message)
                return redirect(reverse("review:field_rules", args=[field.key]))
            page = rules_page(field=field)
            form = RulesForm(labels=rules_labels_shown(labels=page.labels))
    context = {
        "page": page,
        "form": form,
        "message": message,
        "error": error,
        "addable": [label for label in page.labels if label not in form.labels],
        "changes": rule_changes(page.changes, names={lb.code: lb.name for lb in page.labels}),
    }
    status = 422 if form.errors or error else 200
    template = RULES_FORM if wants_partial(request) else "review/field_rules.html"
    return render(request, template, context, status=status)


def _add_row(field: Field, page: RulesPage, sent: set[str], text: str) -> tuple[set[str], str, str]:
    """The rows to show with the searched label added, and what to tell the person."""
    label = rules_label_find(labels=page.labels, text=text)
    if label is None:
        return sent, "", RULES_NO_LABEL.format(field=field.name, text=text.strip())
    if label.code in sent or label.rules.strip():
        return sent, RULES_ALREADY_SHOWN.format(label=label_title(label.code, label.name)), ""
    return sent | {label.code}, RULES_ADDED.format(label=label_title(label.code, label.name)), ""
