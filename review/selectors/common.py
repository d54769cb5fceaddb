"""Small reads and display values the review screens share."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field

from catalogue.models import (
    FieldValue,
    Flag,
    ModelVersion,
    Prediction,
)

QUEUE_PAGE_SIZE = 25
FLAGS_PAGE_SIZE = 50
DASHBOARD_CHANGES = 10
DASHBOARD_RUNS = 10
DASHBOARD_VERSIONS = 10


def percent(confidence: float | None) -> int | None:
    """``0.876`` -> ``87``: rounded down, so a model never looks surer than it was."""
    if confidence is None:
        return None
    return math.floor(confidence * 100 + 1e-6)


# A model version's parameters, metrics, baselines and card are large JSON documents. Pages that
# list predictions or runs name the version only: decoding these for every row was most of the
# queue page's time, so those joins defer them (and the dashboard's calibration table's).
VERSION_DOCUMENTS = ModelVersion.documents_through("model_version")


@dataclass(frozen=True)
class LabelChoice:
    code: str
    name: str
    confidence: float | None = None

    @property
    def percent(self) -> int | None:
        return percent(self.confidence)

    @property
    def option_text(self) -> str:
        """How the choice reads in a list: "fra – French", or just the code when it is also the
        name (the demo's object types: "painting", never "painting – painting")."""
        return option_text(self.code, self.name)


def option_text(code: str, name: str) -> str:
    return f"{code} – {name}" if name and name != code else code


@dataclass
class QueueItem:
    """A waiting prediction with everything the queue shows beside it, resolved in bulk."""

    prediction: Prediction
    label_name: str
    alternatives: list[LabelChoice]
    current_value: FieldValue | None
    current_name: str
    open_flags: list[Flag]
    # The field's whole vocabulary, shared between the items of a page (not copied).
    field_labels: Sequence[LabelChoice] = dc_field(default_factory=list)
    # The record's other fields as (name, text), filled in for focus mode and the item page.
    details: list[tuple[str, str]] = dc_field(default_factory=list)
    # The field's label names by code, shared between the items of a page (not copied).
    names: Mapping[str, str] = dc_field(default_factory=dict)
    # Visitors' "this is right" on this record and field, as (label, how many), most first.
    confirmations: list[tuple[str, int]] = dc_field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.prediction.code)

    @property
    def percent(self) -> int | None:
        return percent(self.prediction.confidence)

    @property
    def threshold_percent(self) -> int | None:
        policy = getattr(self.prediction.field, "policy", None)
        return percent(policy.threshold) if policy is not None else None

    @property
    def kept_value(self) -> FieldValue | None:
        """The catalogue's or a person's value that a rejection keeps, when there is one."""
        value = self.current_value
        if value is None or not value.label or value.source == FieldValue.Source.MODEL:
            return None
        return value

    @property
    def kept_by(self) -> str:
        """Whose value a rejection keeps, for the button: "the catalogue's" or "the person's"."""
        value = self.kept_value
        if value is None:
            return ""
        return "the catalogue's" if value.source == FieldValue.Source.IMPORT else "the person's"

    @property
    def correct_alternatives(self) -> list[LabelChoice]:
        """The model's other guesses: the likeliest corrections, offered first."""
        return [a for a in self.alternatives if a.code != self.prediction.label]
