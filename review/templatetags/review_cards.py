"""Filters for writing a model card (glamml.ml.cards) as Markdown."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from glamml.ml.cards import Text

register = template.Library()

MARKS = {"strong": "**{}**", "code": "`{}`"}


@register.filter
def markdown_text(value: object) -> str:
    """Text that stays text inside a Markdown table cell or a line: no cell breaks, one line."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


@register.filter
def markdown_inline(parts: Iterable[Text]) -> str:
    """Runs of text as Markdown: plain, **strong** or `code`."""
    return "".join(MARKS.get(t.style, "{}").format(markdown_text(t.text)) for t in parts)
