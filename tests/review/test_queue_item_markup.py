"""What a queue item says about the record's value now: where it came from and when."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth.models import User
from django.template import engines

from catalogue.models import (
    Collection,
    DecisionPolicy,
    Field,
    FieldValue,
    ModelVersion,
    Prediction,
    Record,
)
from review.selectors import QueueItem

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


def item(
    *,
    routed_by: str = "threshold",
    threshold: float | None = 0.9,
    flagged: bool = False,
    **record: object,
):
    """A queue item of an unsaved prediction: the tags read only what the page's joins fetch."""
    collection = Collection(name="Prints & <drawings>", is_sensitive=record.pop("sensitive", False))
    field = Field(name="Language")
    if threshold is not None:
        field.policy = DecisionPolicy(field=field, threshold=threshold)
    prediction = Prediction(
        code=uuid.UUID(int=1),
        record=Record(
            code=uuid.UUID(int=2),
            collection=collection,
            **{"identifier": "id<1>", "title": "A title", "description": "", **record},
        ),
        field=field,
        model_version=ModelVersion(version=4),
        label="fra",
        routed_by=routed_by,
        flagged=flagged,
    )
    return QueueItem(
        prediction=prediction,
        label_name="French",
        alternatives=[],
        current_value=None,
        current_name="",
        open_flags=[],
    )


def tag(text: str, **context: object) -> str:
    template = engines["django"].from_string("{% load review_queue %}" + text)
    return " ".join(template.render(context).split())


@pytest.mark.parametrize(
    ("routed_by", "threshold", "reason"),
    [
        ("threshold", 0.955, "Confidence below the language threshold (95%)."),
        ("threshold", None, "Confidence below the language threshold."),
        ("review", 0.9, "The language policy sends every suggestion to a person."),
        (
            "sensitive-collection",
            0.9,
            "Prints &amp; &lt;drawings&gt; is a sensitive collection: a person checks every"
            " suggestion.",
        ),
        (
            "sensitive-label",
            0.9,
            "French is a sensitive label: it is never applied without a person.",
        ),
        ("flag", 0.9, "A visitor flagged the value as wrong."),
        ("spot-check", 0.9, "A spot check: a random sample of values the model applied"),
        ("<new>", 0.9, "Routed by “&lt;new&gt;”."),
        ("", 0.9, "Waiting for review."),
    ],
)
def test_an_item_says_why_it_waits(routed_by, threshold, reason):
    html = tag("{% wait_reason item %}", item=item(routed_by=routed_by, threshold=threshold))

    assert html.startswith(f'<span class="item-reason"> {reason}')


def test_an_items_heading_names_the_record_escaped_and_cut_short():
    shown = item(title="T" * 170, description="<b>About</b>", sensitive=True, flagged=True)

    html = tag("{% item_heading item outcome %}", item=shown, outcome=None)

    assert 'title="id&lt;1&gt;">id&lt;1&gt;</span>' in html
    assert f'title="{"T" * 170} — &lt;b&gt;About&lt;/b&gt;">{"T" * 159}…</span>' in html
    assert 'Prints &amp; &lt;drawings&gt; <span class="badge badge-warning">Sensitive' in html
    assert "· Language · model v4 ·" in html
    assert f'href="/records/{uuid.UUID(int=2)}/">public record</a>' in html
    assert "Flagged</span>" in html
    assert "Flagged" not in tag("{% item_heading item outcome %}", item=shown, outcome="done")


def test_an_untitled_record_says_so():
    assert '">(no title)</span>' in tag("{% item_heading item %}", item=item(title=""))


def test_the_rest_of_a_record_is_listed_escaped_and_cut_short():
    shown = item()
    shown.details = [("Subject <s>", "x" * 700), ("Place", "Turku & Åbo")]

    html = tag("{% record_details item %}", item=shown)

    assert f"<div><dt>Subject &lt;s&gt;</dt><dd>{'x' * 599}…</dd></div>" in html
    assert "<div><dt>Place</dt><dd>Turku &amp; Åbo</dd></div>" in html
