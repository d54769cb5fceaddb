"""Formatting for the review templates (no decisions are made here)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.timesince import timesince

from review.selectors import percent as _percent

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
