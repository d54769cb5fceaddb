"""The rules editor's reads: which labels it shows, and its change log in words.

A field can have hundreds of labels (every language a catalogue uses), and most have no rules:
the editor shows the labels that have some, and a search adds one more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from catalogue.models import Label, PolicyChange, label_title

RULES_PREFIX = "rules:"


def rules_labels_shown(*, labels: Iterable[Label], also: Iterable[str] = ()) -> list[Label]:
    """The labels with rules, and those named in ``also`` (added by search, not yet saved),
    in the editor's order (by code, the order the rules baseline tries them)."""
    also = set(also)
    return [label for label in labels if label.rules.strip() or label.code in also]


def rules_label_find(*, labels: Iterable[Label], text: str) -> Label | None:
    """The label ``text`` names: its code, its name, or "Name (code)" as the search lists it."""
    text = text.strip()
    if text.endswith(")") and "(" in text:
        text = text[text.rindex("(") + 1 : -1].strip()
    folded = text.casefold()
    labels = list(labels)
    for label in labels:
        if label.code == text:
            return label
    for label in labels:
        if folded and folded in (label.code.casefold(), label.name.casefold()):
            return label
    return None


@dataclass(frozen=True)
class RuleChange:
    """One logged edit of a label's rules, as a sentence with its diff."""

    change: PolicyChange
    label: str
    added: list[str]
    removed: list[str]
    kept: list[str]

    @property
    def summary(self) -> str:
        patterns = len(self.added) + len(self.kept)
        counted = f"{patterns} pattern{'' if patterns == 1 else 's'}"
        if not self.removed and not self.kept:
            return f"rules for {self.label} added ({counted})"
        if not patterns:
            return f"rules for {self.label} removed"
        return f"rules for {self.label} changed ({counted})"


def rule_changes(
    changes: Iterable[PolicyChange], *, names: dict[str, str] | None = None
) -> list[RuleChange]:
    """The rules edits among ``changes`` in words; ``names`` maps a label's code to its name."""
    names = names or {}
    rows = []
    for change in changes:
        if not change.attribute.startswith(RULES_PREFIX):
            continue
        code = change.attribute.removeprefix(RULES_PREFIX)
        old, new = _patterns(change.old_value), _patterns(change.new_value)
        name = names.get(code, "")
        rows.append(
            RuleChange(
                change=change,
                label=label_title(code, name),
                added=[p for p in new if p not in old],
                removed=[p for p in old if p not in new],
                kept=[p for p in new if p in old],
            )
        )
    return rows


def _patterns(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
