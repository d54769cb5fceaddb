"""Forms check the shape of what was sent; what a label means is for the catalogue services."""

from __future__ import annotations

from typing import Any

from django import forms

from catalogue.models import Collection, Decision, DecisionPolicy, Field


class QueueFilterForm(forms.Form):
    field = forms.ModelChoiceField(
        queryset=Field.objects.order_by("name"),
        to_field_name="key",
        required=False,
        empty_label="All fields",
    )
    collection = forms.ModelChoiceField(
        queryset=Collection.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All collections",
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
        data = super().clean()
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

    @classmethod
    def for_policy(cls, policy: DecisionPolicy, *, prefix: str) -> PolicyForm:
        return cls(
            prefix=prefix,
            initial={
                "mode": policy.mode,
                "threshold": policy.threshold,
                "show_public": policy.show_public,
            },
        )


class ThresholdPreviewForm(forms.Form):
    threshold = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        label="Try a threshold",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
