"""Forms for the public catalogue: searching, filtering, and saying a value is wrong."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from catalogue.models import Field
from catalogue.selectors import MODEL, SOURCE_FILTERS
from catalogue.widgets import QuickSelect

COMMENT_MAX = 2000


class SearchForm(forms.Form):
    q = forms.CharField(label="Search titles and identifiers", required=False, max_length=200)


class RecordFilterForm(SearchForm):
    """Search and provenance filter on a collection page.

    Visitors who may not see a field's predictions are not offered the "applied by a model"
    filter either.
    """

    source = forms.ChoiceField(
        label="Where the value came from", required=False, widget=QuickSelect
    )

    def __init__(self, *args: Any, show_model: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].label = "Search this collection"
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", "Any")] + [
            (key, text) for key, text in SOURCE_FILTERS.items() if show_model or key != MODEL
        ]


class FlagForm(forms.Form):
    proposed_label = forms.CharField(
        label="The right value (optional)", required=False, max_length=100
    )
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, field: Field, **kwargs: Any) -> None:
        # One form per field on a record page: ids must not clash.
        kwargs.setdefault("auto_id", f"id_flag_{field.key}_%s")
        super().__init__(*args, **kwargs)
        self.predicted_field = field
        proposed = self.fields["proposed_label"]
        if field.kind == Field.Kind.LANGUAGE:
            proposed.help_text = "A language code (fra, fr) or its English name (French)."
            proposed.widget.attrs["autocomplete"] = "off"
        else:
            self.fields["proposed_label"] = forms.ChoiceField(
                label=proposed.label,
                required=False,
                choices=[("", "I don't know")]
                + [(label.code, label.name) for label in field.labels.order_by("name")],
            )


class ConfirmForm(forms.Form):
    # The value the visitor saw, so a value that changed meanwhile is not confirmed instead.
    label = forms.CharField(max_length=50, widget=forms.HiddenInput)
