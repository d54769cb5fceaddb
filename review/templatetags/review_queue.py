"""The parts of a queue item that repeat for each of a page's 25 items, built in Python.

As template markup these were most of the queue's rendering time (docs/benchmarks.md): every
variable a template prints is a lookup, a filter chain and an escape. Each tag writes the same
HTML its template did, with every value escaped as the template escaped it (``_esc``).
"""

from __future__ import annotations

from functools import lru_cache
from html import escape as _html_escape
from typing import Any, cast

from django import template
from django.template import Context
from django.template.defaultfilters import date as date_filter
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from catalogue.models import FieldValue
from catalogue.templatetags.catalogue_format import clip, code_url
from review.selectors import LabelChoice, QueueItem
from review.selectors.common import option_text
from review.templatetags.review_format import percent

register = template.Library()


def _other_options(context: Context, item: QueueItem) -> str:
    """``<option>`` elements for the field's labels that are not among the model's guesses.

    A field's vocabulary (up to a few hundred labels) is shared by the page's items of that
    field: its options are escaped once per process, listed once per render (keyed by the
    shared list, alive while the context holds the items) and each item only leaves out its
    guesses."""
    vocabulary = item.field_labels
    store = cast("dict[str, Any]", context.render_context.dicts[0])
    cache: dict[int, list[tuple[str, str]]] = store.setdefault("review_queue.options", {})
    options = cache.get(id(vocabulary))
    if options is None:
        options = cache[id(vocabulary)] = [(c.code, _option(c.code, c.name)) for c in vocabulary]
    offered = {a.code for a in item.alternatives}
    return "".join([html for code, html in options if code not in offered])


@lru_cache(maxsize=20_000)
def _option(code: str, name: str) -> str:
    return str(format_html('<option value="{}">{}</option>', code, option_text(code, name)))


# A queue page starts 175 forms and shows 75 guesses: as format_html calls (an escape and a
# lazy-string check per value) these were a fifth of its rendering time. The markup is the
# same, built with f-strings from values escaped as format_html escapes them.
def _esc(value: object) -> str:
    """``conditional_escape``: markup stays as it is, anything else is escaped."""
    if type(value) is str:  # most values: the same answer without looking for __html__
        return _html_escape(value)
    html = getattr(value, "__html__", None)
    return str(html()) if html is not None else _html_escape(str(value))


_HX = (
    ' hx-post="{}" hx-target="closest .queue-item" hx-swap="outerHTML"'
    ' hx-sync="closest .queue-item:drop" hx-disabled-elt="find button"'
)


def _form_start(
    context: Context,
    url: str,
    action: str,
    review_round: int,
    *,
    css: str,
    label: str = "",
    plain: object = None,
) -> str:
    """The start of one of an item's decision forms: ``<form>``, posted with htmx into its item
    unless ``plain`` (a decision being changed, on the item page), then the CSRF token and the
    hidden fields every decision sends (``action`` and ``label`` when given). The caller
    closes the form."""
    href = _esc(url)
    hx = "" if plain else _HX.format(href)
    fields = f'<input type="hidden" name="action" value="{_esc(action)}">' if action else ""
    if label:
        fields += f'<input type="hidden" name="label" value="{_esc(label)}">'
    fields += f'<input type="hidden" name="review_round" value="{_esc(review_round)}">'
    token, next_field = _form_constants(context)
    return (
        f'<form method="post" action="{href}"{hx} class="{_esc(css)}">{token}{fields}{next_field}'
    )


def _form_constants(context: Context) -> tuple[str, str]:
    """The CSRF token's field and the ``next`` field, the same in every form of a page:
    rendered once per template render. Keyed by the token object (alive while the context
    holds it, so its id is not reused; reading its value each time costs more) and the URL."""
    next_url = str(context.get("next_url", ""))
    key = (id(context.get("csrf_token")), next_url)
    store = cast("dict[str, Any]", context.render_context.dicts[0])
    cache: dict[tuple[int, str], tuple[str, str]] = store.setdefault("review_queue.forms", {})
    found = cache.get(key)
    if found is None:
        next_field = f'<input type="hidden" name="next" value="{_esc(next_url)}">'
        found = cache[key] = (str(CsrfTokenNode().render(context)), next_field)
    return found


@register.simple_tag
def item_heading(item: QueueItem, outcome: object = None) -> SafeString:
    """An item's heading: the record's identifier and title (its description as the title's
    tooltip), then its collection, the field, the model version and the links. Built in Python
    as the buttons are (as markup: about 20 template lookups and filters an item)."""
    p = item.prediction
    record = p.record
    code = item.code
    described = f" — {_esc(clip(record.description, 600))}" if record.description else ""
    sensitive = (
        ' <span class="badge badge-warning">Sensitive collection</span>'
        if record.collection.is_sensitive
        else ""
    )
    flagged = (
        '<span class="badge badge-warning"><span aria-hidden="true">⚑ </span>Flagged</span>'
        if p.flagged and not outcome
        else ""
    )
    identifier = _esc(record.identifier)
    return mark_safe(  # noqa: S308 (every value escaped by _esc)
        '<header class="item-head">\n'
        f'    <h2 id="item-{code}-title">\n'
        f'      <span class="identifier" title="{identifier}">{identifier}</span>\n'
        f'      <span class="title" title="{_esc(record.title)}{described}">'
        f"{_esc(clip(record.title or '(no title)', 160))}</span>\n"
        "    </h2>\n"
        '    <p class="meta item-meta">\n'
        f"      {_esc(record.collection.name)}{sensitive}\n"
        f"      · {_esc(p.field.name)}\n"
        f"      · model v{_esc(p.model_version.version)}\n"
        f'      · <a href="{code_url("catalogue:record", record.code)}">public record</a>\n'
        f'      · <a href="{code_url("review:item", code)}">history</a>\n'
        f"      {flagged}\n"
        "    </p>\n"
        "  </header>"
    )


@register.simple_tag
def wait_reason(item: QueueItem) -> SafeString:
    """Why the item waits for a person, from how it was routed."""
    p = item.prediction
    routed_by = p.routed_by
    field = _esc(p.field.name.lower())
    if routed_by == "threshold":
        threshold = item.threshold_percent
        shown = f" ({threshold}%)" if threshold is not None else ""
        reason = f"Confidence below the {field} threshold{shown}."
    elif routed_by == "review":
        reason = f"The {field} policy sends every suggestion to a person."
    elif routed_by == "sensitive-collection":
        reason = (
            f"{_esc(p.record.collection.name)} is a sensitive collection:"
            " a person checks every suggestion."
        )
    elif routed_by == "sensitive-label":
        reason = (
            f"{_esc(item.label_name or p.label)} is a sensitive label:"
            " it is never applied without a person."
        )
    else:
        reason = _REASONS.get(routed_by) or (
            f"Routed by “{_esc(routed_by)}”." if routed_by else "Waiting for review."
        )
    # The same lines as the template's {% if %} chain left, the last branch without its break.
    end = "" if not routed_by else "\n          "
    return mark_safe(  # noqa: S308 (every value escaped by _esc)
        f'<span class="item-reason">\n          {reason}{end}\n        </span>'
    )


_REASONS = {
    "flag": "A visitor flagged the value as wrong.",
    "spot-check": "A spot check: a random sample of values the model applied on its own."
    " The value stays applied until you decide.",
}


@register.simple_tag
def record_details(item: QueueItem) -> SafeString:
    """The rest of the record beside an item (focus mode and the item page)."""
    rows = "".join(
        f"<div><dt>{_esc(name)}</dt><dd>{_esc(clip(text, 600))}</dd></div>"
        for name, text in item.details
    )
    return mark_safe(  # noqa: S308 (every value escaped by _esc)
        f'\n<dl class="record-details" aria-label="The rest of this record">\n  {rows}\n</dl>\n\n'
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
        code = f' <span class="guess-code">{_esc(p.label)}</span>' if name != p.label else ""
        return mark_safe(  # noqa: S308 (every value escaped by _esc)
            f'<span class="guess-button is-top"><span class="guess-name">{_esc(name)}</span>'
            f'{code} <span class="confidence-number">{_esc(item.percent)}%</span></span>'
        )
    out = []
    for key, alt in enumerate(item.alternatives, start=1):
        top = alt.code == p.label
        name = _esc(alt.name or alt.code)
        both = alt.name and alt.name != alt.code
        code = f' <span class="guess-code">{_esc(alt.code)}</span>' if both else ""
        shown = (
            f'<span class="guess-name">{name}</span>{code}'
            f' <span class="confidence-number">{_esc(alt.percent)}%</span>'
        )
        css = "guess-button is-top" if top else "guess-button"
        if not url:
            out.append(f'<span class="{css}">{shown}</span>')
            continue
        start = _form_start(
            context,
            url,
            "accept" if top else "correct",
            p.review_round,
            css="guess",
            label="" if top else alt.code,
            plain=plain,
        )
        verb = "Accept" if top else "Correct to"
        bar = _confidence_bar(item, alt) if key == 1 else ""
        out.append(
            f'{start}\n<button type="submit" class="{css}" data-key="{key}"'
            f' aria-keyshortcuts="{key}" title="{verb} {name} (key {key})">\n'
            f'<kbd aria-hidden="true">{key}</kbd>\n{shown}\n{bar}\n</button>\n</form>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 (every value escaped by _esc)


def _confidence_bar(item: QueueItem, alt: LabelChoice) -> str:
    threshold = item.threshold_percent
    mark = (
        f'<span class="confbar-mark" style="left: {_esc(threshold)}%"'
        f' title="threshold {_esc(threshold)}%"></span>'
        if threshold is not None
        else ""
    )
    return (
        '<span class="confbar" aria-hidden="true"><span class="confbar-fill"'
        f' style="width: {_esc(alt.percent)}%"></span>{mark}</span>'
    )


@register.simple_tag(takes_context=True)
def decision_actions(
    context: Context, item: QueueItem, url: str, standing: object = None
) -> SafeString:
    """An item's decision buttons: accept, correct to (a list and a box to type in), reject
    and, for a waiting item, "not applicable", posted to ``url``; ``standing`` is the decision
    being changed (item page), whose forms are plain posts."""
    p = item.prediction
    kept = item.kept_value
    accept = "Take the model's" if kept else "Accept"
    reject = (
        f'Keep {_esc(item.kept_by)} <span class="label-name">'
        f"{_esc(item.current_name or kept.label)}</span>"
        if kept
        else "Reject"
    )
    verb = "Change the decision on" if standing else "Decide on"
    accept_start = _form_start(
        context, url, "accept", p.review_round, css="action-accept", plain=standing
    )
    reject_start = _form_start(
        context, url, "reject", p.review_round, css="action-reject", plain=standing
    )
    out = [
        f'<div class="actions" role="group" aria-label="{verb} {_esc(p.record.identifier)}">\n'
        f"      {accept_start}\n"
        '        <button type="submit" class="button-accept" data-key="a" aria-keyshortcuts="a">'
        f'{accept} <span class="label-name">{_esc(item.label_name or p.label)}</span></button>\n'
        "      </form>\n"
        f"      {_correct_form(context, item, url, standing)}\n"
        f"      {reject_start}\n"
        '        <button type="submit" class="button-danger" data-key="r" aria-keyshortcuts="r">'
        f"{reject}</button>\n"
        "      </form>\n"
    ]
    if not standing:
        not_applicable = code_url("review:not_applicable", item.code)
        start = _form_start(
            context, not_applicable, "", p.review_round, css="action-not-applicable", plain=True
        )
        out.append(
            f"      {start}\n"
            '        <button type="submit" class="button-secondary" title="The '
            f"{_esc(p.field.name.lower())} does not apply to this record: never asked again,"
            ' not a training label">Not applicable</button>\n'
            "      </form>\n"
        )
    out.append("    </div>")
    return mark_safe("".join(out))  # noqa: S308 (every value escaped by _esc)


def _correct_form(context: Context, item: QueueItem, url: str, standing: object) -> str:
    code = item.code
    p = item.prediction
    typed = context.get("typed") or ""
    invalid = (
        f' aria-invalid="true" aria-describedby="error-{code}"'
        if context.get("error") and typed
        else ""
    )
    options = ['          <option value="">Choose a label…</option>\n']
    alternatives = item.correct_alternatives
    if alternatives:
        guesses = "".join(
            f'<option value="{_esc(a.code)}">{_esc(a.option_text)} ({_esc(a.percent)}%)</option>'
            for a in alternatives
        )
        options.append(
            '          <optgroup label="The model\'s other guesses">\n'
            f"            {guesses}\n"
            "          </optgroup>\n"
        )
    others = _other_options(context, item)
    if others:
        options.append(
            '          <optgroup label="Other labels of this field">\n'
            f"            {others}\n"
            "          </optgroup>\n"
        )
    start = _form_start(
        context, url, "correct", p.review_round, css="action-correct", plain=standing
    )
    return (
        f"{start}\n"
        f'        <label for="label-{code}">Correct to</label>\n'
        f'        <select name="label" id="label-{code}" data-key="c" aria-keyshortcuts="c">\n'
        f"{''.join(options)}"
        "        </select>\n"
        f'        <label for="label-text-{code}" class="visually-hidden">or type a code or name'
        "</label>\n"
        f'        <input type="text" name="label_text" id="label-text-{code}"'
        f' value="{_esc(typed)}" size="12" autocomplete="off" spellcheck="false"'
        f' placeholder="or type one"{invalid}>\n'
        '        <button type="submit" class="button-secondary">Correct</button>\n'
        "      </form>"
    )


@register.simple_tag(takes_context=True)
def current_value(context: Context, value: FieldValue | None, name: str = "") -> SafeString:
    """A record's value for the field ("Finnish fin", "none yet", "empty") with where it came
    from and when: beside each queue item and each row of the bulk page."""
    if value is None:
        return mark_safe('\n<span class="value-none">none yet</span>\n')
    label = _esc(value.label)
    if not value.label:
        shown = '<span class="value-none">empty</span>'
    elif name and name != value.label:
        shown = f'{_esc(name)} <span class="guess-code">{label}</span>'
    else:
        shown = f'<span class="label-code">{label}</span>'
    moment = template_localtime(value.created_at, context.use_tz)
    return mark_safe(  # noqa: S308 (every value escaped by _esc)
        f'\n{shown}\n<span class="badge badge-{_esc(value.source)}">{_value_origin(value)}</span>'
        f' <time class="meta" datetime="{_esc(date_filter(moment, "c"))}">'
        f"{_esc(date_filter(moment, 'j M Y H:i'))}</time>\n"
    )


def _value_origin(value: FieldValue) -> str:
    if value.source == FieldValue.Source.IMPORT:
        return "from the source catalogue"
    if value.source == FieldValue.Source.MODEL:
        if value.action == FieldValue.Action.WITHDRAWN:
            after = {
                "policy-change": " after a policy change",
                "record-moved": " when the record moved",
            }.get(value.policy, "")
            return f"model value withdrawn{after}"
        version = value.model_version.version if value.model_version else ""
        at = f" at {_esc(percent(value.confidence))}" if value.confidence is not None else ""
        return f"applied by model v{_esc(version)}{at}"
    if value.source == FieldValue.Source.HUMAN:
        action = value.get_action_display().lower() or "set"
        who = (value.user.get_username() if value.user else "") or "a cataloguer"
        return f"{_esc(action)} by {_esc(who)}"
    return ""


@register.filter
def queue_filters_set(form: Any) -> bool:
    """Whether the queue's filter form narrows or reorders the list (then a phone keeps it open)."""
    data = form.data
    default_order = form.fields["order"].choices[0][0]  # the first order offered is the default
    if data.get("order") not in (None, "", default_order):
        return True
    return any(data.get(name) for name in form.fields if name != "order")
