"""The monitoring charts tell their series apart without colour: by marker shape, dash and fill."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from catalogue.services.monitoring.report import DriftPoint, DriftSeries, LabelColumn, LabelShare
from catalogue.services.monitoring.snapshots import (
    AGAINST_PREVIOUS,
    AGAINST_REFERENCE,
    SCORES,
    score_against,
)
from review.templatetags.monitoring_charts import drift_chart, label_chart, legend_swatch

DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(3)]


def _shape(element: str) -> str:
    """What a marker looks like in black and white: its element and the strokes it is drawn with."""
    tag = element.split()[0].lstrip("<")
    if tag == "rect":
        width = re.search(r'width="([\d.]+)"', element)
        height = re.search(r'height="([\d.]+)"', element)
        assert width and height
        return "square" if width.group(1) == height.group(1) else "bar"
    if tag == "path":
        d = re.search(r'd="([^"]+)"', element)
        assert d
        return f"path M{d.group(1).count('M')} L{d.group(1).count('L')}"
    return tag


def _marker_shapes(svg: str, k: int) -> set[str]:
    return {_shape(m) for m in re.findall(rf'<(?:circle|rect|path) class="pt s{k}[ "][^>]*>', svg)}


@pytest.mark.parametrize("against", [AGAINST_REFERENCE, AGAINST_PREVIOUS])
def test_each_drift_score_has_its_own_marker_and_dash_not_only_its_own_colour(against):
    # One chart per comparison: every score it holds must be told apart without colour.
    scores = [(name, title) for name, title in SCORES.items() if score_against(name) == against]
    series = [
        DriftSeries(
            score=name,
            title=title,
            name=name,
            line=0.2,
            points=[DriftPoint(day=d, distance=0.05 * (i + 1), crossed=False) for d in DAYS],
            against=against,
        )
        for i, (name, title) in enumerate(scores)
    ]
    n = len(series)
    assert 5 <= n <= 6

    svg = str(drift_chart(series))

    dashes = re.findall(
        r'<polyline class="series s\d" points="[^"]*" stroke-dasharray="([^"]*)"', svg
    )
    assert len(dashes) == n
    assert len(set(dashes)) == n
    shapes = [_marker_shapes(svg, k) for k in range(n)]
    assert all(len(s) == 1 for s in shapes), shapes
    assert len(set.union(*shapes)) == n, shapes
    # Each legend entry draws the same dash and marker as its series in the chart.
    for k, dash in enumerate(dashes):
        swatch = str(legend_swatch(k))
        assert f'stroke-dasharray="{dash}"' in swatch
        assert _marker_shapes(swatch, k) == shapes[k]


def test_each_predicted_label_has_its_own_fill_pattern_in_the_label_chart():
    labels = ["Non-fiction", "Fiction", "Poetry", "Drama", "Travel", "other"]
    column = LabelColumn(
        name="2026-03-01",
        total=60,
        shares=[LabelShare(label=label, count=10, share=1 / 6) for label in labels],
    )

    svg = str(label_chart([column]))

    fills = re.findall(r'<rect class="bar s\d[^"]*" [^>]*style="([^"]*)"', svg)
    assert len(fills) == len(labels)
    assert len(set(fills)) == len(labels), fills  # one solid, five patterns
    for fill in filter(None, fills):
        pattern = re.search(r"url\(#([\w-]+)\)", fill)
        assert pattern and f'<pattern id="{pattern.group(1)}"' in svg
