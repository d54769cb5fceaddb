"""The queue's links built from a URL reversed once (``code_url``) are Django's own links."""

from __future__ import annotations

from uuid import uuid4

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from review.templatetags.review_format import code_url

NAMES = [
    "review:item",
    "review:decide",
    "review:change",
    "review:not_applicable",
    "catalogue:record",
]


@pytest.mark.parametrize("prefix", ["/", "/glam/"])
def test_item_links_are_the_urls_django_reverses_also_under_a_script_prefix(prefix):
    set_script_prefix(prefix)
    try:
        for name in NAMES:
            code = uuid4()
            assert code_url(name, code) == reverse(name, args=[code])
            assert code_url(name, str(code)).startswith(prefix)
    finally:
        clear_script_prefix()
