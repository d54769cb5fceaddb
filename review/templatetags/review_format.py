"""Formatting for the review templates (no decisions are made here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import template
from django.utils.timesince import timesince

from catalogue.models import PolicyChange, label_title
from catalogue.templatetags.catalogue_format import code_url
from review.selectors import metric_value
from review.selectors import percent as _percent
from review.selectors.rules import RuleChange, rule_changes

register = template.Library()


@register.filter
def percent(confidence: float | None) -> str:
    """``0.876`` -> ``"87%"``, rounded down like everywhere else a confidence is shown."""
    value = _percent(confidence)
    return "" if value is None else f"{value}%"


@register.filter
def ago(moment: datetime | None) -> str:
    """``"3 hours ago"``, or ``"just now"`` within the first minute."""
    if moment is None:
        return ""
    since = timesince(moment, depth=1)
    return "just now" if since.startswith("0\xa0") or since.startswith("0 ") else f"{since} ago"


@register.filter
def metric_of(metrics: Any, key: str) -> float | None:
    """``metrics[key]`` in a template (``{{ v.metrics|metric_of:field.metric }}``), or None."""
    return metric_value(metrics, key)


@register.filter
def baseline_of(baselines: Any, key: str) -> dict[str, Any]:
    """One baseline's metrics from a version's ``baselines`` (empty when it was not run)."""
    value = baselines.get(key) if isinstance(baselines, dict) else None
    return value if isinstance(value, dict) else {}


@register.filter
def score(value: float | None, digits: int = 3) -> str:
    """A metric to three decimals, or an em dash when there is none."""
    return "—" if value is None else f"{value:.{int(digits)}f}"


@register.filter
def seconds(value: float | None) -> str:
    """A duration: ``"42 s"``, ``"3 min 5 s"``, or an em dash."""
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest} s"


@register.filter
def p_value(value: float | None) -> str:
    """A test's p-value as people read one: ``"p = 0.042"``, ``"p < 0.001"`` (never 22 zeros)."""
    if value is None:
        return "p unknown"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


@register.filter
def plain_value(value: Any) -> str:
    """A stored parameter in words: ``[1, 3]`` -> ``1, 3``; ``{"method": "sigmoid"}`` ->
    ``method: sigmoid``; ``True`` -> ``yes``; ``0.63520161`` -> ``0.6352``; nested values the
    same way."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {plain_value(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(plain_value(v) for v in value) or "—"
    return str(value)


# {% code_url name code %}: the catalogue's, for the review pages' many links to items.
register.simple_tag(code_url, name="code_url")


@register.filter
def rule_change(change: PolicyChange) -> RuleChange | None:
    """A logged edit of a label's rules in words (``None`` for any other policy change), for
    change logs that list them with the policy's other settings."""
    rows = rule_changes([change])
    return rows[0] if rows else None


@register.filter
def named(code: str | None, names: Mapping[str, str] | None) -> str:
    """``"fin"`` -> ``"Finnish (fin)"``: the name a person reads, with the code once (just the
    code when the label has no other name, so genre never reads "Fiction Fiction")."""
    if not code:
        return ""
    return label_title(code, (names or {}).get(code))
