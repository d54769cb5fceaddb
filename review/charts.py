"""Pieces the app's charts are drawn with, as inline SVG: no chart library, no CDN.

The chart tags (``review/templatetags/review_charts.py`` and ``monitoring_charts.py``) put these
together. Each chart is an ``<svg role="img">`` with a text description; series are told apart
by shape, dash and fill pattern as well as colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 380, 270
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 14, 42
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


class Frame:
    """Maps values in [x0, x1] x [y0, y1] to the plot area."""

    def __init__(self, y0: float = 0.0, y1: float = 1.0) -> None:
        self.y0, self.y1 = y0, y1

    def x(self, value: float) -> float:
        return round(LEFT + max(0.0, min(1.0, value)) * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        share = (value - self.y0) / (self.y1 - self.y0) if self.y1 > self.y0 else 0.0
        return round(TOP + (1 - max(0.0, min(1.0, share))) * (HEIGHT - TOP - BOTTOM), 1)


def frame_axes(frame: Frame, *, x_label: str, y_label: str, y_ticks: Sequence[float]) -> SafeString:
    return axes(
        x_ticks=[(frame.x(t), f"{t:.3g}") for t in TICKS],
        y_ticks=[(frame.y(t), f"{t:.3g}") for t in y_ticks],
        bottom=frame.y(frame.y0),
        top=frame.y(frame.y1),
        x_label=x_label,
        y_label=y_label,
        vertical_grid=True,
    )


def axes(
    *,
    x_ticks: Sequence[tuple[float, str]],
    y_ticks: Sequence[tuple[float, str]],
    bottom: float,
    top: float,
    x_label: str,
    y_label: str,
    vertical_grid: bool,
) -> SafeString:
    """Both axes with their labels, a grid line per value tick, and the ticks' texts.

    Ticks are given as (position in the picture, text), so any chart's scale can use them.
    """
    left, right = LEFT, WIDTH - RIGHT
    parts = [_y_tick(y, text) for y, text in y_ticks]
    parts += [_x_tick(x, text, top, bottom, vertical_grid) for x, text in x_ticks]
    parts.append(
        format_html(
            '<line class="axis" x1="{x0}" y1="{b}" x2="{x1}" y2="{b}"/>'
            '<line class="axis" x1="{x0}" y1="{b}" x2="{x0}" y2="{t}"/>'
            '<text class="axis-label" x="{mid}" y="{xl}" text-anchor="middle">{xlabel}</text>'
            '<text class="axis-label" x="12" y="{ymid}" text-anchor="middle" '
            'transform="rotate(-90 12 {ymid})">{ylabel}</text>',
            x0=left,
            x1=right,
            b=bottom,
            t=top,
            mid=(left + right) / 2,
            xl=HEIGHT - 4,
            ymid=(top + bottom) / 2,
            xlabel=x_label,
            ylabel=y_label,
        )
    )
    return mark_safe("".join(parts))  # noqa: S308 - every part went through format_html


def _y_tick(y: float, text: str) -> SafeString:
    """A horizontal grid line at a value tick, with its text left of the axis."""
    return format_html(
        '<line class="grid" x1="{}" y1="{y}" x2="{}" y2="{y}"/>'
        '<text class="tick" x="{}" y="{y}" text-anchor="end" dominant-baseline="middle">'
        "{}</text>",
        LEFT,
        WIDTH - RIGHT,
        LEFT - 6,
        text,
        y=y,
    )


def _x_tick(x: float, text: str, top: float, bottom: float, grid: bool) -> SafeString:
    """A tick's text under the axis, with a vertical grid line if the chart has them."""
    return format_html(
        '{}<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
        format_html('<line class="grid" x1="{x}" y1="{}" x2="{x}" y2="{}"/>', top, bottom, x=x)
        if grid
        else "",
        x,
        bottom + 16,
        text,
    )


def interval_marks(x: float, low: float, high: float, half_width: float) -> SafeString:
    """An interval drawn as an error bar at ``x``, from ``low`` to ``high`` (picture units)."""
    return format_html(
        '<line class="interval" x1="{x}" y1="{lo}" x2="{x}" y2="{hi}"/>'
        '<line class="interval" x1="{xl}" y1="{lo}" x2="{xr}" y2="{lo}"/>'
        '<line class="interval" x1="{xl}" y1="{hi}" x2="{xr}" y2="{hi}"/>',
        x=x,
        xl=x - half_width,
        xr=x + half_width,
        lo=low,
        hi=high,
    )


def svg(description: str, body: SafeString, css_class: str) -> SafeString:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        css_class,
        WIDTH,
        HEIGHT,
        description,
        body,
    )


# Up to six series: each has its own marker, dash pattern and fill pattern (and colour class).
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "bar")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")
PATTERNS = ("solid", "hatch", "dots", "cross", "vertical", "horizontal")


def pattern_defs(prefix: str) -> SafeString:
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


def pattern_fill(prefix: str, index: int) -> str:
    """An inline style for series ``index``: solid ones take their colour from the stylesheet."""
    pattern = PATTERNS[index % len(PATTERNS)]
    return "" if pattern == "solid" else f"fill:url(#{prefix}-{pattern})"


def point_marker(shape: str, x: float, y: float, size: float, css: str) -> SafeString:
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


class DayFrame:
    """Maps point ``i`` of ``n`` (days, in order) and a value in [y0, y1] to the plot area."""

    def __init__(self, n: int, y0: float = 0.0, y1: float = 1.0) -> None:
        self.n, self.y0, self.y1 = n, y0, y1

    def x(self, i: int) -> float:
        share = 0.5 if self.n <= 1 else i / (self.n - 1)
        return round(LEFT + 22 + share * (WIDTH - LEFT - RIGHT - 44), 1)

    def y(self, value: float) -> float:
        share = (value - self.y0) / (self.y1 - self.y0) if self.y1 > self.y0 else 0.0
        return round(TOP + (1 - max(0.0, min(1.0, share))) * (HEIGHT - TOP - BOTTOM), 1)


def day_label(day: date | str) -> str:
    text = day.isoformat() if isinstance(day, date) else str(day)
    return text[5:] if len(text) == 10 else text


def nice_ticks(y0: float, y1: float) -> list[float]:
    """Ticks at round steps (0.05, 0.1, 0.25) from y0 to y1: at most six of them."""
    span = y1 - y0
    step = next((s for s in (0.05, 0.1, 0.2, 0.25) if span / s <= 5), 0.25)
    first = -(-round(y0 / step, 6) // 1) * step
    ticks, t = [], first
    while t <= y1 + 1e-9:
        ticks.append(round(t, 4))
        t += step
    return ticks


def day_axes(
    frame: DayFrame,
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


def bar_rect(
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


def alert_line(frame: DayFrame, value: float, label: str) -> SafeString:
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
