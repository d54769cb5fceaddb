"""Forms check the shape of what was sent; what a label means is for the catalogue services."""

from __future__ import annotations

from typing import Any

from django import forms

from catalogue.models import (
    Collection,
    Decision,
    DecisionPolicy,
    Field,
    Label,
    MonitoringPolicy,
    label_title,
)
from catalogue.services.policy import MAX_RETRAIN
from catalogue.widgets import QuickSelect
from review.selectors.queue import QueueSearch, queue_label_codes

RANGE_BACKWARDS = "The range runs from {low}% up: make “to” {low} or more (it says {high})."
NO_SUCH_LABEL = "No label “{text}” in {where}: type a code or a name from its list."


class QueueFilterForm(forms.Form):
    field = forms.ModelChoiceField(
        queryset=Field.objects.order_by("name"),
        to_field_name="key",
        required=False,
        empty_label="All fields",
        widget=QuickSelect,
    )
    collection = forms.ModelChoiceField(
        queryset=Collection.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All collections",
        widget=QuickSelect,
    )
    order = forms.ChoiceField(
        choices=[
            ("uncertainty", "Least confident first (teach the model)"),
            ("margin", "Closest call first: smallest gap between the top two labels"),
            ("random", "Random audit sample (check the model)"),
        ],
        required=False,
        label="Order",
        widget=QuickSelect,
    )
    label = forms.CharField(
        required=False,
        max_length=200,
        label="Predicted label",
        widget=forms.TextInput(attrs={"placeholder": "code or name", "spellcheck": "false"}),
    )
    confidence_min = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Confidence from (%)"
    )
    confidence_max = forms.IntegerField(required=False, min_value=0, max_value=100, label="to (%)")
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Words in the title or identifier",
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        low, high = data.get("confidence_min"), data.get("confidence_max")
        if low is not None and high is not None and low > high:
            self.add_error("confidence_max", RANGE_BACKWARDS.format(low=low, high=high))
        text = (data.get("label") or "").strip()
        data["labels"] = queue_label_codes(field=data.get("field"), text=text) if text else ()
        if text and not data["labels"]:
            where = data["field"].name if data.get("field") else "any field"
            self.add_error("label", NO_SUCH_LABEL.format(text=text, where=where))
        return data

    def search(self) -> QueueSearch:
        """The narrowing asked for beyond field and collection (call after ``is_valid``)."""
        data = self.cleaned_data
        low, high = data.get("confidence_min"), data.get("confidence_max")
        return QueueSearch(
            labels=tuple(data.get("labels", ())),
            confidence_min=low / 100 if low is not None else None,
            confidence_max=high / 100 if high is not None else None,
            text=(data.get("q") or "").strip(),
        )


class DecisionForm(forms.Form):
    """One decision on one queue item: ``label`` is the picked label, ``label_text`` a typed one.

    A typed code or name wins over the pick, so a cataloguer can always say what the list lacks.
    """

    action = forms.ChoiceField(choices=Decision.Action.choices)
    label = forms.CharField(required=False, max_length=200)
    label_text = forms.CharField(required=False, max_length=200)
    review_round = forms.IntegerField(min_value=0)
    next = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["label"] = (data.get("label_text") or "").strip() or (data.get("label") or "").strip()
        return data


class PolicyForm(forms.Form):
    mode = forms.ChoiceField(
        choices=DecisionPolicy.Mode.choices, widget=forms.RadioSelect, label="Decision mode"
    )
    threshold = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        label="Accept threshold",
        help_text="Confidence (0–1) at or above which a prediction is applied in threshold mode.",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    show_public = forms.BooleanField(
        required=False, label="Show predictions (with confidence) on public record pages"
    )
    auto_promote = forms.BooleanField(
        required=False,
        label=(
            "Promote a new version automatically when it beats the rules baseline and is not "
            "worse than the active version"
        ),
    )
    retrain_after_decisions = forms.IntegerField(
        min_value=1,
        max_value=MAX_RETRAIN,
        label="Retrain after this many new decisions",
        help_text=(
            "The schedule trains a new version once this many cataloguer decisions have arrived "
            "since the last run (and skips when the labelled data has not changed)."
        ),
        widget=forms.NumberInput(attrs={"step": "1", "inputmode": "numeric"}),
    )

    @classmethod
    def for_policy(cls, policy: DecisionPolicy, *, prefix: str) -> PolicyForm:
        return cls(
            prefix=prefix,
            initial={
                "mode": policy.mode,
                "threshold": policy.threshold,
                "show_public": policy.show_public,
                "auto_promote": policy.auto_promote,
                "retrain_after_decisions": policy.retrain_after_decisions,
            },
        )


class ThresholdPreviewForm(forms.Form):
    threshold = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        label="Try a threshold",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class ExperimentFilterForm(forms.Form):
    field = forms.ModelChoiceField(
        queryset=Field.objects.order_by("name"),
        to_field_name="key",
        required=False,
        empty_label="All fields",
    )


class RulesForm(forms.Form):
    """One textarea of regular expressions per label shown; the service checks the patterns.

    Textareas are named by the label's key, so a row added by search keeps what was typed in
    the others, whatever labels the field gains meanwhile.
    """

    def __init__(self, *args: Any, labels: list[Label], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.labels = labels
        for label in labels:
            self.fields[self.name_for(label)] = forms.CharField(
                required=False,
                strip=False,
                label=label_title(label.code, label.name),
                initial=label.rules,
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            )

    @staticmethod
    def name_for(label: Label) -> str:
        return f"rules-{label.pk}"

    @classmethod
    def sent_codes(cls, data: Any, labels: list[Label]) -> set[str]:
        """The codes of the labels whose textarea ``data`` carries (rows shown on the page)."""
        return {label.code for label in labels if cls.name_for(label) in data}

    def rows(self) -> list[tuple[Label, forms.BoundField]]:
        return [(label, self[self.name_for(label)]) for label in self.labels]

    def rules(self) -> dict[str, str]:
        """``{code: "pattern\\npattern"}`` as the service takes it, for the labels whose
        textarea was sent: a label the request did not mention keeps its rules."""
        return {
            label.code: self.cleaned_data.get(self.name_for(label)) or ""
            for label in self.labels
            if self.add_prefix(self.name_for(label)) in self.data
        }


TEXT_SOURCES = [("title", "Title"), ("description", "Description")]
NO_TEXT_SOURCE = "Choose at least one part of the record for the model to read."
BAD_LABEL_LINE = "Line {line}: {text!r} has no code before the “=”."


def collections_field() -> forms.ModelMultipleChoiceField[Collection]:
    """Where a field applies: ticked collections only, or every collection when none is."""
    return forms.ModelMultipleChoiceField(
        queryset=Collection.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Collections it applies to",
        help_text="Records elsewhere get no prediction and no card. None ticked: every collection.",
    )


class FieldDefinitionForm(forms.Form):
    key = forms.SlugField(
        max_length=50,
        label="Key",
        help_text="Short, lower case, used in URLs and in imports (e.g. genre).",
    )
    name = forms.CharField(
        max_length=100, label="Name", help_text="As people read it (e.g. Genre)."
    )
    description = forms.CharField(
        required=False,
        label="Description",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the field records, for cataloguers and for the model card.",
    )
    labels = forms.CharField(
        label="Labels",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text="One per line: a code, or code = Name (e.g. fic = Fiction).",
    )
    text_source = forms.MultipleChoiceField(
        choices=TEXT_SOURCES,
        required=False,
        initial=["title"],
        widget=forms.CheckboxSelectMultiple,
        label="The model reads",
    )
    extra_columns = forms.CharField(
        required=False,
        max_length=500,
        label="Extra column names",
        help_text="Other columns of the imported records it should read, separated by commas.",
    )
    metric = forms.ChoiceField(
        choices=Field.Metric.choices,
        initial=Field.Metric.MACRO_F1,
        widget=forms.RadioSelect,
        label="Metric to optimise",
    )
    collections = collections_field()

    def clean_labels(self) -> list[tuple[str, str]]:
        labels = []
        for line, text in enumerate(self.cleaned_data["labels"].splitlines(), start=1):
            if not text.strip():
                continue
            code, _, name = text.partition("=")
            if not code.strip():
                raise forms.ValidationError(BAD_LABEL_LINE.format(line=line, text=text.strip()))
            labels.append((code.strip(), name.strip() or code.strip()))
        return labels

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        extra = [c.strip() for c in (data.get("extra_columns") or "").split(",") if c.strip()]
        data["sources"] = list(dict.fromkeys([*(data.get("text_source") or []), *extra]))
        if not data["sources"]:
            self.add_error("text_source", NO_TEXT_SOURCE)
        return data


class MonitoringPolicyForm(forms.Form):
    """A field's monitoring settings; the service checks what the values mean."""

    audit_rate = forms.FloatField(
        min_value=0.0,
        max_value=100.0,
        label="Spot-check rate (%)",
        help_text="Share of the values the model applies that a person checks.",
        widget=forms.NumberInput(attrs={"step": "0.5"}),
    )
    window_days = forms.IntegerField(
        min_value=1, max_value=90, label="Window (days)", help_text="Days each drift score covers."
    )
    min_records = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        label="Fewest records",
        help_text="No drift is judged on fewer records (on either side).",
    )
    drift_threshold = forms.FloatField(
        min_value=0.01,
        max_value=1.0,
        label="Drift alert line (Jensen–Shannon distance)",
        help_text="0.2 is about a population stability index of 0.22.",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    precision_alerts = forms.BooleanField(
        required=False, label="Alert when spot checks show precision below the held-out one"
    )
    flags_per_thousand = forms.FloatField(
        required=False,
        min_value=0.01,
        label="Flags per 1,000 records alert line",
        help_text="Empty: no alert on public flags.",
    )
    on_alert = forms.ChoiceField(
        choices=MonitoringPolicy.OnAlert.choices,
        widget=forms.RadioSelect,
        label="On a drift or precision alert",
    )
    email_to = forms.CharField(
        required=False,
        max_length=2000,
        label="E-mail alerts to",
        help_text="Comma-separated addresses; empty for none.",
    )

    @classmethod
    def for_policy(cls, policy: MonitoringPolicy, **kwargs: Any) -> MonitoringPolicyForm:
        initial = {name: getattr(policy, name) for name in cls.base_fields}
        initial["audit_rate"] = round(policy.audit_rate * 100, 4)
        return cls(initial=initial, **kwargs)

    def changes(self) -> dict[str, Any]:
        """The settings as the service takes them (the rate as a share, not a percentage)."""
        data = dict(self.cleaned_data)
        data["audit_rate"] = data["audit_rate"] / 100
        data["email_to"] = (data.get("email_to") or "").strip()
        return data


class BulkForm(QueueFilterForm):
    """A bulk decision on the filtered queue: accept every suggestion, or correct all to one
    label (of the chosen field)."""

    action = forms.ChoiceField(
        choices=[("accept", "Accept every suggestion"), ("correct", "Correct all to")],
        label="Decision",
    )
    to = forms.CharField(required=False, max_length=200, label="Label to correct to")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "correct":
            if not data.get("field"):
                self.add_error("field", BULK_FIELD_FIRST)
            elif not (data.get("to") or "").strip():
                self.add_error("to", BULK_LABEL_MISSING)
        return data


BULK_FIELD_FIRST = "Choose a field: a correction is to one of its labels."
BULK_LABEL_MISSING = "Say which label to correct them all to (a code or a name)."


class BulkDecisionForm(forms.Form):
    """The confirmed bulk decision: the items the person saw, each with its round."""

    action = forms.ChoiceField(choices=[("accept", "accept"), ("correct", "correct")])
    label = forms.CharField(required=False, max_length=200)
    item = forms.Field(required=False, widget=forms.MultipleHiddenInput)  # "code:round"
    next = forms.CharField(required=False, max_length=2000)

    def clean_item(self) -> list[tuple[str, int]]:
        pairs = []
        for text in self.cleaned_data.get("item") or []:
            code, _, round_ = str(text).partition(":")
            if not round_.isdigit():
                raise forms.ValidationError(BULK_BAD_ITEM.format(item=text))
            pairs.append((code, int(round_)))
        return pairs


BULK_BAD_ITEM = "{item!r} is not an item as the confirmation page lists them (code:round)."
