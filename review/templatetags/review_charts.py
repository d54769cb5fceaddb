"""Small charts drawn by the app itself as inline SVG: no chart library, no CDN.

Each chart is an ``<svg role="img">`` with a text description; the page puts the numbers it
draws in a table beside it, so nothing is said by the picture alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from review.charts import TICKS, Frame, frame_axes, svg
from review.selectors import CurvePoint, ReliabilityBin

register = template.Library()


@register.simple_tag
def reliability_chart(bins: Sequence[ReliabilityBin]) -> SafeString:
    """Accuracy against mean confidence per bin; on the diagonal a model is well calibrated.

    Dot area grows with the number of held-out records in the bin.
    """
    if not bins:
        return mark_safe("")
    frame = Frame()
    largest = max(b.count for b in bins) or 1
    line = " ".join(f"{frame.x(b.confidence)},{frame.y(b.accuracy)}" for b in bins)
    dots = format_html_join(
        "",
        '<circle class="pt" cx="{}" cy="{}" r="{}"><title>confidence {}, right {} '
        "of the time, {} record(s)</title></circle>",
        (
            (
                frame.x(b.confidence),
                frame.y(b.accuracy),
                round(2.5 + 5 * (b.count / largest) ** 0.5, 1),
                f"{b.confidence:.2f}",
                f"{b.accuracy:.0%}",
                b.count,
            )
            for b in bins
        ),
    )
    body = format_html(
        '{}<line class="ideal" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<polyline class="series" points="{}"/>{}',
        frame_axes(frame, x_label="Confidence", y_label="Share right", y_ticks=TICKS),
        frame.x(0),
        frame.y(0),
        frame.x(1),
        frame.y(1),
        line,
        dots,
    )
    return svg(
        "Reliability curve: share of held-out predictions that were right, against their "
        "confidence; the dashed diagonal is perfect calibration.",
        body,
        "chart-reliability",
    )


@register.simple_tag
def precision_coverage_chart(
    points: Sequence[CurvePoint], threshold: float | None = None
) -> SafeString:
    """Precision against coverage as the threshold falls, with the field's threshold marked.

    The precision axis starts at the nearest tenth below the lowest precision, so the part of
    the curve where thresholds are chosen is not squashed against the top.
    """
    if not points:
        return mark_safe("")
    low = min(p.precision for p in points)
    y0 = min(0.9, max(0.0, int(low * 10) / 10))
    frame = Frame(y0=y0)
    ordered = sorted(points, key=lambda p: p.coverage)
    line = " ".join(f"{frame.x(p.coverage)},{frame.y(p.precision)}" for p in ordered)
    marker = mark_safe("")
    if threshold is not None:
        # The last point still at or above the threshold: what that threshold would apply.
        at = [p for p in points if p.threshold >= threshold]
        if at:
            point = min(at, key=lambda p: p.threshold)
            x, y = frame.x(point.coverage), frame.y(point.precision)
            marker = format_html(
                '<line class="marker" x1="{x}" y1="{top}" x2="{x}" y2="{bottom}"/>'
                '<circle class="pt pt-marker" cx="{x}" cy="{y}" r="5"><title>threshold {t}: '
                "precision {p}, coverage {c}</title></circle>"
                '<text class="marker-label" x="{lx}" y="{ly}" text-anchor="{anchor}">'
                "threshold {t}</text>",
                x=x,
                y=y,
                top=frame.y(frame.y1),
                bottom=frame.y(frame.y0),
                t=f"{threshold:.2f}",
                p=f"{point.precision:.0%}",
                c=f"{point.coverage:.0%}",
                lx=x - 6 if point.coverage > 0.6 else x + 6,
                ly=frame.y(frame.y0) - 8,
                anchor="end" if point.coverage > 0.6 else "start",
            )
    y_ticks = [y0 + (1 - y0) * k / 4 for k in range(5)]
    body = format_html(
        '{}<polyline class="series" points="{}"/>{}',
        frame_axes(frame, x_label="Coverage (share applied)", y_label="Precision", y_ticks=y_ticks),
        line,
        marker,
    )
    return svg(
        "Precision against coverage: lowering the threshold applies more held-out records "
        "and gets fewer of them right.",
        body,
        "chart-precision-coverage",
    )
