"""What a queue item says about the record's value now: where it came from and when."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.template import engines

from catalogue.models import FieldValue, ModelVersion

SET_AT = datetime.datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=datetime.UTC)
WHEN = '<time class="meta" datetime="2026-03-04T05:06:07.000890+00:00">4 Mar 2026 05:06</time>'


def shown(value: FieldValue | None, name: str = "") -> str:
    template = engines["django"].from_string(
        "{% load review_queue %}{% current_value value name %}"
    )
    return " ".join(template.render({"value": value, "name": name}).split())


def value(**kwargs: object) -> FieldValue:
    return FieldValue(created_at=SET_AT, **{"label": "fra", "source": "import", **kwargs})


@pytest.mark.parametrize(
    ("given", "name", "text"),
    [
        (None, "", '<span class="value-none">none yet</span>'),
        (
            value(),
            "French",
            'French <span class="guess-code">fra</span> <span class="badge badge-import">from'
            f" the source catalogue</span> {WHEN}",
        ),
        (value(), "", '<span class="label-code">fra</span> <span class="badge badge-import">'),
        (value(), "fra", '<span class="label-code">fra</span> <span class="badge badge-import">'),
        (value(label=""), "", '<span class="value-none">empty</span>'),
        (
            value(source="model", model_version=ModelVersion(version=3), confidence=0.876),
            "",
            '<span class="badge badge-model">applied by model v3 at 87%</span>',
        ),
        (
            value(source="model", model_version=ModelVersion(version=3)),
            "",
            '<span class="badge badge-model">applied by model v3</span>',
        ),
        (
            value(source="model", action="withdrawn", policy="policy-change"),
            "",
            '<span class="badge badge-model">model value withdrawn after a policy change</span>',
        ),
        (
            value(source="model", action="withdrawn"),
            "",
            '<span class="badge badge-model">model value withdrawn</span>',
        ),
        (
            value(source="human", action="corrected", user=User(username="o'neil")),
            "",
            '<span class="badge badge-human">corrected by o&#x27;neil</span>',
        ),
        (value(source="human"), "", '<span class="badge badge-human">set by a cataloguer</span>'),
        (
            value(label="<b>", source="human", action="accepted"),
            "Bold & co",
            'Bold &amp; co <span class="guess-code">&lt;b&gt;</span> <span class="badge '
            'badge-human">accepted by a cataloguer</span>',
        ),
    ],
)
def test_it_says_what_the_value_is_who_set_it_and_when(given, name, text):
    html = shown(given, name)

    assert text in html
    if given is not None:
        assert html.endswith(WHEN)
