"""Formatting for the review templates (no decisions are made here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from catalogue.models import PolicyChange, label_title
from review.selectors import LabelChoice, QueueItem, metric_value
from review.selectors import percent as _percent
from review.selectors.common import option_text
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


@register.simple_tag
def label_options(choices: Sequence[LabelChoice]) -> SafeString:
    """``<option>`` elements for a vocabulary: the same markup as a template loop, built in
    Python because the queue repeats a field's whole vocabulary for each of its 25 items.
    Each option's markup is escaped once per process and then only joined."""
    return mark_safe("".join(_option(c.code, c.name) for c in choices))  # noqa: S308


@lru_cache(maxsize=20_000)
def _option(code: str, name: str) -> str:
    return str(format_html('<option value="{}">{}</option>', code, option_text(code, name)))


@register.simple_tag(takes_context=True)
def decision_form(
    context: Context,
    url: str,
    action: str,
    review_round: int,
    *,
    css: str,
    label: str = "",
    plain: object = None,
) -> SafeString:
    """The start of one of a queue item's decision forms: ``<form>``, posted with htmx into
    its item unless ``plain`` (a decision being changed, on the item page), then the CSRF token
    and the hidden fields that every decision sends (``action`` and ``label`` when given). The
    caller closes the form. One tag for the markup that each of an item's seven forms repeats."""
    hx = (
        format_html(
            ' hx-post="{}" hx-target="closest .queue-item" hx-swap="outerHTML"'
            ' hx-sync="closest .queue-item:drop" hx-disabled-elt="find button"',
            url,
        )
        if not plain
        else ""
    )
    fields = [("action", action)] if action else []
    if label:
        fields.append(("label", label))
    fields += [("review_round", str(review_round)), ("next", str(context.get("next_url", "")))]
    hidden = format_html_join("", '<input type="hidden" name="{}" value="{}">', fields)
    return format_html(
        '<form method="post" action="{}"{} class="{}">{}{}',
        url,
        hx,
        css,
        CsrfTokenNode().render(context),
        hidden,
    )


@register.simple_tag(takes_context=True)
def guess_buttons(
    context: Context, item: QueueItem, url: str = "", plain: object = None
) -> SafeString:
    """The model's top guesses, keys 1 to 3: each a form that accepts it (the first) or
    corrects to it, posted to ``url``; as text where the item cannot be decided. Built in
    Python because, as template markup, the guesses of a page's 25 items were over a quarter
    of the queue's rendering time (docs/benchmarks.md)."""
    p = item.prediction
    if not item.alternatives:
        name = item.label_name or p.label
        return format_html(
            '<span class="guess-button is-top"><span class="guess-name">{}</span>{}'
            ' <span class="confidence-number">{}%</span></span>',
            name,
            format_html(' <span class="guess-code">{}</span>', p.label) if name != p.label else "",
            item.percent,
        )
    out = []
    for key, alt in enumerate(item.alternatives, start=1):
        top = alt.code == p.label
        name = alt.name or alt.code
        both = alt.name and alt.name != alt.code
        code = format_html(' <span class="guess-code">{}</span>', alt.code) if both else ""
        shown = format_html(
            '<span class="guess-name">{}</span>{} <span class="confidence-number">{}%</span>',
            name,
            code,
            alt.percent,
        )
        css = "guess-button is-top" if top else "guess-button"
        if not url:
            out.append(format_html('<span class="{}">{}</span>', css, shown))
            continue
        start = decision_form(
            context,
            url,
            "accept" if top else "correct",
            p.review_round,
            css="guess",
            label="" if top else alt.code,
            plain=plain,
        )
        out.append(
            format_html(
                '{}\n<button type="submit" class="{}" data-key="{}" aria-keyshortcuts="{}"'
                ' title="{} {} (key {})">\n<kbd aria-hidden="true">{}</kbd>\n{}\n{}\n</button>'
                "\n</form>",
                start,
                css,
                key,
                key,
                "Accept" if top else "Correct to",
                name,
                key,
                key,
                shown,
                _confidence_bar(item, alt) if key == 1 else "",
            )
        )
    return mark_safe("\n".join(out))  # noqa: S308 (each part built by format_html)


def _confidence_bar(item: QueueItem, alt: LabelChoice) -> SafeString:
    threshold = item.threshold_percent
    mark = (
        format_html(
            '<span class="confbar-mark" style="left: {}%" title="threshold {}%"></span>',
            threshold,
            threshold,
        )
        if threshold is not None
        else ""
    )
    return format_html(
        '<span class="confbar" aria-hidden="true"><span class="confbar-fill" style="width: {}%">'
        "</span>{}</span>",
        alt.percent,
        mark,
    )


@register.simple_tag
def code_url(name: str, code: object) -> str:
    """``{% url name code %}`` for a URL whose one argument is a UUID ``code``, from the URL
    reversed once per process with a stand-in code: a queue page asks for about 125 of these,
    and ``reverse`` was about a seventh of its rendering time."""
    pattern = _url_with_stand_in(name, get_script_prefix(), get_urlconf())
    return pattern.replace(_STAND_IN, str(code), 1)


_STAND_IN = "00000000-0000-4000-8000-000000000000"


@lru_cache(maxsize=64)
def _url_with_stand_in(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, args=[_STAND_IN], urlconf=urlconf)


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
