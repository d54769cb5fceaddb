"""The monitoring page's charts, drawn by the app as inline SVG (no chart library, no CDN).

Series are told apart by shape, dash and fill pattern as well as colour, and every chart has a
table beside it with the numbers it draws (in the template), so nothing depends on colour or on
seeing the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from catalogue.services.monitoring.report import (
    BandRow,
    DriftSeries,
    LabelColumn,
    PrecisionPoint,
    ReliabilityRow,
)
from glamml.ml.drift import Proportion
from review.charts import (
    DASHES,
    LEFT,
    MARKERS,
    PATTERNS,
    RIGHT,
    TICKS,
    WIDTH,
    DayFrame,
    Frame,
    alert_line,
    bar_rect,
    day_axes,
    day_label,
    frame_axes,
    interval_marks,
    nice_ticks,
    pattern_defs,
    pattern_fill,
    point_marker,
    svg,
)

register = template.Library()


@register.simple_tag
def legend_swatch(index: int, kind: str = "line") -> SafeString:
    """The small picture a legend entry shows: the series' marker and dash, or its fill."""
    i = int(index)
    if kind == "fill":
        body = format_html(
            '{}<rect x="1" y="1" width="22" height="14" class="swatch-fill s{}" style="{}"/>',
            pattern_defs(f"sw{i}"),
            i % len(PATTERNS),
            pattern_fill(f"sw{i}", i),
        )
    else:
        body = format_html(
            '<line x1="1" y1="8" x2="23" y2="8" class="series s{}" stroke-dasharray="{}"/>{}',
            i % len(MARKERS),
            DASHES[i % len(DASHES)],
            point_marker(MARKERS[i % len(MARKERS)], 12, 8, 4, f"pt s{i % len(MARKERS)}"),
        )
    return format_html(
        '<svg class="legend-swatch" viewBox="0 0 24 16" width="24" height="16" aria-hidden="true">'
        "{}</svg>",
        body,
    )


@register.simple_tag
def drift_chart(series: Sequence[DriftSeries], against: str = "") -> SafeString:
    """Each drift score by day, with the alert line; a crossing is a filled, larger marker.

    ``against`` names what the scores compare the window with, for the chart's description.
    """
    if not series:
        return mark_safe("")
    days = [p.day for p in series[0].points]
    line = series[0].line
    top = max([line * 1.5, *(p.distance or 0 for s in series for p in s.points)])
    y1 = 1.0 if top > 0.5 else 0.5
    frame = DayFrame(len(days), 0.0, y1)
    body = [
        day_axes(
            frame,
            [day_label(d) for d in days],
            y_label="JS distance",
            y_ticks=nice_ticks(0.0, y1),
        )
    ]
    body.append(alert_line(frame, line, f"alert line {line:.2f}"))
    for index, s in enumerate(series):
        k = index % len(MARKERS)
        measured = [(i, p) for i, p in enumerate(s.points) if p.distance is not None]
        points = " ".join(f"{frame.x(i)},{frame.y(p.distance or 0)}" for i, p in measured)
        body.append(
            format_html(
                '<polyline class="series s{}" points="{}" stroke-dasharray="{}"/>',
                k,
                points,
                DASHES[index % len(DASHES)],
            )
        )
        for i, p in measured:
            css = f"pt s{k}" + (" crossed" if p.crossed else "")
            size = 5.5 if p.crossed else 3.5
            body.append(
                format_html(
                    "<g>{}<title>{}, {}: {}{}</title></g>",
                    point_marker(MARKERS[k], frame.x(i), frame.y(p.distance or 0), size, css),
                    s.title,
                    p.day,
                    f"{p.distance:.3f}",
                    " (crossed the alert line)" if p.crossed else "",
                )
            )
    return svg(
        f"Drift scores by day{', ' + against.lower() if against else ''}: Jensen–Shannon "
        "distance of each figure from what it is compared with, with the alert line; larger "
        "filled markers crossed it.",
        mark_safe("".join(body)),  # noqa: S308 - every part went through format_html
        "chart-drift",
    )


@register.simple_tag
def label_chart(columns: Sequence[LabelColumn]) -> SafeString:
    """Stacked bars: each day's share of predicted labels, the reference first."""
    if not columns:
        return mark_safe("")
    frame = DayFrame(len(columns))
    n = len(columns)
    slot = (WIDTH - LEFT - RIGHT - 44) / max(n - 1, 1) if n > 1 else 60.0
    width = round(max(3.0, min(36.0, slot * 0.7)), 1)
    body = [
        pattern_defs("lab"),
        day_axes(
            frame,
            ["ref" if c.name == "reference" else day_label(c.name) for c in columns],
            y_label="Share of predictions",
            y_ticks=TICKS,
            percent=True,
        ),
    ]
    for i, column in enumerate(columns):
        if not column.total:
            continue
        running = 0.0
        for k, share in enumerate(column.shares):
            if not share.count:
                running += share.share
                continue
            body.append(
                bar_rect(
                    x=frame.x(i),
                    top=frame.y(running + share.share),
                    bottom=frame.y(running),
                    width=width,
                    css=f"bar s{k % len(PATTERNS)}"
                    + (" reference" if column.name == "reference" else ""),
                    style=pattern_fill("lab", k),
                    title=f"{column.name}: {share.label} {share.count} of {column.total} "
                    f"({share.share:.0%})",
                )
            )
            running += share.share
    return svg(
        "Predicted labels by day as shares of each day's predictions, the reference (the "
        "model's predictions on its held-out records) first.",
        mark_safe("".join(body)),  # noqa: S308 - every part went through format_html
        "chart-labels",
    )


@register.simple_tag
def confidence_chart(rows: Sequence[BandRow]) -> SafeString:
    """Share of predictions per confidence band: live (solid) beside held-out (hatched)."""
    if not rows or not any(r.live for r in rows):
        return mark_safe("")
    top = max([r.live_share for r in rows] + [r.reference_share or 0 for r in rows])
    y1 = min(1.0, max(0.25, -(-top * 4 // 1) / 4))
    frame = DayFrame(len(rows), 0.0, y1)
    slot = (WIDTH - LEFT - RIGHT - 44) / max(len(rows) - 1, 1)
    width = round(slot * 0.38, 1)
    body = [
        pattern_defs("conf"),
        day_axes(
            frame,
            [r.band.split("–")[0] for r in rows],
            y_label="Share of predictions",
            y_ticks=nice_ticks(0.0, y1),
            percent=True,
            x_label="Confidence band (from)",
        ),
    ]
    for i, r in enumerate(rows):
        for offset, share, css, fill, who in (
            (-width / 2, r.live_share, "bar s0", "", "live"),
            (width / 2, r.reference_share, "bar s1 reference", pattern_fill("conf", 1), "held-out"),
        ):
            if share is None:
                continue
            body.append(
                bar_rect(
                    x=frame.x(i) + offset,
                    top=frame.y(share),
                    bottom=frame.y(0),
                    width=width,
                    css=css,
                    style=fill,
                    title=f"{who} {r.band}: {share:.0%}",
                )
            )
    return svg(
        "Confidence of the predictions in the window, per band (solid bars), beside the "
        "model's predictions on its held-out records (hatched bars).",
        mark_safe("".join(body)),  # noqa: S308 - every part went through format_html
        "chart-confidence",
    )


@register.simple_tag
def live_reliability_chart(rows: Sequence[ReliabilityRow]) -> SafeString:
    """Share accepted by reviewers against mean confidence per band, with Wilson intervals."""
    if not rows:
        return mark_safe("")
    frame = Frame()
    largest = max(r.decided for r in rows) or 1
    bars = mark_safe(  # noqa: S308 - every part went through format_html
        "".join(
            interval_marks(
                frame.x(r.confidence), frame.y(r.acceptance.low), frame.y(r.acceptance.high), 3
            )
            for r in rows
        )
    )
    dots = format_html_join(
        "",
        '<circle class="pt s0" cx="{}" cy="{}" r="{}"><title>band {}: mean confidence {}, '
        "{} of {} accepted ({}, 95% interval {}–{})</title></circle>",
        (
            (
                frame.x(r.confidence),
                frame.y(r.acceptance.estimate),
                round(2.5 + 5 * (r.decided / largest) ** 0.5, 1),
                r.band,
                f"{r.confidence:.2f}",
                r.accepted,
                r.decided,
                f"{r.acceptance.estimate:.0%}",
                f"{r.acceptance.low:.0%}",
                f"{r.acceptance.high:.0%}",
            )
            for r in rows
        ),
    )
    body = format_html(
        '{}<line class="ideal" x1="{}" y1="{}" x2="{}" y2="{}"/>{}{}',
        frame_axes(frame, x_label="Confidence", y_label="Share accepted", y_ticks=TICKS),
        frame.x(0),
        frame.y(0),
        frame.x(1),
        frame.y(1),
        bars,
        dots,
    )
    return svg(
        "Live reliability: share of reviewed predictions that people accepted, against their "
        "confidence, with 95% Wilson intervals; the dashed diagonal is perfect calibration.",
        body,
        "chart-live-reliability",
    )


def _precision_day(frame: DayFrame, i: int, day: date, share: Proportion) -> SafeString:
    """One day's spot-check precision: its interval as an error bar and a dot with the counts."""
    x = frame.x(i)
    return format_html(
        "<g>{}</g><g>{}<title>{}: {} of {} confirmed ({}, 95% interval {}–{})</title></g>",
        interval_marks(x, frame.y(share.low), frame.y(share.high), 4),
        point_marker("circle", x, frame.y(share.estimate), 4, "pt s0"),
        day,
        share.successes,
        share.n,
        f"{share.estimate:.0%}",
        f"{share.low:.0%}",
        f"{share.high:.0%}",
    )


@register.simple_tag
def precision_chart(points: Sequence[PrecisionPoint]) -> SafeString:
    """Spot-check precision by day (cumulative) with its interval, and the held-out line."""
    measured = [(i, p) for i, p in enumerate(points) if p.share is not None]
    if not measured:
        return mark_safe("")
    expected = next((p.expected for p in reversed(points) if p.expected is not None), None)
    low = min([p.share.low for _, p in measured if p.share] + [expected or 1.0])
    y0 = max(0.0, int(low * 10) / 10 - 0.1) if low > 0.1 else 0.0
    frame = DayFrame(len(points), y0, 1.0)
    upper = " ".join(f"{frame.x(i)},{frame.y(p.share.high)}" for i, p in measured if p.share)
    lower = " ".join(
        f"{frame.x(i)},{frame.y(p.share.low)}" for i, p in reversed(measured) if p.share
    )
    body = [
        pattern_defs("prec"),
        day_axes(
            frame,
            [day_label(p.day) for p in points],
            y_label="Share confirmed",
            y_ticks=nice_ticks(y0, 1.0),
            percent=True,
        ),
    ]
    if len(measured) > 1:
        body.append(
            format_html(
                '<polygon class="band" points="{} {}" style="{}"/>',
                upper,
                lower,
                pattern_fill("prec", 2),
            )
        )
    if expected is not None:
        body.append(alert_line(frame, expected, f"held-out {expected:.0%}"))
    body.append(
        format_html(
            '<polyline class="series s0" points="{}"/>',
            " ".join(f"{frame.x(i)},{frame.y(p.share.estimate)}" for i, p in measured if p.share),
        )
    )
    body += [_precision_day(frame, i, p.day, p.share) for i, p in measured if p.share]
    return svg(
        "Spot-check precision by day (all spot checks decided so far), with its 95% Wilson "
        "interval as bars (and a dotted band between days) and the held-out precision at the "
        "threshold as a dashed line.",
        mark_safe("".join(body)),  # noqa: S308 - every part went through format_html
        "chart-precision",
    )


@register.filter
def share(value: float | None) -> str:
    """``0.923`` -> ``"92%"`` (rounded to the nearest), or an em dash."""
    return "—" if value is None else f"{value:.0%}"


@register.filter
def proportion(p: Proportion | None) -> str:
    """``"92% (57 of 62; 95% Wilson interval 82–97%)"``, or an em dash when nothing was counted."""
    if p is None or not p.n:
        return "—"
    return (
        f"{p.estimate:.0%} ({p.successes} of {p.n}; 95% Wilson interval {p.low:.0%}–{p.high:.0%})"
    )
