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
from review.templatetags.review_charts import HEIGHT, TICKS, WIDTH, _axes, _Frame, _svg, axes

register = template.Library()

LEFT, RIGHT, TOP, BOTTOM = 48, 14, 14, 42
# Up to six series: each has its own marker, dash pattern and fill pattern (and colour class).
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "bar")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
PATTERNS = ("solid", "hatch", "dots", "cross", "vertical", "horizontal")


def _pattern_defs(prefix: str) -> SafeString:
    """Fill patterns ``{prefix}-{name}``, each drawn in its own colour on white."""
    return mark_safe(  # noqa: S308 - fixed markup, the prefix is a slug chosen in this module
        "<defs>"
        f'<pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="pattern-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="ink-hatch" stroke-width="3"/></pattern>'
        f'<pattern id="{prefix}-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" class="pattern-bg"/>'
        '<circle cx="2.5" cy="2.5" r="1.5" class="ink-dots"/></pattern>'
        f'<pattern id="{prefix}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" class="pattern-bg"/>'
        '<path d="M0 0L6 6M6 0L0 6" class="ink-cross" stroke-width="1.4"/></pattern>'
        f'<pattern id="{prefix}-vertical" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" class="pattern-bg"/>'
        '<line x1="1" y1="0" x2="1" y2="4" class="ink-vertical" stroke-width="1.8"/></pattern>'
        f'<pattern id="{prefix}-horizontal" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" class="pattern-bg"/>'
        '<line x1="0" y1="1" x2="4" y2="1" class="ink-horizontal" stroke-width="1.8"/></pattern>'
        "</defs>"
    )


def _fill(prefix: str, index: int) -> str:
    """An inline style for series ``index``: solid ones take their colour from the stylesheet."""
    pattern = PATTERNS[index % len(PATTERNS)]
    return "" if pattern == "solid" else f"fill:url(#{prefix}-{pattern})"


def _marker(shape: str, x: float, y: float, size: float, css: str) -> SafeString:
    s = size
    shapes = {
        "circle": '<circle class="{c}" cx="{x}" cy="{y}" r="{s}"/>',
        "square": '<rect class="{c}" x="{x0}" y="{y0}" width="{d}" height="{d}"/>',
        "triangle": '<path class="{c}" d="M{x} {yt}L{xr} {yb}L{xl} {yb}Z"/>',
        "diamond": '<path class="{c}" d="M{x} {yt}L{xr} {y}L{x} {yb2}L{xl} {y}Z"/>',
        "cross": '<path class="{c} cross" d="M{xl} {yt}L{xr} {yb2}M{xr} {yt}L{xl} {yb2}"/>',
        "bar": '<rect class="{c}" x="{xl}" y="{y0b}" width="{d2}" height="{h}"/>',
    }
    return format_html(
        shapes[shape],
        c=css,
        x=x,
        y=y,
        s=round(s, 1),
        x0=round(x - s, 1),
        y0=round(y - s, 1),
        d=round(2 * s, 1),
        yt=round(y - s * 1.2, 1),
        yb=round(y + s * 0.9, 1),
        yb2=round(y + s * 1.2, 1),
        xl=round(x - s * 1.2, 1),
        xr=round(x + s * 1.2, 1),
        y0b=round(y - s * 0.5, 1),
        d2=round(2.4 * s, 1),
        h=round(s, 1),
    )


@register.simple_tag
def legend_swatch(index: int, kind: str = "line") -> SafeString:
    """The small picture a legend entry shows: the series' marker and dash, or its fill."""
    i = int(index)
    if kind == "fill":
        body = format_html(
            '{}<rect x="1" y="1" width="22" height="14" class="swatch-fill s{}" style="{}"/>',
            _pattern_defs(f"sw{i}"),
            i % len(PATTERNS),
            _fill(f"sw{i}", i),
        )
    else:
        body = format_html(
            '<line x1="1" y1="8" x2="23" y2="8" class="series s{}" stroke-dasharray="{}"/>{}',
            i % len(MARKERS),
            DASHES[i % len(DASHES)],
            _marker(MARKERS[i % len(MARKERS)], 12, 8, 4, f"pt s{i % len(MARKERS)}"),
        )
    return format_html(
        '<svg class="legend-swatch" viewBox="0 0 24 16" width="24" height="16" aria-hidden="true">'
        "{}</svg>",
        body,
    )


class _DayFrame:
    """Maps point ``i`` of ``n`` (days, in order) and a value in [y0, y1] to the plot area."""

    def __init__(self, n: int, y0: float = 0.0, y1: float = 1.0) -> None:
        self.n, self.y0, self.y1 = n, y0, y1

    def x(self, i: int) -> float:
        share = 0.5 if self.n <= 1 else i / (self.n - 1)
        return round(LEFT + 22 + share * (WIDTH - LEFT - RIGHT - 44), 1)

    def y(self, value: float) -> float:
        share = (value - self.y0) / (self.y1 - self.y0) if self.y1 > self.y0 else 0.0
        return round(TOP + (1 - max(0.0, min(1.0, share))) * (HEIGHT - TOP - BOTTOM), 1)


def _day_label(day: date | str) -> str:
    text = day.isoformat() if isinstance(day, date) else str(day)
    return text[5:] if len(text) == 10 else text


def _nice_ticks(y0: float, y1: float) -> list[float]:
    """Ticks at round steps (0.05, 0.1, 0.25) from y0 to y1: at most six of them."""
    span = y1 - y0
    step = next((s for s in (0.05, 0.1, 0.2, 0.25) if span / s <= 5), 0.25)
    first = -(-round(y0 / step, 6) // 1) * step
    ticks, t = [], first
    while t <= y1 + 1e-9:
        ticks.append(round(t, 4))
        t += step
    return ticks


def _day_axes(
    frame: _DayFrame,
    labels: Sequence[str],
    *,
    y_label: str,
    y_ticks: Sequence[float],
    percent: bool = False,
    x_label: str = "Day",
) -> SafeString:
    """Horizontal grid with value ticks, and at most six of the labels along the bottom."""
    step = max(1, -(-len(labels) // 6))
    return axes(
        x_ticks=[
            (frame.x(i), label)
            for i, label in enumerate(labels)
            if i % step == 0 or i == len(labels) - 1
        ],
        y_ticks=[(frame.y(t), f"{t:.0%}" if percent else f"{t:.3g}") for t in y_ticks],
        bottom=frame.y(frame.y0),
        top=frame.y(frame.y1),
        x_label=x_label,
        y_label=y_label,
        vertical_grid=False,
    )


def _bar(
    *, x: float, top: float, bottom: float, width: float, css: str, style: str, title: str
) -> SafeString:
    return format_html(
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}" style="{}"><title>{}</title></rect>',
        css,
        round(x - width / 2, 1),
        top,
        width,
        round(bottom - top, 1),
        style,
        title,
    )


def _alert_line(frame: _DayFrame, value: float, label: str) -> SafeString:
    y = frame.y(value)
    return format_html(
        '<line class="alert-line" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<text class="alert-label" x="{}" y="{}" text-anchor="end">{}</text>',
        LEFT,
        y,
        WIDTH - RIGHT,
        y,
        WIDTH - RIGHT - 2,
        y - 5,
        label,
    )


@register.simple_tag
def drift_chart(series: Sequence[DriftSeries]) -> SafeString:
    """Each drift score by day, with the alert line; a crossing is a filled, larger marker."""
    if not series:
        return mark_safe("")
    days = [p.day for p in series[0].points]
    line = series[0].line
    top = max([line * 1.5, *(p.distance or 0 for s in series for p in s.points)])
    y1 = 1.0 if top > 0.5 else 0.5
    frame = _DayFrame(len(days), 0.0, y1)
    body = [
        _day_axes(
            frame,
            [_day_label(d) for d in days],
            y_label="JS distance",
            y_ticks=_nice_ticks(0.0, y1),
        )
    ]
    body.append(_alert_line(frame, line, f"alert line {line:.2f}"))
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
                    _marker(MARKERS[k], frame.x(i), frame.y(p.distance or 0), size, css),
                    s.title,
                    p.day,
                    f"{p.distance:.3f}",
                    " (crossed the alert line)" if p.crossed else "",
                )
            )
    return _svg(
        "Drift scores by day: Jensen–Shannon distance of each figure from its reference, with "
        "the alert line; larger filled markers crossed it.",
        mark_safe("".join(body)),  # noqa: S308 - every part went through format_html
        "chart-drift",
    )


@register.simple_tag
def label_chart(columns: Sequence[LabelColumn]) -> SafeString:
    """Stacked bars: each day's share of predicted labels, the reference first."""
    if not columns:
        return mark_safe("")
    frame = _DayFrame(len(columns))
    n = len(columns)
    slot = (WIDTH - LEFT - RIGHT - 44) / max(n - 1, 1) if n > 1 else 60.0
    width = round(max(3.0, min(36.0, slot * 0.7)), 1)
    body = [
        _pattern_defs("lab"),
        _day_axes(
            frame,
            ["ref" if c.name == "reference" else _day_label(c.name) for c in columns],
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
                _bar(
                    x=frame.x(i),
                    top=frame.y(running + share.share),
                    bottom=frame.y(running),
                    width=width,
                    css=f"bar s{k % len(PATTERNS)}"
                    + (" reference" if column.name == "reference" else ""),
                    style=_fill("lab", k),
                    title=f"{column.name}: {share.label} {share.count} of {column.total} "
                    f"({share.share:.0%})",
                )
            )
            running += share.share
    return _svg(
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
    frame = _DayFrame(len(rows), 0.0, y1)
    slot = (WIDTH - LEFT - RIGHT - 44) / max(len(rows) - 1, 1)
    width = round(slot * 0.38, 1)
    body = [
        _pattern_defs("conf"),
        _day_axes(
            frame,
            [r.band.split("–")[0] for r in rows],
            y_label="Share of predictions",
            y_ticks=_nice_ticks(0.0, y1),
            percent=True,
            x_label="Confidence band (from)",
        ),
    ]
    for i, r in enumerate(rows):
        for offset, share, css, fill, who in (
            (-width / 2, r.live_share, "bar s0", "", "live"),
            (width / 2, r.reference_share, "bar s1 reference", _fill("conf", 1), "held-out"),
        ):
            if share is None:
                continue
            body.append(
                _bar(
                    x=frame.x(i) + offset,
                    top=frame.y(share),
                    bottom=frame.y(0),
                    width=width,
                    css=css,
                    style=fill,
                    title=f"{who} {r.band}: {share:.0%}",
                )
            )
    return _svg(
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
    frame = _Frame()
    largest = max(r.decided for r in rows) or 1
    bars = format_html_join(
        "",
        '<line class="interval" x1="{x}" y1="{lo}" x2="{x}" y2="{hi}"/>'
        '<line class="interval" x1="{xl}" y1="{lo}" x2="{xr}" y2="{lo}"/>'
        '<line class="interval" x1="{xl}" y1="{hi}" x2="{xr}" y2="{hi}"/>',
        (
            {
                "x": frame.x(r.confidence),
                "xl": frame.x(r.confidence) - 3,
                "xr": frame.x(r.confidence) + 3,
                "lo": frame.y(r.acceptance.low),
                "hi": frame.y(r.acceptance.high),
            }
            for r in rows
        ),
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
        _axes(frame, x_label="Confidence", y_label="Share accepted", y_ticks=TICKS),
        frame.x(0),
        frame.y(0),
        frame.x(1),
        frame.y(1),
        bars,
        dots,
    )
    return _svg(
        "Live reliability: share of reviewed predictions that people accepted, against their "
        "confidence, with 95% Wilson intervals; the dashed diagonal is perfect calibration.",
        body,
        "chart-live-reliability",
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
    frame = _DayFrame(len(points), y0, 1.0)
    upper = " ".join(f"{frame.x(i)},{frame.y(p.share.high)}" for i, p in measured if p.share)
    lower = " ".join(
        f"{frame.x(i)},{frame.y(p.share.low)}" for i, p in reversed(measured) if p.share
    )
    body = [
        _pattern_defs("prec"),
        _day_axes(
            frame,
            [_day_label(p.day) for p in points],
            y_label="Share confirmed",
            y_ticks=_nice_ticks(y0, 1.0),
            percent=True,
        ),
    ]
    if len(measured) > 1:
        body.append(
            format_html(
                '<polygon class="band" points="{} {}" style="{}"/>', upper, lower, _fill("prec", 2)
            )
        )
    if expected is not None:
        body.append(_alert_line(frame, expected, f"held-out {expected:.0%}"))
    body.append(
        format_html(
            '<polyline class="series s0" points="{}"/>',
            " ".join(f"{frame.x(i)},{frame.y(p.share.estimate)}" for i, p in measured if p.share),
        )
    )
    for i, p in measured:
        if p.share is None:
            continue
        x = frame.x(i)
        body.append(
            format_html(
                '<g><line class="interval" x1="{x}" y1="{lo}" x2="{x}" y2="{hi}"/>'
                '<line class="interval" x1="{xl}" y1="{lo}" x2="{xr}" y2="{lo}"/>'
                '<line class="interval" x1="{xl}" y1="{hi}" x2="{xr}" y2="{hi}"/></g>',
                x=x,
                xl=x - 4,
                xr=x + 4,
                lo=frame.y(p.share.low),
                hi=frame.y(p.share.high),
            )
        )
        body.append(
            format_html(
                "<g>{}<title>{}: {} of {} confirmed ({}, 95% interval {}–{})</title></g>",
                _marker("circle", x, frame.y(p.share.estimate), 4, "pt s0"),
                p.day,
                p.share.successes,
                p.share.n,
                f"{p.share.estimate:.0%}",
                f"{p.share.low:.0%}",
                f"{p.share.high:.0%}",
            )
        )
    return _svg(
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
