"""Template helpers cheap enough for every row of a list: a link per record, a title cut short.

Each gives exactly what the Django built-in it stands for gives (``{% url %}``,
``truncatechars``); on the collection page and in search results those built-ins were about a
quarter of the rendering (docs/benchmarks.md).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django import template
from django.template.defaultfilters import stringfilter
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length

register = template.Library()

_STAND_IN = "00000000-0000-4000-8000-000000000000"
# What a UUID or a slug converter matches, and what reverse() would leave unquoted.
_PLAIN_ARGUMENT = re.compile(r"[-a-zA-Z0-9_]+")


@register.simple_tag
def code_url(name: str, code: object) -> str:
    """``{% url name code %}`` for a URL whose one argument is a UUID ``code`` or a slug, from
    the URL reversed once per process with a stand-in: a queue page asks for about 125 of
    these, a page of records 50 to 100, and ``reverse`` was a seventh to a fifth of their
    rendering time. Anything else is reversed as ``{% url %}`` would."""
    text = str(code)
    if not _PLAIN_ARGUMENT.fullmatch(text):
        return reverse(name, args=[code])
    pattern = _url_with_stand_in(name, get_script_prefix(), get_urlconf())
    return pattern.replace(_STAND_IN, text, 1)


@lru_cache(maxsize=64)
def _url_with_stand_in(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, args=[_STAND_IN], urlconf=urlconf)


def clip(value: object, length: int) -> str:
    """``truncatechars``: the same text, without the built-in's walk over each character where
    none of the first ``length + 1`` combines with the one before (titles nearly always)."""
    if length <= 0:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    if len(text) <= length:
        return text
    if any(map(unicodedata.combining, text[: length + 1])):
        return Truncator(text).chars(length)
    return add_truncation_text(text[: calculate_truncate_chars_length(length, None)], None)


@register.filter(name="clip", is_safe=True)
@stringfilter
def clip_filter(value: str, length: int) -> str:
    """``{{ title|clip:160 }}``: ``truncatechars``, cheaper (see ``clip``)."""
    return clip(value, int(length))
