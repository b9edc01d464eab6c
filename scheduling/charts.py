"""Geometry of the dashboard's charts, drawn by the server as SVG. Pure Python.

Each function takes plain numbers and returns the coordinates a template writes into an
``<svg>``: no script runs in the browser, and a chart is as readable with script off.
Sizes are in SVG user units; the ``viewBox`` makes the drawing scale to its box.
Coordinates are given as strings with one decimal (``xy``), ready for an attribute: the
template neither rounds nor localizes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LABEL_WIDTH = 150


def xy(value: float | None) -> str | None:
    """Return a coordinate as an SVG attribute value, one decimal, no locale."""
    return None if value is None else f"{value:.1f}"


BAR_HEIGHT = 20
BAR_GAP = 8
TOP = 6


@dataclass
class Segment:
    css: str
    value: float
    x: str
    width: str


@dataclass
class Bar:
    label: str
    y: float
    total: float
    segments: list[Segment] = field(default_factory=list)
    text_x: str = "0"
    text_y: str = "0"
    capacity_width: str | None = None
    note: str = ""


@dataclass
class BarChart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]
    bar_height: int = BAR_HEIGHT


def _scale(largest: float, room: float) -> float:
    return room / largest if largest > 0 else 0.0


def stacked_bars(items: list[tuple[str, list[tuple[str, float]]]], *, width: int = 460) -> BarChart:
    """Return horizontal bars, one per (label, [(css class, value), ...]), stacked left to
    right on one scale; the total is written after each bar."""
    room = width - LABEL_WIDTH - 40
    largest = max((sum(v for _c, v in parts) for _l, parts in items), default=0)
    scale = _scale(largest, room)
    bars = []
    for index, (label, parts) in enumerate(items):
        y = TOP + index * (BAR_HEIGHT + BAR_GAP)
        x = float(LABEL_WIDTH)
        bar = Bar(label=label, y=y, total=sum(v for _c, v in parts))
        for css, value in parts:
            if value <= 0:
                continue
            bar.segments.append(Segment(css=css, value=value, x=xy(x), width=xy(value * scale)))
            x += value * scale
        bar.text_x = xy(x + 4)
        bar.text_y = xy(y + BAR_HEIGHT * 0.72)
        bars.append(bar)
    height = TOP * 2 + len(items) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(width=width, height=max(height, 30), label_width=LABEL_WIDTH, bars=bars)


def load_bars(
    items: list[tuple[str, float, float]],
    *,
    width: int = 460,
    label_width: int = LABEL_WIDTH,
    note_width: int = 60,
) -> BarChart:
    """Return one bar per (label, load, capacity): the capacity as a pale bar, the load over
    it (``bar-over`` past the capacity), both on one scale; "load/capacity" after it, in
    ``note_width`` left for it."""
    room = width - label_width - note_width
    largest = max((max(load, capacity) for _l, load, capacity in items), default=0)
    scale = _scale(largest, room)
    bars = []
    for index, (label, load, capacity) in enumerate(items):
        y = TOP + index * (BAR_HEIGHT + BAR_GAP)
        css = "bar-over" if load > capacity else "bar-load"
        bar = Bar(
            label=label,
            y=y,
            total=load,
            segments=[Segment(css=css, value=load, x=xy(label_width), width=xy(load * scale))]
            if load > 0
            else [],
            capacity_width=xy(capacity * scale),
            note=f"{load:g}/{capacity:g}",
        )
        bar.text_x = xy(label_width + max(load, capacity) * scale + 4)
        bar.text_y = xy(y + BAR_HEIGHT * 0.72)
        bars.append(bar)
    height = TOP * 2 + len(items) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(width=width, height=max(height, 30), label_width=label_width, bars=bars)


@dataclass
class Point:
    label: str
    x: str
    y: str | None
    value: float | None


@dataclass
class Series:
    css: str
    points: list[Point]

    @property
    def path(self) -> str:
        """The SVG path: a gap where a value is missing (a month without energizations)."""
        parts, pen_down = [], False
        for point in self.points:
            if point.y is None:
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{point.x},{point.y}")
            pen_down = True
        return " ".join(parts)


@dataclass
class Tick:
    value: float
    y: str


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    bottom: float
    right: float
    series: list[Series]
    ticks: list[Tick]
    labels: list[Point]


def line_chart(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    width: int = 460,
    height: int = 220,
) -> LineChart:
    """Return lines over shared x labels, on a y scale from 0 to a round number above the
    largest value, with four gridlines."""
    left, right, top, bottom = 40, width - 10, 10, height - 28
    values = [v for _css, vs in series for v in vs if v is not None]
    step = _nice_step(max(values, default=0) / 4)
    ceiling = step * 4
    step_x = (right - left) / max(len(labels) - 1, 1)

    def y_of(value):
        return None if value is None else xy(bottom - (bottom - top) * float(value) / ceiling)

    def x_of(index):
        return xy(left + index * step_x if len(labels) > 1 else (left + right) / 2)

    return LineChart(
        width=width,
        height=height,
        left=left,
        bottom=bottom,
        right=right,
        series=[
            Series(
                css=css,
                points=[
                    Point(label=labels[i], x=x_of(i), y=y_of(v), value=v) for i, v in enumerate(vs)
                ],
            )
            for css, vs in series
        ],
        ticks=[Tick(value=step * i, y=y_of(step * i)) for i in range(5)],
        labels=[
            Point(label=label, x=x_of(i), y=xy(bottom + 16), value=None)
            for i, label in enumerate(labels)
        ],
    )


def _nice_step(raw: float) -> float:
    """Return 1, 2, 2.5 or 5 times a power of ten, the smallest at least ``raw`` (≥ 1)."""
    if raw <= 1:
        return 1
    power = 1
    while power * 10 <= raw:
        power *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


@dataclass
class SCurve:
    """The distribution of a finish date: the share of runs finished by each day, as a
    step line, with the commitment and the 80 % level marked."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    path: str
    ticks: list[Tick]
    labels: list[Point]
    committed_x: str | None
    p80_y: str


def s_curve(
    points: list[tuple[int, float]],
    *,
    committed: int | None,
    labels: dict[int, str],
    width: int = 460,
    height: int = 200,
) -> SCurve:
    """Return the S-curve of ``points`` (day number, share finished by it; days ascending,
    shares rising to 1) with ``committed`` (a day number) marked and the days of ``labels``
    written under the axis. The x scale spans the curve and the commitment, a day on each
    side."""
    left, right, top, bottom = 40, width - 12, 10, height - 28
    days = [day for day, _share in points] + ([committed] if committed is not None else [])
    first, last = min(days) - 1, max(days) + 1
    step_x = (right - left) / (last - first)

    def x_of(day: int) -> float:
        return left + (day - first) * step_x

    def y_of(share: float) -> float:
        return bottom - (bottom - top) * share

    parts = [f"M{xy(x_of(first))},{xy(y_of(0))}"]
    for day, share in points:
        # Nothing finishes before a day's end: the share rises over the day itself.
        parts.append(f"H{xy(x_of(day - 1))}")
        parts.append(f"L{xy(x_of(day))},{xy(y_of(share))}")
    parts.append(f"H{xy(x_of(last))}")
    return SCurve(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        path=" ".join(parts),
        ticks=[Tick(value=share * 100, y=xy(y_of(share))) for share in (0, 0.5, 1)],
        labels=[
            Point(label=text, x=xy(x_of(day)), y=xy(bottom + 16), value=None)
            for day, text in sorted(labels.items())
        ],
        committed_x=xy(x_of(committed)) if committed is not None else None,
        p80_y=xy(y_of(0.8)),
    )
