"""Form widgets written in Python, for the forms every list page renders.

Django renders a ``<select>`` through three templates (the list, each option, each one's
attributes): for the review queue's filters that was about a tenth of a request
(docs/benchmarks.md). ``QuickSelect`` writes the same HTML from the same context, escaped as
the templates escape it; tests compare the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.safestring import SafeString, mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _escaped(value: object) -> str:
    """``{{ value }}``: markup as it is, anything else escaped."""
    html = getattr(value, "__html__", None)
    return str(html()) if html is not None else escape(str(value))


def _formatted(value: object) -> str:
    """``{{ value|stringformat:'s' }}`` (the filter keeps markup as markup)."""
    html = getattr(value, "__html__", None)
    return str(html()) if html is not None else escape("%s" % (value,))  # noqa: UP031


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: `` name="value"``, a bare `` name`` for ``True``,
    nothing for ``False``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(
            f" {_escaped(name)}" if value is True else f' {_escaped(name)}="{_formatted(value)}"'
        )
    return "".join(out)


class QuickSelect(forms.Select):
    """``forms.Select``, rendered without the template engine (the same HTML)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        context = self.get_context(name, value, attrs)
        widget = context["widget"]
        groups = widget["optgroups"]
        if self.template_name != SELECT_TEMPLATE or any(
            option["template_name"] != OPTION_TEMPLATE
            for _, options, _ in groups
            for option in options
        ):
            return super().render(name, value, attrs, renderer)  # another template: its own
        out = [f'<select name="{_escaped(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in groups:
            if group_name:
                out.append(f'\n  <optgroup label="{_escaped(group_name)}">')
            out.extend(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_escaped(option['label'])}</option>\n"  # the option template's last line
                for option in options
            )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 (every value escaped as the templates do)
